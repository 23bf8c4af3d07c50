/**
 * @module Login throttling: attempts per account and per client address, each a token bucket that
 * refills over a window. Over the limit: 429 `rate_limited` with `details.retryAfterMs` and a
 * `Retry-After` header. With `shared` (Redis) every node counts against the same buckets; without
 * it, or while Redis does not answer, each node keeps its own.
 */
import type { Context, MiddlewareHandler } from 'hono'
import {
  type RateLimitOptions,
  type SharedRateLimits,
  sharedOrLocal,
} from '../../chat/rate-limit.ts'
import type { AppError } from '../../errors.ts'
import { addressOf } from '../client-info.ts'
import type { AppEnv } from '../env.ts'
import { sendError } from './errors.ts'

export interface LoginThrottleOptions {
  /** Attempts one account may see per window (a successful login refills it). */
  perAccount: number
  /** Login attempts one address may make per window (any accounts). */
  perAddress: number
  /** Registrations one address may attempt per window (each costs an argon2 hash too). */
  registerPerAddress: number
  windowMs: number
  now?: () => number
  /** Buckets every node shares (scale-out.ts makes them in Redis). */
  shared?: SharedRateLimits
}

export interface LoginThrottle {
  /** For /login: counts against the address and the named account. */
  check: MiddlewareHandler<AppEnv>
  /** For /register: counts against the address. */
  checkRegister: MiddlewareHandler<AppEnv>
  /** Call after a successful login so the owner is not locked out by earlier typos. */
  succeeded(login: string): Promise<void>
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
  perAccount,
  perAddress,
  registerPerAddress,
  windowMs,
  now,
  shared,
}: LoginThrottleOptions): LoginThrottle {
  const limiter = (name: string, perWindow: number) => {
    const options: RateLimitOptions = {
      burst: perWindow,
      refill: perWindow,
      perMs: windowMs,
      message: 'too many attempts; wait and try again',
      ...(now ? { now } : {}),
    }
    return sharedOrLocal(shared?.(name, options), options)
  }
  const accounts = limiter('login-account', perAccount)
  const addresses = limiter('login-address', perAddress)
  const registrations = limiter('register-address', registerPerAddress)

  return {
    async check(c, next) {
      const byAddress = await addresses.take(addressOf(c))
      if (!byAddress.ok) return refuse(c, byAddress.error)
      const account = await accountOf(c)
      if (account !== undefined) {
        const byAccount = await accounts.take(account)
        if (!byAccount.ok) return refuse(c, byAccount.error)
      }
      await next()
    },
    async checkRegister(c, next) {
      const byAddress = await registrations.take(addressOf(c))
      if (!byAddress.ok) return refuse(c, byAddress.error)
      await next()
    },
    succeeded: (login) => accounts.reset(login.trim().toLowerCase()),
  }
}
