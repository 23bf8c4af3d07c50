/** @module Handshake authentication over every transport, and socket.data.user. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, registerUser } from '../helpers/api.ts'
import { ask, connectAs } from '../helpers/chat-client.ts'
import { client, TRANSPORTS } from '../helpers/realtime.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer

beforeAll(async () => {
  server = await startServer({ ACCESS_TOKEN_TTL: '1s' })
})
afterAll(() => server.stop())

/** Resolves with the connect_error message (or 'connected' when it was let in). */
function refusal(auth: Record<string, unknown>, options = {}): Promise<string> {
  const socket = client(server.url, { auth, ...options })
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

test('an expired token and a deactivated user are refused', async () => {
  const registered = await registerUser(server.url)
  const deactivated = await registerUser(server.url)
  const res = await api(server.url, 'DELETE', '/api/users/me', { token: deactivated.accessToken })
  expect(res.status).toBe(204)
  expect(await refusal({ token: deactivated.accessToken })).toBe('Authentication error')
  // ACCESS_TOKEN_TTL is 1s here; JWT exp has second precision.
  await Bun.sleep(2_100)
  expect(await refusal({ token: registered.accessToken })).toBe('Authentication error')
})
