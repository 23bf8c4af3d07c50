/**
 * @module Token buckets in Redis, so every node counts against the same limits. Login attempts
 * take a token each (one Lua script per take: refill by elapsed time, take a token or answer how
 * long until one); messages are debited in batches after the fact (one script for all the keys a
 * node settles at once), see chat/rate-limit.ts.
 */
import { fail, ok, type Result } from '../errors.ts'
import { type RedisLink, withTimeout } from './redis-link.ts'

export interface RedisBucketOptions {
  burst: number
  refill: number
  perMs: number
  message: string
  now?: () => number
}

/** KEYS[1] the bucket; ARGV burst, tokens per ms, now (ms), expiry (ms). Floats go back as text. */
const TAKE = String.raw`
local burst, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local taken = tokens >= 1
if taken then tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if taken then return {1, '0'} end
return {0, tostring(math.ceil((1 - tokens) / rate))}`

/**
 * KEYS the buckets; ARGV burst, tokens per ms, now (ms), then each key's count. A bucket may go
 * below zero (sends other nodes let through): it answers the wait until it holds a token again.
 */
const DEBIT = String.raw`
local burst, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local waits = {}
for i, key in ipairs(KEYS) do
  local bucket = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(bucket[1]) or burst
  local at = tonumber(bucket[2]) or now
  -- Refilled up to the burst, then debited (a negative count gives back, never past the burst).
  tokens = math.min(burst, math.min(burst, tokens + math.max(0, now - at) * rate) - tonumber(ARGV[3 + i]))
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.max(1, math.ceil((burst - tokens) / rate)))
  waits[i] = tokens >= 1 and '0' or tostring(math.ceil((1 - tokens) / rate))
end
return waits`

/** A Redis call waits at most this long; then the caller falls back (chat/rate-limit.ts). */
const COMMAND_TIMEOUT_MS = 1_000

/** While the link is known to be down, a call fails at once (the caller falls back) instead of waiting. */
const sender = (link: RedisLink) => (command: string, args: string[]) =>
  link.up
    ? withTimeout(link.commands.send(command, args), COMMAND_TIMEOUT_MS, 'rate limit')
    : Promise.reject(new Error('rate limit: the Redis link is down'))

/**
 * @example
 * const accounts = createRedisRateLimiter(link, 'mc:limit:login-account', { burst: 10, refill: 10, perMs: 900_000, message })
 * const allowed = await accounts.take('alice')
 */
export function createRedisRateLimiter(
  link: RedisLink,
  prefix: string,
  { burst, refill, perMs, message, now = Date.now }: RedisBucketOptions
) {
  const ratePerMs = refill / perMs
  // A bucket left alone this long is full again: Redis forgets it.
  const expiryMs = String(Math.ceil(burst / ratePerMs))
  const send = sender(link)
  return {
    async take(key: string): Promise<Result<null>> {
      const bucket = `${prefix}:${key}`
      const [taken, retryAfterMs] = (await send('EVAL', [
        TAKE,
        '1',
        bucket,
        String(burst),
        String(ratePerMs),
        String(now()),
        expiryMs,
      ])) as [number, string]
      return taken === 1
        ? ok(null)
        : fail('rate_limited', message, { retryAfterMs: Number(retryAfterMs) })
    },
    async reset(key: string): Promise<void> {
      await send('DEL', [`${prefix}:${key}`])
    },
  }
}

/**
 * @example
 * const sends = createRedisDebits(link, 'mc:limit:message', { burst: 20, refill: 120, perMs: 60_000, message })
 * const [waitMs] = await sends.debit([['user-id', 3]])
 */
export function createRedisDebits(
  link: RedisLink,
  prefix: string,
  { burst, refill, perMs, now = Date.now }: RedisBucketOptions
) {
  const ratePerMs = refill / perMs
  const send = sender(link)
  return {
    /** Each key's count debited; per key, ms until its bucket holds a token again (0: it does). */
    async debit(counts: ReadonlyArray<readonly [key: string, count: number]>): Promise<number[]> {
      const waits = (await send('EVAL', [
        DEBIT,
        String(counts.length),
        ...counts.map(([key]) => `${prefix}:${key}`),
        String(burst),
        String(ratePerMs),
        String(now()),
        ...counts.map(([, count]) => String(count)),
      ])) as string[]
      return waits.map(Number)
    },
  }
}
