/**
 * @module Fuzz: thousands of random and mutated Engine.IO / Socket.IO frames (WebSocket and
 * polling) and HTTP requests against a live server, then a normal client must still connect,
 * send and receive, the stored history must be intact, and nothing may have been logged as an
 * error (an error log is a handler or request that threw). Seeded: FUZZ_SEED=<n> reproduces a run.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createLogger } from '../../src/log.ts'
import { api } from '../helpers/api.ts'
import { ask, type ChatClient, chatUser, joinCity, once } from '../helpers/chat-client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed)
const MAX_PAYLOAD = 20_000

/** mulberry32: small, fast, good enough to pick mutations; same seed, same run. */
function prng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T
  return { next, int, pick }
}

const errors: unknown[] = []
let server: TestServer
let alice: ChatClient
let baseline: { _id: string; content: string }

beforeAll(async () => {
  const log = createLogger({
    level: 'error',
    write: (line) => errors.push(JSON.parse(line)),
  })
  server = await startServer(
    {
      MAX_PAYLOAD,
      MESSAGE_RATE_PER_MINUTE: 0,
      MAX_CONNECTIONS_PER_USER: 1_000,
      LOG_LEVEL: 'error',
    },
    { log }
  )
  alice = await chatUser(server.url)
  await joinCity(alice)
  const ack = await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'before' })
  baseline = ack.message
})

afterAll(async () => {
  alice?.socket.disconnect()
  await server.stop()
})

/** Each lane gets its own generator, so interleaving lanes does not change what a seed throws. */
function createFuzzer(rand: ReturnType<typeof prng>) {
  // ——— generators ———

  const EVENTS = [
    'join-city-chat',
    'leave-city-chat',
    'send-city-message',
    'edit-city-message',
    'delete-city-message',
    'city-typing',
    'city-stop-typing',
    'join-private-chat',
    'send-private-message',
    'mark-messages-read',
    'get-online-count',
    'get-city-online-users',
    'get-chat-online-users',
    'check-user-online',
    'heartbeat',
    'refresh-auth',
    'unknown-event',
    '__proto__',
    'constructor',
  ]

  function randomString(max: number): string {
    const alphabet = [
      'a',
      'Z',
      '0',
      '"',
      '\\',
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '\x1e',
      '\u0000',
      'é',
      '😀',
      '\ud800',
      ' ',
      '-',
      '4',
    ]
    let out = ''
    const length = rand.int(max)
    for (let i = 0; i < length; i++) out += rand.pick(alphabet)
    return out
  }

  function randomValue(depth = 0): unknown {
    switch (rand.int(depth > 3 ? 6 : 9)) {
      case 0:
        return null
      case 1:
        return rand.next() < 0.5
      case 2:
        return rand.pick([0, -1, 1e308, Number.MAX_SAFE_INTEGER, 3.5, 24])
      case 3:
        return randomString(40)
      case 4:
        return rand.pick([
          'mumbai',
          'atlantis',
          '',
          '0',
          '99999999',
          'a'.repeat(5_000),
          '0123456789abcdef01234567',
        ])
      case 5:
        return { _placeholder: true, num: rand.int(5) }
      case 6:
        return Array.from({ length: rand.int(4) }, () => randomValue(depth + 1))
      default: {
        const keys = [
          'cityId',
          'chatId',
          'content',
          'messageId',
          'clientId',
          'token',
          'userId',
          '__proto__',
          'media_url',
          'message_type',
          'reply_to',
        ]
        const object: Record<string, unknown> = {}
        for (let i = rand.int(5); i > 0; i--) object[rand.pick(keys)] = randomValue(depth + 1)
        return object
      }
    }
  }

  /** A plausible Socket.IO packet (Engine.IO type 4 prefix included) to mutate from. */
  function socketIoPacket(token: string): string {
    const ack = rand.next() < 0.5 ? String(rand.int(1_000)) : ''
    const nsp = rand.next() < 0.1 ? rand.pick(['/admin,', '/,', '/x/y,']) : ''
    switch (rand.int(8)) {
      case 0: {
        // Recovery fields too: random, mutated or foreign pids and offsets must never restore.
        const recovery = rand.next() < 0.5 ? { pid: randomValue(), offset: randomValue() } : {}
        const auth = rand.next() < 0.5 ? { token, ...recovery } : randomValue()
        return `40${nsp}${JSON.stringify(auth)}`
      }
      case 1:
        return `41${nsp}`
      case 2:
        return `43${nsp}${ack || '0'}${JSON.stringify([randomValue()])}`
      case 3:
        return `45${rand.int(4)}-${nsp}${ack}${JSON.stringify([rand.pick(EVENTS), randomValue()])}`
      default:
        return `42${nsp}${ack}${JSON.stringify([rand.pick(EVENTS), randomValue(), ...(rand.next() < 0.2 ? [randomValue()] : [])])}`
    }
  }

  function engineFrame(token: string): string {
    return rand.next() < 0.75
      ? socketIoPacket(token)
      : rand.pick(['2', '3', '3probe', '5', '6', '1', '0', '', 'x', '7', '4', '42', '4x'])
  }

  function mutate(text: string): string {
    let out = text
    for (let n = rand.int(3); n > 0; n--) {
      const at = rand.int(out.length + 1)
      switch (rand.int(5)) {
        case 0:
          out = out.slice(0, at) + out.slice(at + 1 + rand.int(4))
          break
        case 1:
          out = out.slice(0, at) + randomString(6) + out.slice(at)
          break
        case 2:
          out = out.slice(0, at)
          break
        case 3:
          out = out + out.slice(at)
          break
        default:
          out = out.slice(0, at) + String.fromCharCode(rand.int(0x10000)) + out.slice(at + 1)
      }
    }
    return out
  }

  function randomBinary(): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(rand.int(rand.next() < 0.05 ? MAX_PAYLOAD * 2 : 64))
    for (let i = 0; i < bytes.length; i++) bytes[i] = rand.int(256)
    if (bytes.length > 0 && rand.next() < 0.5) bytes[0] = 4 // an Engine.IO "message" binary
    return bytes
  }

  // ——— transports ———

  const wsUrl = () => `${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`

  /** One WebSocket session: a CONNECT (usually authenticated), then `frames` random frames. */
  async function wsSession(token: string, frames: number): Promise<number> {
    const ws = new WebSocket(wsUrl())
    ws.binaryType = 'arraybuffer'
    const closed = new Promise<void>((resolve) => {
      ws.onclose = () => resolve()
      ws.onerror = () => resolve()
    })
    const opened = await Promise.race([
      new Promise<boolean>((resolve) => {
        ws.onopen = () => resolve(true)
      }),
      closed.then(() => false),
    ])
    if (!opened) return 0
    let sent = 0
    const connect =
      rand.next() < 0.8 ? `40${JSON.stringify({ token })}` : mutate(`40{"token":"${token}"}`)
    ws.send(connect)
    sent++
    for (let i = 0; i < frames && ws.readyState === WebSocket.OPEN; i++) {
      const roll = rand.next()
      if (roll < 0.1) ws.send(randomBinary())
      else if (roll < 0.55) ws.send(engineFrame(token))
      else ws.send(mutate(engineFrame(token)))
      sent++
    }
    ws.close()
    await closed
    return sent
  }

  /** One polling session: handshake, then POSTs of random payloads (several packets joined by \x1e). */
  async function pollingSession(token: string, posts: number): Promise<number> {
    const base = `${server.url}/socket.io/?EIO=4&transport=polling`
    const open = await (await fetch(base)).text()
    const sid = /"sid":"([^"]+)"/.exec(open)?.[1]
    if (!sid) throw new Error(`no polling handshake: ${open.slice(0, 80)}`)
    let sent = 0
    for (let i = 0; i < posts; i++) {
      const packets = Array.from({ length: 1 + rand.int(3) }, () =>
        rand.next() < 0.5 ? engineFrame(token) : mutate(engineFrame(token))
      )
      if (i === 0) packets.unshift(`40${JSON.stringify({ token })}`)
      const body = rand.next() < 0.03 ? 'x'.repeat(MAX_PAYLOAD + 1) : packets.join('\x1e')
      const res = await fetch(`${base}&sid=${sid}`, {
        method: 'POST',
        body,
        headers: rand.next() < 0.05 ? { 'content-type': 'application/octet-stream' } : {},
      })
      await res.arrayBuffer()
      sent += packets.length
      // A session the server closed answers 400 to every later request; start over.
      if (res.status === 400) break
    }
    // Close politely when the session still lives, so no held state is left behind.
    await fetch(`${base}&sid=${sid}`, { method: 'POST', body: '1' }).then((r) => r.arrayBuffer())
    return sent
  }

  const ROUTES = [
    '/api/auth/login',
    '/api/auth/register',
    '/api/auth/refresh',
    '/api/auth/me',
    '/api/users',
    '/api/users/me',
    '/api/cities',
    '/api/cities/mumbai/messages',
    '/api/chats',
    '/api/chats/0123456789abcdef01234567/messages',
    '/api/messages/0123456789abcdef01234567',
    '/healthz',
    '/socket.io/',
  ]

  async function httpRequest(token: string): Promise<void> {
    const method = rand.pick(['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS', 'HEAD'])
    let path = rand.pick(ROUTES)
    if (rand.next() < 0.3) path = mutate(path)
    if (rand.next() < 0.3)
      path += `?${mutate('limit=5&before=x&after=y&search=a&EIO=4&transport=polling')}`
    const body = ['GET', 'HEAD'].includes(method)
      ? undefined
      : rand.next() < 0.5
        ? JSON.stringify(randomValue())
        : mutate('{"login":"a","password":"b","content":"c","name":"d","memberIds":[]}')
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (rand.next() < 0.6)
      headers.authorization = `Bearer ${rand.next() < 0.8 ? token : mutate(token)}`
    // Our DELETE /api/users/me would deactivate the fuzzing user; that is not a bug, just noise.
    if (method === 'DELETE' && path.startsWith('/api/users')) return
    let url: string
    try {
      url = new URL(path, server.url).href
    } catch {
      return // not a URL fetch can send
    }
    const res = await fetch(url, { method, headers, body }).catch(() => undefined)
    await res?.arrayBuffer()
    if (res) expect(res.status).toBeLessThan(500)
  }

  return { wsSession, pollingSession, httpRequest }
}

test(`fuzz (seed ${SEED}): the server survives and its data is intact`, async () => {
  // A separate user does the fuzzing, so alice's own session stays the control.
  const fuzzer = await chatUser(server.url)
  fuzzer.socket.disconnect()
  const token = fuzzer.accessToken

  let frames = 0
  const lanes = 4
  await Promise.all(
    Array.from({ length: lanes }, async (_, index) => {
      const { wsSession, pollingSession, httpRequest } = createFuzzer(prng(SEED + index))
      // Most mutated sessions are closed by the server after a few frames: keep opening new
      // ones until this lane has thrown its share (bounded by a session cap either way).
      let lane = 0
      for (let i = 0; i < 200 && lane < 500; i++) lane += await wsSession(token, 40)
      for (let i = 0; i < 40 && lane < 750; i++) lane += await pollingSession(token, 12)
      frames += lane
      for (let i = 0; i < 125; i++) await httpRequest(token)
    })
  )
  expect(frames).toBeGreaterThan(2_000)

  // A normal client still works end to end.
  const bob = await chatUser(server.url)
  await joinCity(bob)
  const seen = once<any>(alice.socket, 'new-city-message')
  const sent = await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content: 'after' })
  expect(sent.ok).toBe(true)
  expect((await seen)._id).toBe(sent.message._id)
  bob.socket.disconnect()

  // The baseline message is stored exactly as it was.
  const history = await api(server.url, 'GET', '/api/cities/mumbai/messages?limit=100', {
    token: alice.accessToken,
  })
  expect(history.status).toBe(200)
  const stored = history.body.messages.find((m: { _id: string }) => m._id === baseline._id)
  expect(stored).toEqual(baseline)
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  // Nothing threw: every bad frame was a protocol error or a validation refusal.
  expect(errors).toEqual([])
}, 60_000)
