/**
 * @module Sessions and devices: the device list, signing one session out (its sockets close at
 * once) or all but the current one, and the grace window for a just-rotated refresh token.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { barrier, connectAs, once, trackClients } from '../helpers/chat-client.ts'
import { rejectionOf } from '../helpers/rejection.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
const clients = trackClients()
afterEach(async () => {
  clients.disconnectAll()
  await server?.stop()
})

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'

async function loginAs(user: RegisteredUser, userAgent: string): Promise<RegisteredUser> {
  const res = await api(server.url, 'POST', '/api/auth/login', {
    body: { login: user.user.username, password: user.password },
    headers: { 'user-agent': userAgent },
  })
  expect(res.status).toBe(200)
  return { ...user, ...res.body }
}

const listSessions = async (user: RegisteredUser) =>
  (await api(server.url, 'GET', '/api/auth/sessions', { token: user.accessToken })).body.sessions

describe('device list', () => {
  test('lists each login with its device, times, address, and which one is current', async () => {
    server = await startServer()
    const alice = await registerUser(server.url)
    const laptop = await loginAs(alice, FIREFOX)
    const phone = await loginAs(alice, IPHONE)
    const sessions = await listSessions(laptop)
    expect(sessions).toHaveLength(3)
    const byDevice = Object.fromEntries(sessions.map((s: any) => [s.device, s]))
    expect(byDevice['Firefox on Linux']).toMatchObject({
      current: true,
      address: '127.0.0.1',
      user_agent: FIREFOX,
      created_at: expect.stringMatching(/Z$/),
      last_used_at: expect.stringMatching(/Z$/),
    })
    expect(byDevice['Safari on iOS']).toMatchObject({ current: false })
    expect(sessions.filter((s: any) => s.current)).toHaveLength(1)
    // Another user sees only their own.
    const bob = await registerUser(server.url)
    expect(await listSessions(bob)).toHaveLength(1)
    expect(phone.accessToken).not.toBe(laptop.accessToken)
    // A refresh moves last_used_at and keeps the session.
    const before = byDevice['Safari on iOS'].last_used_at
    await Bun.sleep(5) // a later millisecond
    await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: phone.refreshToken },
    })
    const after = (await listSessions(laptop)).find((s: any) => s.device === 'Safari on iOS')
    expect(after.last_used_at > before).toBe(true)
    expect((await api(server.url, 'GET', '/api/auth/sessions')).status).toBe(401)
  })

  test('DELETE /sessions/:id signs one out: its socket closes at once, its refresh is dead', async () => {
    server = await startServer()
    const alice = await registerUser(server.url)
    const phone = await loginAs(alice, IPHONE)
    const here = clients.track(await connectAs(server.url, alice))
    const there = clients.track(await connectAs(server.url, phone))
    const reason = once<any>(there.socket, 'error')
    const gone = once<string>(there.socket, 'disconnect')
    const phoneSession = (await listSessions(alice)).find((s: any) => !s.current)

    const res = await api(server.url, 'DELETE', `/api/auth/sessions/${phoneSession._id}`, {
      token: alice.accessToken,
    })
    expect(res.status).toBe(204)
    expect(await reason).toEqual({
      code: 'unauthorized',
      message: 'session signed out',
      event: 'auth',
    })
    expect(await gone).toBe('io server disconnect')
    await barrier(here.socket)
    expect(here.socket.connected).toBe(true)
    const refresh = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: phone.refreshToken },
    })
    expect(refresh.status).toBe(401)
    // Its access token has not expired, but opens no socket any more.
    const refused = await rejectionOf(connectAs(server.url, phone, { reconnection: false }))
    expect(refused.message).toContain('Authentication error')
    expect(await listSessions(alice)).toHaveLength(1)
  })

  test('refusals: another user’s session and an unknown one are 404, a bad id 400', async () => {
    server = await startServer()
    const alice = await registerUser(server.url)
    const bob = await registerUser(server.url)
    const bobs = (await listSessions(bob))[0]
    const other = await api(server.url, 'DELETE', `/api/auth/sessions/${bobs._id}`, {
      token: alice.accessToken,
    })
    expect(other.status).toBe(404)
    expect(await listSessions(bob)).toHaveLength(1)
    const unknown = await api(server.url, 'DELETE', `/api/auth/sessions/${'0'.repeat(24)}`, {
      token: alice.accessToken,
    })
    expect(unknown.status).toBe(404)
    const bad = await api(server.url, 'DELETE', '/api/auth/sessions/nope', {
      token: alice.accessToken,
    })
    expect(bad.status).toBe(400)
    expect((await api(server.url, 'DELETE', `/api/auth/sessions/${bobs._id}`)).status).toBe(401)
  })

  test('DELETE /sessions signs out every other session; the current one stays', async () => {
    server = await startServer()
    const alice = await registerUser(server.url)
    const laptop = await loginAs(alice, FIREFOX)
    const phone = await loginAs(alice, IPHONE)
    const here = clients.track(await connectAs(server.url, laptop))
    const others = [alice, phone].map((u) => connectAs(server.url, u))
    const sockets = await Promise.all(others)
    clients.track(...sockets)
    const gone = sockets.map((c) => once<string>(c.socket, 'disconnect'))
    const res = await api(server.url, 'DELETE', '/api/auth/sessions', {
      token: laptop.accessToken,
    })
    expect(res.status).toBe(204)
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect'])
    await barrier(here.socket)
    expect(here.socket.connected).toBe(true)
    const left = await listSessions(laptop)
    expect(left.map((s: any) => [s.device, s.current])).toEqual([['Firefox on Linux', true]])
    for (const user of [alice, phone]) {
      const refresh = await api(server.url, 'POST', '/api/auth/refresh', {
        body: { refreshToken: user.refreshToken },
      })
      expect(refresh.status).toBe(401)
    }
  })
})

describe('refresh reuse grace', () => {
  test('a token sent again within the grace gets a fresh one; the session lives on', async () => {
    server = await startServer({ REFRESH_REUSE_GRACE: '1m' })
    const alice = await registerUser(server.url)
    const refresh = (refreshToken: string) =>
      api(server.url, 'POST', '/api/auth/refresh', { body: { refreshToken } })
    const first = await refresh(alice.refreshToken)
    // The page reloaded before it stored `first`: the old token again.
    const again = await refresh(alice.refreshToken)
    expect([first.status, again.status]).toEqual([200, 200])
    expect(again.body.refreshToken).not.toBe(first.body.refreshToken)
    expect((await refresh(again.body.refreshToken)).status).toBe(200)
    expect((await refresh(first.body.refreshToken)).status).toBe(200)
    expect(await listSessions(alice)).toHaveLength(1)
  })

  test('after the grace, reuse still revokes the whole session', async () => {
    server = await startServer({ REFRESH_REUSE_GRACE: '200ms' })
    const alice = await registerUser(server.url)
    const refresh = (refreshToken: string) =>
      api(server.url, 'POST', '/api/auth/refresh', { body: { refreshToken } })
    const rotated = await refresh(alice.refreshToken)
    expect(rotated.status).toBe(200)
    await Bun.sleep(300) // the grace has to pass
    const replay = await refresh(alice.refreshToken)
    expect(replay.status).toBe(401)
    expect((await refresh(rotated.body.refreshToken)).status).toBe(401)
    expect(await listSessions(alice)).toHaveLength(0)
  })
})
