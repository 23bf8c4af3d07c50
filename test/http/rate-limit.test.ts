/** @module The token bucket (chat/rate-limit.ts) on an injected clock: burst, refill, retryAfterMs, reset, forgetting idle keys. */
import { expect, test } from 'bun:test'
import { createRateLimiter } from '../../src/chat/rate-limit.ts'

function limiter(burst: number, refill: number, perMs: number) {
  let now = 1_000_000
  const limit = createRateLimiter({ burst, refill, perMs, message: 'slow down', now: () => now })
  return { limit, advance: (ms: number) => (now += ms) }
}

test('a full bucket allows the burst, then refuses with the wait until the next token', () => {
  const { limit, advance } = limiter(3, 1, 1_000)
  expect([1, 2, 3].map(() => limit.take('u').ok)).toEqual([true, true, true])
  const refused = limit.take('u')
  expect(refused).toEqual({
    ok: false,
    error: { code: 'rate_limited', message: 'slow down', details: { retryAfterMs: 1_000 } },
  })
  advance(400)
  expect(limit.take('u')).toMatchObject({ error: { details: { retryAfterMs: 600 } } })
  advance(600)
  expect(limit.take('u').ok).toBe(true)
  expect(limit.take('u').ok).toBe(false)
})

test('refill never exceeds the burst, and keys are independent', () => {
  const { limit, advance } = limiter(2, 1, 100)
  limit.take('a')
  limit.take('a')
  advance(10_000)
  expect([1, 2, 3].map(() => limit.take('a').ok)).toEqual([true, true, false])
  expect(limit.take('b').ok).toBe(true)
})

test('reset refills one key', () => {
  const { limit } = limiter(1, 1, 60_000)
  limit.take('a')
  expect(limit.take('a').ok).toBe(false)
  limit.reset('a')
  expect(limit.take('a').ok).toBe(true)
})

test('keys whose buckets refilled are forgotten, so idle users cost nothing', () => {
  const { limit, advance } = limiter(1, 1, 10)
  for (let i = 0; i < 999; i++) limit.take(`user-${i}`)
  expect(limit.size).toBe(999)
  advance(1_000)
  limit.take('trigger') // the 1,000th take sweeps
  expect(limit.size).toBe(1)
})
