/** @module Route guards: every authenticated route refuses without a token, and every path id is validated. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
let alice: RegisteredUser
beforeAll(async () => {
  server = await startServer()
  alice = await registerUser(server.url)
})
afterAll(() => server.stop())

const ID = '0123456789abcdef01234567'
const AUTHENTICATED: Array<[string, string]> = [
  ['GET', '/api/auth/me'],
  ['GET', '/api/users'],
  ['GET', '/api/users/me'],
  ['PATCH', '/api/users/me'],
  ['DELETE', '/api/users/me'],
  ['GET', `/api/users/${ID}`],
  ['GET', '/api/cities'],
  ['GET', '/api/cities/mumbai'],
  ['GET', '/api/cities/mumbai/messages'],
  ['POST', '/api/cities/mumbai/messages'],
  ['POST', '/api/chats'],
  ['GET', '/api/chats'],
  ['GET', `/api/chats/${ID}`],
  ['POST', `/api/chats/${ID}/members`],
  ['DELETE', `/api/chats/${ID}/members/${ID}`],
  ['POST', `/api/chats/${ID}/leave`],
  ['GET', `/api/chats/${ID}/messages`],
  ['POST', `/api/chats/${ID}/messages`],
  ['POST', `/api/chats/${ID}/read`],
  ['PATCH', `/api/messages/${ID}`],
  ['DELETE', `/api/messages/${ID}`],
]

describe('authentication', () => {
  test.each(AUTHENTICATED)('%s %s without a token is 401 unauthorized', async (method, path) => {
    const res = await api(server.url, method, path, method === 'GET' ? {} : { body: {} })
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('unauthorized')
  })

  test('a non-Bearer Authorization header is 401', async () => {
    const res = await api(server.url, 'GET', '/api/auth/me', {
      headers: { authorization: `Basic ${btoa('a:b')}` },
    })
    expect(res.status).toBe(401)
  })
})

describe('path parameters', () => {
  test.each([
    ['GET', '/api/chats/not-an-id'],
    ['GET', '/api/chats/not-an-id/messages'],
    ['POST', '/api/chats/not-an-id/read'],
    ['POST', '/api/chats/not-an-id/leave'],
    ['DELETE', `/api/chats/${ID}/members/not-an-id`],
    ['PATCH', '/api/messages/not-an-id'],
    ['DELETE', '/api/messages/not-an-id'],
    ['GET', '/api/cities/UPPER'],
  ])('%s %s is 400 invalid_input', async (method, path) => {
    const body = method === 'GET' ? undefined : { content: 'x' }
    const res = await api(server.url, method, path, { token: alice.accessToken, body })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('invalid_input')
  })
})

describe('bodies', () => {
  test.each([
    ['POST', '/api/auth/login'],
    ['POST', '/api/auth/refresh'],
    ['POST', '/api/auth/logout'],
    ['POST', '/api/cities/mumbai/messages'],
    ['POST', '/api/chats'],
  ])('%s %s with a JSON array, a string or nothing is 400', async (method, path) => {
    for (const rawBody of ['[]', '"text"', '']) {
      const res = await api(server.url, method, path, { token: alice.accessToken, rawBody })
      expect(res.status).toBe(400)
    }
  })
})
