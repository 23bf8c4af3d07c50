/**
 * @module Session: the access token in memory only; the refresh token is an HttpOnly cookie the
 * page never sees (scoped to /api/auth/refresh). One shared, single-flight refresh for REST and
 * socket. localStorage keeps only the profile and a flag that a login exists, never a token.
 */
import type { User } from './types.ts'

const USER = 'user'
/** Set while logged in, so a visitor's first load does not ask for a refresh it cannot have. */
const SIGNED_IN = 'signedIn'
/** Asks the server for cookie mode; on /refresh it is also the CSRF guard. */
export const COOKIE_MODE = { 'x-refresh-cookie': '1' } as const

let accessToken: string | null = null

export const readAccessToken = (): string | null => accessToken

export function saveAccessToken(token: string): void {
  accessToken = token
  localStorage.setItem(SIGNED_IN, '1')
}

export const wasSignedIn = (): boolean => localStorage.getItem(SIGNED_IN) === '1'

export function readUser(): User | null {
  try {
    const raw = localStorage.getItem(USER)
    return raw ? (JSON.parse(raw) as User) : null
  } catch {
    return null
  }
}

export function saveUser(user: User): void {
  localStorage.setItem(USER, JSON.stringify(user))
}

export function clearSession(): void {
  accessToken = null
  for (const key of [USER, SIGNED_IN, 'accessToken', 'refreshToken']) localStorage.removeItem(key)
}

let inflight: Promise<string | null> | null = null

/**
 * A new access token from the refresh cookie. The cookie rotates on every refresh, so concurrent
 * callers share one request and tabs take turns with a Web Lock (a reload mid-refresh is covered
 * by the server's grace for a just-rotated token). Resolves null when the session is gone (the
 * caller logs out); on a transient failure it resolves the token it had.
 */
export function refreshAccessToken(): Promise<string | null> {
  inflight ??= withLock(doRefresh).finally(() => {
    inflight = null
  })
  return inflight
}

async function doRefresh(): Promise<string | null> {
  try {
    const res = await fetch('/api/auth/refresh', { method: 'POST', headers: COOKIE_MODE })
    if (res.status === 401 || res.status === 403 || res.status === 400) {
      clearSession()
      return null
    }
    // A transient failure (5xx, 429) keeps the session; the caller's retry reports the error.
    if (!res.ok) return accessToken
    const body = (await res.json()) as { accessToken?: unknown }
    if (typeof body.accessToken !== 'string') return accessToken
    saveAccessToken(body.accessToken)
    return body.accessToken
  } catch {
    // Offline: keep the session, the caller retries later.
    return accessToken
  }
}

function withLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks
  return locks ? locks.request('mycommunity-token-refresh', task) : task()
}
