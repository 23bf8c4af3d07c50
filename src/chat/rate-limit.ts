/**
 * @module Rate limits: token buckets keyed by a string (a user id, an account, an address), in
 * this node's memory (buckets that refilled completely are forgotten, so idle keys cost nothing)
 * or shared by every node (a store such as Redis, store/rate-limit-redis.ts).
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

/**
 * Buckets several nodes share, debited after the fact (messages): the send path never waits on
 * the shared store, it only learns from each debit whether the bucket ran dry.
 */
export interface SharedDebits {
  /**
   * Takes each key's count from its bucket (a negative count gives tokens back); resolves, in the
   * same order, how many ms until each bucket holds a token again (0: it does now).
   */
  debit(counts: ReadonlyArray<readonly [key: string, count: number]>): Promise<number[]>
}

/** Makes shared debit buckets: one bucket space per `name`. */
export type SharedDebitLimits = (name: string, options: RateLimitOptions) => SharedDebits

/** How often a node settles its sends with the shared buckets. */
export const DEBIT_EVERY_MS = 100

/**
 * This node's buckets decide at once; what they let through is debited from the shared buckets
 * every `DEBIT_EVERY_MS`, and a key whose shared bucket ran dry (its sends on other nodes) is
 * refused here until it refills. So the limit holds across nodes, give or take what one node lets
 * through in one interval; while the store does not answer, each node's own buckets still hold.
 * @example const sends = withSharedDebits(createRateLimiter(options), shared, options)
 */
export function withSharedDebits(
  local: RateLimiter,
  shared: SharedDebits,
  { message, now = Date.now }: Pick<RateLimitOptions, 'message' | 'now'>
): RateLimiter {
  /** Tokens taken (or given back) since the last debit, by key. */
  let owed = new Map<string, number>()
  /** Keys whose shared bucket is dry, until when. */
  const dryUntil = new Map<string, number>()
  let timer: Timer | undefined

  const owe = (key: string, count: number) => {
    owed.set(key, (owed.get(key) ?? 0) + count)
    if (timer) return
    timer = setTimeout(settle, DEBIT_EVERY_MS)
    timer.unref?.()
  }

  function settle(): void {
    timer = undefined
    const counts = [...owed].filter(([, count]) => count !== 0)
    owed = new Map()
    const at = now()
    for (const [key, until] of dryUntil) if (until <= at) dryUntil.delete(key)
    if (counts.length === 0) return
    shared.debit(counts).then(
      (waits) => {
        const settled = now()
        counts.forEach(([key], i) => {
          const wait = waits[i] ?? 0
          if (wait > 0) dryUntil.set(key, settled + wait)
          else dryUntil.delete(key)
        })
      },
      // The store is down (the Redis link logs it): this node's buckets are the limit meanwhile.
      () => {}
    )
  }

  return {
    take(key) {
      const until = dryUntil.get(key)
      if (until !== undefined) {
        const wait = until - now()
        if (wait > 0) return fail('rate_limited', message, { retryAfterMs: Math.ceil(wait) })
        dryUntil.delete(key)
      }
      const allowed = local.take(key)
      if (allowed.ok) owe(key, 1)
      return allowed
    },
    refund(key) {
      local.refund(key)
      owe(key, -1)
    },
    reset(key) {
      local.reset(key)
      dryUntil.delete(key)
    },
    get size() {
      return local.size
    },
  }
}
