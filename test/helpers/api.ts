/** @module Test HTTP helpers: one fetch wrapper and a user factory with unique names. */

export interface ApiResponse<T = any> {
  status: number
  body: T
  headers: Headers
}

export interface ApiOptions {
  token?: string
  /** Sent as JSON. */
  body?: unknown
  /** Sent as is (for malformed input). */
  rawBody?: string
  headers?: Record<string, string>
}

/** An answer as the wire carries it, before any parsing (non-JSON bodies, exact types). */
export interface RawResponse {
  status: number
  headers: Headers
  text: string
}

/**
 * @example const res = await fetchRaw(url, 'GET', '/api/users/me/export', { token })
 */
export async function fetchRaw(
  url: string,
  method: string,
  path: string,
  { token, body, rawBody, headers = {} }: ApiOptions = {}
): Promise<RawResponse> {
  const init: RequestInit = {
    method,
    headers: {
      ...(body !== undefined || rawBody !== undefined
        ? { 'content-type': 'application/json' }
        : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
  }
  if (rawBody !== undefined) init.body = rawBody
  else if (body !== undefined) init.body = JSON.stringify(body)
  const res = await fetch(`${url}${path}`, init)
  return { status: res.status, headers: res.headers, text: await res.text() }
}

/**
 * @example const res = await api(url, 'GET', '/api/auth/me', { token })
 */
export async function api<T = any>(
  url: string,
  method: string,
  path: string,
  options: ApiOptions = {}
): Promise<ApiResponse<T>> {
  const { status, headers, text } = await fetchRaw(url, method, path, options)
  return { status, body: text ? JSON.parse(text) : null, headers }
}

export interface RegisteredUser {
  user: { _id: string; username: string; full_name: string; email: string; [key: string]: unknown }
  accessToken: string
  refreshToken: string
  password: string
}

/**
 * Request options as `who` (their access token), to spread a body or headers into.
 * @example const res = await api(url, 'GET', '/api/auth/me', as(alice))
 */
export const as = (who: RegisteredUser) => ({ token: who.accessToken })

let counter = 0

/** Registers a fresh user (unique username/email per call) and returns its session. */
export async function registerUser(
  url: string,
  overrides: Partial<{ username: string; email: string; full_name: string; password: string }> = {}
): Promise<RegisteredUser> {
  counter += 1
  const tag = `${Date.now().toString(36)}${counter}${Math.random().toString(36).slice(2, 6)}`
  const input = {
    username: `user_${tag}`,
    email: `user_${tag}@example.test`,
    full_name: `User ${counter}`,
    password: 'correct-horse-battery',
    ...overrides,
  }
  const res = await api(url, 'POST', '/api/auth/register', { body: input })
  if (res.status !== 201)
    throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`)
  return { ...res.body, password: input.password }
}
