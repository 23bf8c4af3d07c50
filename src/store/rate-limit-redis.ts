/**
 * @module Token buckets in Redis, so every node counts against the same limits (login attempts).
 * One Lua script per take: refill by elapsed time, take a token or answer how long until one.
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

/** A Redis call waits at most this long; then the caller falls back (chat/rate-limit.ts). */
const COMMAND_TIMEOUT_MS = 1_000

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
  // While the link is known to be down, fail at once (the caller falls back) instead of waiting.
  const send = (command: string, args: string[]) =>
    link.up
      ? withTimeout(link.commands.send(command, args), COMMAND_TIMEOUT_MS, 'rate limit')
      : Promise.reject(new Error('rate limit: the Redis link is down'))
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
