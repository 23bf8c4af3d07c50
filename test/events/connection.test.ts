/** @module Handshake authentication over every transport, and socket.data.user. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, registerUser } from '../helpers/api.ts'
import { ask, connectAs } from '../helpers/chat-client.ts'
import { client, TRANSPORTS } from '../helpers/realtime.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer

beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.stop())

/** Resolves with the connect_error message (or 'connected' when it was let in). */
function refusal(auth: Record<string, unknown>, options = {}, url = server.url): Promise<string> {
  const socket = client(url, { auth, ...options })
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.disconnect()
      resolve('connected')
    })
    socket.once('connect_error', (err) => {
      socket.disconnect()
      resolve(err.message)
    })
  })
}

for (const { name, options } of TRANSPORTS) {
  describe(`over ${name}`, () => {
    test('a valid token connects; the user is known to every handler', async () => {
      const registered = await registerUser(server.url)
      const alice = await connectAs(server.url, registered, options)
      const status = await ask(alice.socket, 'check-user-online', { userId: registered.user._id })
      expect(status.isOnline).toBe(true)
      alice.socket.disconnect()
    })

    test('missing, malformed and forged tokens get "Authentication error"', async () => {
      const registered = await registerUser(server.url)
      const [, payload] = registered.accessToken.split('.')
      const forged = `eyJhbGciOiJIUzI1NiJ9.${payload}.c2lnbmF0dXJl`
      for (const auth of [{}, { token: '' }, { token: 'nope' }, { token: 42 }, { token: forged }]) {
        expect(await refusal(auth, options)).toBe('Authentication error')
      }
    })
  })
}

test('a deactivated user is refused', async () => {
  const deactivated = await registerUser(server.url)
  const res = await api(server.url, 'DELETE', '/api/users/me', { token: deactivated.accessToken })
  expect(res.status).toBe(204)
  expect(await refusal({ token: deactivated.accessToken })).toBe('Authentication error')
})

test('an expired token is refused', async () => {
  // A server of its own: a 1 s TTL would make every other test here race the second boundary.
  const shortLived = await startServer({ ACCESS_TOKEN_TTL: '1s' })
  try {
    const registered = await registerUser(shortLived.url)
    // JWT exp has second precision, so a 1 s token is dead after at most 2 s.
    await Bun.sleep(2_100)
    expect(await refusal({ token: registered.accessToken }, {}, shortLived.url)).toBe(
      'Authentication error'
    )
  } finally {
    await shortLived.stop()
  }
})
