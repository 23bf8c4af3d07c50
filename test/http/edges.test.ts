/** @module HTTP edges: probes, unknown routes, CORS, request ids, seeding switch, restart persistence. */
import { afterEach, describe, expect, test } from 'bun:test'
import { api, registerUser } from '../helpers/api.ts'
import { rawExchange } from '../helpers/realtime.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const servers: TestServer[] = []
async function start(overrides: Parameters<typeof startServer>[0] = {}) {
  const server = await startServer(overrides)
  servers.push(server)
  return server
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})

describe('probes', () => {
  test('healthz and readyz answer 200; readyz says 503 once the database is gone', async () => {
    const server = await start()
    expect(await api(server.url, 'GET', '/healthz')).toMatchObject({
      status: 200,
      body: { status: 'ok' },
    })
    expect(await api(server.url, 'GET', '/readyz')).toMatchObject({
      status: 200,
      body: { checks: { database: 'ok' } },
    })
    await server.app.database.close()
    const down = await api(server.url, 'GET', '/readyz')
    expect(down.status).toBe(503)
    expect(down.body.checks.database).toBe('down')
  })
})

describe('unknown routes and errors', () => {
  test('unknown path and wrong method answer JSON 404', async () => {
    const server = await start()
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/api'],
      ['PUT', '/api/nothing-here'],
    ] as const) {
      const res = await api(server.url, method, path)
      expect(res.status).toBe(404)
      expect(res.body.error.code).toBe('not_found')
    }
  })

  test('a thrown error is 500 internal with a generic message', async () => {
    const server = await start()
    const { accessToken } = await registerUser(server.url)
    await server.app.database.close()
    const res = await api(server.url, 'GET', '/api/cities', { token: accessToken })
    expect(res.status).toBe(500)
    expect(res.body).toEqual({ error: { code: 'internal', message: 'internal server error' } })
  })
})

describe('Connection: close', () => {
  /** A raw HTTP/1.1 request; resolves with the response head once the server closes. */
  async function exchange(url: string, method: string, path: string, extra: string[] = []) {
    const { host } = new URL(url)
    const body = method === 'POST' ? '{}' : ''
    const head = [`${method} ${path} HTTP/1.1`, `Host: ${host}`, 'Connection: close', ...extra]
    if (body) head.push('Content-Type: application/json', `Content-Length: ${body.length}`)
    const { bytes, closed } = await rawExchange(url, `${head.join('\r\n')}\r\n\r\n${body}`)
    const text = bytes.toString()
    return { closed, head: text.slice(0, text.indexOf('\r\n\r\n')).toLowerCase() }
  }

  test('every route says it closes the connection it closes', async () => {
    const server = await start()
    const token = (await registerUser(server.url)).accessToken
    for (const [method, path, extra, status] of [
      ['GET', '/', [], 200],
      ['GET', '/docs', [], 200],
      ['GET', '/sw.js', [], 200],
      ['GET', '/healthz', [], 200],
      ['GET', '/readyz', [], 200],
      ['GET', '/api/cities', [`Authorization: Bearer ${token}`], 200],
      ['GET', '/api/cities', [], 401],
      ['POST', '/api/auth/login', [], 400],
      ['GET', '/nope', [], 404],
      ['GET', '/metrics', [], 200],
      ['GET', '/api/openapi.json', [], 200],
      ['GET', '/api/asyncapi.json', [], 200],
      ['GET', '/socket.io/?EIO=4&transport=polling', [], 200],
      ['GET', '/socket.io/?EIO=4&transport=websocket', [], 400],
      ['GET', '/socket.io/?EIO=4&transport=polling&sid=nope', [], 400],
      ['OPTIONS', '/api/cities', ['Origin: http://elsewhere.test'], 204],
    ] as const) {
      const answer = await exchange(server.url, method, path, [...extra])
      expect(answer.head, `${method} ${path}`).toStartWith(`http/1.1 ${status} `)
      expect(answer.head, `${method} ${path}`).toContain('\r\nconnection: close')
      expect(answer.closed).toBe(true)
    }
  })

  test('a poll answer says it too, and keep-alive requests get no such header', async () => {
    const server = await start()
    const open = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`)
    expect(open.headers.get('connection')).not.toBe('close')
    const sid = JSON.parse((await open.text()).slice(1)).sid
    // A CONNECT without a token: its CONNECT_ERROR waits for the next GET.
    await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
      method: 'POST',
      body: '40',
    })
    const answer = await exchange(
      server.url,
      'GET',
      `/socket.io/?EIO=4&transport=polling&sid=${sid}`
    )
    expect(answer.head).toStartWith('http/1.1 200 ')
    expect(answer.head).toContain('\r\nconnection: close')
  })
})

describe('cors and request ids', () => {
  test('any origin by default; preflight answers', async () => {
    const server = await start()
    const res = await fetch(`${server.url}/api/cities`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.test', 'access-control-request-method': 'POST' },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect((await api(server.url, 'GET', '/healthz')).headers.get('x-request-id')).toBeTruthy()
  })

  test('CORS_ORIGINS restricts the allowed origins', async () => {
    const server = await start({ CORS_ORIGINS: 'https://good.example.test' } as never)
    const good = await fetch(`${server.url}/healthz`, {
      headers: { origin: 'https://good.example.test' },
    })
    expect(good.headers.get('access-control-allow-origin')).toBe('https://good.example.test')
    const bad = await fetch(`${server.url}/healthz`, {
      headers: { origin: 'https://evil.example.test' },
    })
    expect(bad.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('configuration', () => {
  test('SEED_CITIES=false starts with no cities', async () => {
    const server = await start({ SEED_CITIES: 'false' })
    const { accessToken } = await registerUser(server.url)
    const res = await api(server.url, 'GET', '/api/cities', { token: accessToken })
    expect(res.body.cities).toEqual([])
  })

  test(':memory: database works end to end', async () => {
    const server = await start({ DATABASE_URL: ':memory:' })
    const user = await registerUser(server.url)
    expect((await api(server.url, 'GET', '/api/auth/me', { token: user.accessToken })).status).toBe(
      200
    )
  })

  test('the generated development secret survives a restart, so tokens stay valid', async () => {
    const first = await start()
    const user = await registerUser(first.url)
    const dir = first.dataDir
    await first.bun.stop(true)
    await first.app.stop()
    const second = await start({ DATA_DIR: dir, DATABASE_URL: `file:${dir}/chat.db` })
    const me = await api(second.url, 'GET', '/api/auth/me', { token: user.accessToken })
    expect(me.status).toBe(200)
    expect(me.body.user._id).toBe(user.user._id)
  })
})
