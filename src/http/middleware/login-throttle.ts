/**
 * @module Login throttling: attempts per account and per client address, each a token bucket that
 * refills over a window. Over the limit: 429 `rate_limited` with `details.retryAfterMs` and a
 * `Retry-After` header. Buckets live in this process (per node).
 */
import type { Context, MiddlewareHandler } from 'hono'
import { createRateLimiter } from '../../chat/rate-limit.ts'
import type { AppError } from '../../errors.ts'
import type { AppEnv } from '../env.ts'
import { sendError } from './errors.ts'

export interface LoginThrottleOptions {
  /** Attempts one account may see per window (a successful login refills it). */
  perAccount?: number
  /** Login attempts one address may make per window (any accounts). */
  perAddress?: number
  windowMs?: number
  now?: () => number
}

export interface LoginThrottle {
  /** For /login: counts against the address and the named account. */
  check: MiddlewareHandler<AppEnv>
  /** Call after a successful login so the owner is not locked out by earlier typos. */
  succeeded(login: string): void
}

/** The caller's address as Bun saw it; behind a proxy every client shares the proxy's. */
function addressOf(c: Context<AppEnv>): string {
  return c.env?.server?.requestIP(c.req.raw)?.address ?? 'unknown'
}

/** The account a login body names, normalised like the lookup (case-insensitive). */
async function accountOf(c: Context<AppEnv>): Promise<string | undefined> {
  try {
    const body: unknown = JSON.parse(await c.req.text())
    const login = (body as { login?: unknown } | null)?.login
    return typeof login === 'string' ? login.trim().toLowerCase() : undefined
  } catch {
    return undefined // the route answers invalid_input
  }
}

function refuse(c: Context<AppEnv>, error: AppError): Response {
  const retryAfterMs = (error.details as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 0
  c.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))))
  return sendError(c, error)
}

/**
 * @example
 * const throttle = createLoginThrottle({ perAccount: 10, perAddress: 100, windowMs: 900_000 })
 * app.post('/login', throttle.check, handler)
 */
export function createLoginThrottle({
  perAccount = 10,
  perAddress = 100,
  windowMs = 15 * 60_000,
  now,
}: LoginThrottleOptions = {}): LoginThrottle {
  const message = 'too many attempts; wait and try again'
  const accounts = createRateLimiter({
    burst: perAccount,
    refill: perAccount,
    perMs: windowMs,
    message,
    ...(now ? { now } : {}),
  })
  const addresses = createRateLimiter({
    burst: perAddress,
    refill: perAddress,
    perMs: windowMs,
    message,
    ...(now ? { now } : {}),
  })

  return {
    async check(c, next) {
      const byAddress = addresses.take(addressOf(c))
      if (!byAddress.ok) return refuse(c, byAddress.error)
      const account = await accountOf(c)
      if (account !== undefined) {
        const byAccount = accounts.take(account)
        if (!byAccount.ok) return refuse(c, byAccount.error)
      }
      await next()
    },
    succeeded(login) {
      accounts.reset(login.trim().toLowerCase())
    },
  }
}
