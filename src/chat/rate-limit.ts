/**
 * @module Rate limits: token buckets keyed by a string (a user id, an account, an address). Pure
 * apart from the injectable clock; buckets that refilled completely are forgotten, so idle keys
 * cost nothing.
 */
import { fail, ok, type Result } from '../errors.ts'

export interface RateLimitOptions {
  /** Most actions allowed at once (the bucket's size). */
  burst: number
  /** Tokens added back per `perMs` milliseconds. */
  refill: number
  perMs: number
  /** What the refusal says, e.g. 'too many messages'. */
  message: string
  now?: () => number
}

export interface RateLimiter {
  /** Takes one token for `key`; refuses with `rate_limited` and `details.retryAfterMs`. */
  take(key: string): Result<null>
  /** Gives back the token of an action that turned out not to count (a duplicate send). */
  refund(key: string): void
  /** Gives `key` a full bucket again (e.g. after a successful login). */
  reset(key: string): void
  /** How many keys are tracked (for tests and metrics). */
  readonly size: number
}

interface Bucket {
  tokens: number
  at: number
}

/** Forgetting full buckets is done at most this often, so `take` stays O(1) amortised. */
const SWEEP_EVERY = 1_000

/**
 * @example
 * const messages = createRateLimiter({ burst: 10, refill: 5, perMs: 1_000, message: 'too many messages' })
 * const allowed = messages.take(user.id)
 * if (!allowed.ok) return allowed // { code: 'rate_limited', details: { retryAfterMs } }
 */
export function createRateLimiter({
  burst,
  refill,
  perMs,
  message,
  now = Date.now,
}: RateLimitOptions): RateLimiter {
  const buckets = new Map<string, Bucket>()
  const ratePerMs = refill / perMs
  let takes = 0

  const level = (bucket: Bucket, at: number): number =>
    Math.min(burst, bucket.tokens + (at - bucket.at) * ratePerMs)

  const sweep = (at: number) => {
    for (const [key, bucket] of buckets) if (level(bucket, at) >= burst) buckets.delete(key)
  }

  return {
    take(key) {
      const at = now()
      if (++takes % SWEEP_EVERY === 0) sweep(at)
      const bucket = buckets.get(key) ?? { tokens: burst, at }
      const tokens = level(bucket, at)
      if (tokens < 1) {
        buckets.set(key, { tokens, at })
        const retryAfterMs = Math.ceil((1 - tokens) / ratePerMs)
        return fail('rate_limited', message, { retryAfterMs })
      }
      buckets.set(key, { tokens: tokens - 1, at })
      return ok(null)
    },
    refund(key) {
      const bucket = buckets.get(key)
      if (bucket) bucket.tokens = Math.min(burst, bucket.tokens + 1)
    },
    reset(key) {
      buckets.delete(key)
    },
    get size() {
      return buckets.size
    },
  }
}

/** A limiter that never refuses: for a limit configured as 0 (off). */
export const UNLIMITED: RateLimiter = {
  take: () => ok(null),
  refund() {},
  reset() {},
  size: 0,
}

/**
 * A limiter whose buckets several nodes share (login attempts, with Redis): every call waits on
 * the shared store.
 */
export interface SharedRateLimiter {
  take(key: string): Promise<Result<null>>
  reset(key: string): Promise<void>
}

/** Makes shared limiters: one bucket space per `name`. */
export type SharedRateLimits = (name: string, options: RateLimitOptions) => SharedRateLimiter

/**
 * The shared limiter while its store answers; this node's own buckets when it does not (Redis
 * down, which the Redis link logs), so limits still hold per node rather than not at all.
 * @example const accounts = sharedOrLocal(sharedLimits?.('login-account', options), options)
 */
export function sharedOrLocal(
  shared: SharedRateLimiter | undefined,
  options: RateLimitOptions
): SharedRateLimiter {
  const local = createRateLimiter(options)
  if (!shared) {
    return { take: async (key) => local.take(key), reset: async (key) => local.reset(key) }
  }
  return {
    take: (key) => shared.take(key).catch(() => local.take(key)),
    reset: async (key) => {
      local.reset(key)
      await shared.reset(key).catch(() => undefined)
    },
  }
}
