/**
 * @module Origin checks against cross-site WebSocket hijacking: with CORS_ORIGINS set, a browser
 * page from another origin can open neither a polling session nor a WebSocket, and REST answers
 * it without CORS permission.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { registerUser } from '../helpers/api.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const ALLOWED = 'https://chat.example'
const EVIL = 'https://evil.example'
let server: TestServer
let token: string

beforeAll(async () => {
  server = await startServer({ CORS_ORIGINS: ALLOWED })
  token = (await registerUser(server.url)).accessToken
})
afterAll(() => server.stop())

const pollingHandshake = (origin?: string) =>
  fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, {
    headers: origin ? { origin } : {},
  })

/** Resolves 'open' or 'refused' for a WebSocket handshake sent with that Origin header. */
function tryWebSocket(origin?: string): Promise<'open' | 'refused'> {
  const url = `${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`
  // Bun's WebSocket accepts request headers, so a test can play a browser on another site.
  const ws = new WebSocket(url, { headers: origin ? { origin } : {} } as unknown as string[])
  return new Promise((resolve) => {
    ws.onopen = () => {
      ws.close()
      resolve('open')
    }
    ws.onerror = () => resolve('refused')
  })
}

describe('polling', () => {
  test('a foreign Origin is refused with 403 Forbidden (engine.io code 4)', async () => {
    const res = await pollingHandshake(EVIL)
    expect(res.status).toBe(403)
    expect(await res.json()).toEqual({ code: 4, message: 'Forbidden' })
  })

  test('the allowed Origin gets a session and its CORS header', async () => {
    const res = await pollingHandshake(ALLOWED)
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED)
    expect((await res.text()).startsWith('0{')).toBe(true)
  })

  test('no Origin (a native client, not a browser) is allowed', async () => {
    expect((await pollingHandshake()).status).toBe(200)
  })
})

describe('websocket', () => {
  test('an upgrade from a foreign Origin never opens', async () => {
    expect(await tryWebSocket(EVIL)).toBe('refused')
  })

  test('an upgrade from the allowed Origin opens', async () => {
    expect(await tryWebSocket(ALLOWED)).toBe('open')
  })
})

describe('REST', () => {
  test('a foreign Origin gets no Access-Control-Allow-Origin, so the browser hides the answer', async () => {
    const res = await fetch(`${server.url}/api/auth/me`, {
      headers: { origin: EVIL, authorization: `Bearer ${token}` },
    })
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    const allowed = await fetch(`${server.url}/api/auth/me`, {
      headers: { origin: ALLOWED, authorization: `Bearer ${token}` },
    })
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED)
  })
})
