/**
 * @module Token lifetime on live sockets: expiry disconnects with an actionable reason,
 * `refresh-auth` renews in place (same user only), reconnecting with a new token works, and a
 * deactivated account loses every socket at once.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { SignJWT } from 'jose'
import { api } from '../helpers/api.ts'
import { ask, barrier, chatUser, connectAs, once, trackClients } from '../helpers/chat-client.ts'
import { rejectionOf } from '../helpers/rejection.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const SECRET = 'token-lifetime-test-secret-0123456789abcdef'
let server: TestServer
const clients = trackClients()

beforeEach(async () => {
  server = await startServer({ JWT_SECRET: SECRET })
})
afterEach(async () => {
  clients.disconnectAll()
  await server.stop()
})

/** An access token for `userId` that expires `inMs` from now (JWT exp has 1 s granularity). */
async function tokenFor(userId: string, inMs: number): Promise<{ token: string; exp: number }> {
  const exp = Math.ceil((Date.now() + inMs) / 1000)
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer('mycommunity')
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(SECRET))
  return { token, exp: exp * 1000 }
}

async function userWithToken(inMs: number) {
  const registered = await chatUser(server.url)
  registered.socket.disconnect()
  const { token, exp } = await tokenFor(registered.user._id, inMs)
  const client = await connectAs(server.url, { ...registered, accessToken: token })
  clients.track(client)
  return { client, exp }
}

describe('expiry', () => {
  test('an expiring token gets `error` {event: auth} then a server disconnect', async () => {
    const { client, exp } = await userWithToken(1_000)
    const reason = once<any>(client.socket, 'error')
    const disconnected = once<string>(client.socket, 'disconnect')
    expect(await reason).toEqual({ code: 'unauthorized', message: 'token expired', event: 'auth' })
    expect(await disconnected).toBe('io server disconnect')
    expect(Date.now()).toBeGreaterThanOrEqual(exp - 50)
    // The guide's client: set the refreshed token and connect again.
    client.socket.auth = { token: (await tokenFor(client.user._id, 60_000)).token }
    const back = once(client.socket, 'connect')
    client.socket.connect()
    await back
    expect(client.socket.connected).toBe(true)
  })

  test('refresh-auth renews in place: the socket outlives its first token', async () => {
    const { client, exp } = await userWithToken(500)
    const renewed = await tokenFor(client.user._id, 3_600_000)
    const ack = await ask(client.socket, 'refresh-auth', { token: renewed.token })
    expect(ack).toEqual({ ok: true, expiresAt: new Date(renewed.exp).toISOString() })
    // Absence can only be shown by letting the old expiry pass.
    await Bun.sleep(Math.max(0, exp - Date.now()) + 200)
    await barrier(client.socket)
    expect(client.socket.connected).toBe(true)
    expect(client.got('error')).toEqual([])
  })

  test('refresh-auth refuses another user’s token and garbage; the socket keeps its own', async () => {
    const { client } = await userWithToken(60_000)
    const other = await chatUser(server.url)
    clients.track(other)
    const foreign = await ask(client.socket, 'refresh-auth', {
      token: (await tokenFor(other.user._id, 60_000)).token,
    })
    expect(foreign.ok).toBe(false)
    expect(foreign.error.code).toBe('forbidden')
    const garbage = await ask(client.socket, 'refresh-auth', { token: 'not-a-jwt' })
    expect(garbage.error.code).toBe('unauthorized')
    const missing = await ask(client.socket, 'refresh-auth', {})
    expect(missing.error.code).toBe('invalid_input')
    expect(client.socket.connected).toBe(true)
  })

  test('an already expired token is refused at the handshake', async () => {
    const registered = await chatUser(server.url)
    clients.track(registered)
    const { token } = await tokenFor(registered.user._id, -5_000)
    const refused = await rejectionOf(
      connectAs(server.url, { ...registered, accessToken: token }, { reconnection: false })
    )
    expect(refused.message).toContain('Authentication error')
  })
})

describe('deactivation', () => {
  test('DELETE /api/users/me closes every socket of that user at once, others stay', async () => {
    const alice = await chatUser(server.url)
    const tab2 = await connectAs(server.url, alice)
    const bob = await chatUser(server.url)
    clients.track(alice, tab2, bob)
    const reasons = [alice, tab2].map((c) => once<any>(c.socket, 'error'))
    const gone = [alice, tab2].map((c) => once<string>(c.socket, 'disconnect'))
    const res = await api(server.url, 'DELETE', '/api/users/me', { token: alice.accessToken })
    expect(res.status).toBe(204)
    for (const reason of await Promise.all(reasons)) {
      expect(reason).toEqual({
        code: 'unauthorized',
        message: 'account deactivated',
        event: 'auth',
      })
    }
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect'])
    await barrier(bob.socket)
    expect(bob.socket.connected).toBe(true)
    // Its still-unexpired access token no longer opens a socket.
    const refused = await rejectionOf(connectAs(server.url, alice, { reconnection: false }))
    expect(refused.message).toContain('Authentication error')
  })
})
