/** @module Login throttling per account and per address, and the security headers on HTTP answers. */
import { afterEach, describe, expect, test } from 'bun:test'
import { api, registerUser } from '../helpers/api.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer | undefined

afterEach(async () => {
  await server?.stop()
  server = undefined
})

const login = (url: string, name: string, password: string) =>
  api(url, 'POST', '/api/auth/login', { body: { login: name, password } })

describe('login throttling', () => {
  test('per account: wrong passwords run the bucket dry, then 429 with Retry-After', async () => {
    server = await startServer({ LOGIN_ATTEMPTS_PER_ACCOUNT: 3, LOGIN_WINDOW: '1m' })
    const alice = await registerUser(server.url)
    for (let i = 0; i < 3; i++) {
      expect((await login(server.url, alice.user.username, 'wrong-password')).status).toBe(401)
    }
    // Even the right password waits now: the attacker must not learn it by the answer.
    const refused = await login(server.url, alice.user.username, alice.password)
    expect(refused.status).toBe(429)
    expect(refused.body.error.code).toBe('rate_limited')
    expect(refused.body.error.details.retryAfterMs).toBeGreaterThan(0)
    expect(refused.body.error.details.retryAfterMs).toBeLessThanOrEqual(20_000)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    // The account name is case-insensitive, like the lookup.
    const shouted = await login(server.url, alice.user.username.toUpperCase(), 'x')
    expect(shouted.status).toBe(429)
  })

  test('per account: another account from the same address is unaffected', async () => {
    server = await startServer({ LOGIN_ATTEMPTS_PER_ACCOUNT: 2 })
    const [alice, bob] = [await registerUser(server.url), await registerUser(server.url)]
    for (let i = 0; i < 3; i++) await login(server.url, alice.user.username, 'nope-nope')
    expect((await login(server.url, bob.user.username, bob.password)).status).toBe(200)
  })

  test('a successful login refills the account bucket', async () => {
    server = await startServer({ LOGIN_ATTEMPTS_PER_ACCOUNT: 2 })
    const alice = await registerUser(server.url)
    await login(server.url, alice.user.username, 'typo-typo')
    expect((await login(server.url, alice.user.username, alice.password)).status).toBe(200)
    await login(server.url, alice.user.username, 'typo-typo')
    expect((await login(server.url, alice.user.username, alice.password)).status).toBe(200)
  })

  test('per address: many accounts from one address are throttled too', async () => {
    server = await startServer({ LOGIN_ATTEMPTS_PER_ADDRESS: 4, LOGIN_ATTEMPTS_PER_ACCOUNT: 100 })
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await login(server.url, `nobody${i}`, 'x')).status)
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429])
  })
})

describe('security headers', () => {
  test('API answers carry nosniff, frame and referrer policies', async () => {
    server = await startServer()
    const res = await fetch(`${server.url}/api/cities`)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('strict-transport-security')).toContain('max-age=')
  })
})
