/** @module Session: tokens in localStorage and one shared, single-flight refresh for REST and socket. */
import type { User } from './types.ts'

const ACCESS = 'accessToken'
const REFRESH = 'refreshToken'
const USER = 'user'

export interface Tokens {
  accessToken: string
  refreshToken: string
}

export function readTokens(): Tokens | null {
  const accessToken = localStorage.getItem(ACCESS)
  const refreshToken = localStorage.getItem(REFRESH)
  return accessToken && refreshToken ? { accessToken, refreshToken } : null
}

export function saveTokens(tokens: Tokens): void {
  localStorage.setItem(ACCESS, tokens.accessToken)
  localStorage.setItem(REFRESH, tokens.refreshToken)
}

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
  for (const key of [ACCESS, REFRESH, USER]) localStorage.removeItem(key)
}

let inflight: Promise<Tokens | null> | null = null

/**
 * Exchanges the refresh token for a new pair. Refresh tokens rotate and reusing an old one
 * revokes the whole family (contract.md, REST), so concurrent callers share one request, and
 * tabs take a Web Lock and adopt a pair another tab already rotated instead of reusing theirs.
 * Resolves null when the session is gone (the caller logs out).
 */
export function refreshTokens(staleAccessToken: string | null): Promise<Tokens | null> {
  inflight ??= withLock(() => doRefresh(staleAccessToken)).finally(() => {
    inflight = null
  })
  return inflight
}

async function doRefresh(staleAccessToken: string | null): Promise<Tokens | null> {
  const current = readTokens()
  if (!current) return null
  // Another tab refreshed while we waited for the lock: its pair is the live one.
  if (staleAccessToken && current.accessToken !== staleAccessToken) return current
  try {
    const res = await fetch('/api/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: current.refreshToken }),
    })
    if (res.status === 401 || res.status === 403 || res.status === 400) {
      clearSession()
      return null
    }
    // A transient failure (5xx, 429) keeps the session; the caller's retry reports the error.
    if (!res.ok) return current
    const body = (await res.json()) as Partial<Tokens>
    if (typeof body.accessToken !== 'string' || typeof body.refreshToken !== 'string')
      return current
    const tokens = { accessToken: body.accessToken, refreshToken: body.refreshToken }
    saveTokens(tokens)
    return tokens
  } catch {
    // Offline: keep the session, the caller retries later.
    return readTokens()
  }
}

function withLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks
  return locks ? locks.request('mycommunity-token-refresh', task) : task()
}
