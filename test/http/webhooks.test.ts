/**
 * @module Outgoing webhooks against a receiver of the test's own on 127.0.0.1: signed (the test
 * recomputes the HMAC), retried through a receiver that fails the first three times, in order per
 * room, dead-lettered after WEBHOOK_MAX_ATTEMPTS with a metric, and a receiver that never answers
 * holds up no send.
 */
import { afterEach, expect, test } from 'bun:test'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { api, registerUser } from '../helpers/api.ts'
import { eventually } from '../helpers/eventually.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const SECRET = 'webhook-secret-0123456789'

interface Received {
  headers: Headers
  body: string
  json: any
  /** What the receiver answered (null: held). */
  status: number | null
}

/** A receiver: `answer(n)` decides the status of the n-th request (0-based); null holds it. */
function startReceiver(answer: (n: number) => number | null) {
  const received: Received[] = []
  const held: Array<() => void> = []
  let n = 0
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const body = await req.text()
      const status = answer(n++)
      received.push({ headers: req.headers, body, json: JSON.parse(body), status })
      if (status === null) {
        await new Promise<void>((resolve) => held.push(resolve))
        return new Response('late', { status: 200 })
      }
      return new Response(status < 300 ? 'ok' : 'no', { status })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}/hook`,
    received,
    held,
    /** What the receiver accepted (answered 2xx), in arrival order. */
    accepted: () => received.filter((r) => r.status !== null && r.status < 300),
    stop: () => {
      for (const release of held) release()
      server.stop(true)
    },
  }
}

const verify = (r: Received) => {
  const timestamp = r.headers.get('x-webhook-timestamp') ?? ''
  const given = r.headers.get('x-webhook-signature') ?? ''
  const expected = `v1=${createHmac('sha256', SECRET).update(`${timestamp}.${r.body}`).digest('hex')}`
  return (
    given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  )
}

let server: TestServer | undefined
let receiver: ReturnType<typeof startReceiver> | undefined
afterEach(async () => {
  await server?.stop()
  receiver?.stop()
  server = undefined
  receiver = undefined
})

const post = async (token: string, path: string, body: unknown) => {
  const res = await api(server!.url, 'POST', path, { token, body })
  if (res.status >= 300) throw new Error(JSON.stringify(res.body))
  return res.body
}

test('signed, retried through three failures, and in order per room', async () => {
  receiver = startReceiver((n) => (n < 3 ? 500 : 200))
  server = await startServer({
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_RETRY_BASE: '20ms',
  })
  const alice = await registerUser(server.url)
  const bob = await registerUser(server.url)
  const sent: string[] = []
  for (let i = 0; i < 5; i++) {
    sent.push(
      (await post(alice.accessToken, '/api/cities/mumbai/messages', { content: `m${i}` })).message
        ._id
    )
  }
  await api(server.url, 'PATCH', `/api/messages/${sent[1]}`, {
    token: alice.accessToken,
    body: { content: 'm1 edited' },
  })
  await api(server.url, 'DELETE', `/api/messages/${sent[2]}`, { token: alice.accessToken })
  const chat = await post(alice.accessToken, '/api/chats', { memberIds: [bob.user._id] })
  await post(alice.accessToken, `/api/chats/${chat.chat._id}/messages`, { content: 'dm' })

  // The first three requests were refused; from the fourth on, everything was accepted.
  const roomOf = (r: Received) => r.json.data?.message?.cityId ?? r.json.data?.cityId
  const mumbai = () => receiver!.accepted().filter((r) => roomOf(r) === 'mumbai')
  await eventually(() => mumbai().length >= 7, 10_000, 'the mumbai events')
  // The first three requests were refused; each refused event came again, same id and body.
  const refused = receiver.received.slice(0, 3)
  expect(refused.map((r) => r.status)).toEqual([500, 500, 500])
  for (const r of refused) {
    const again = receiver.accepted().filter((a) => a.json.id === r.json.id)
    expect(again.map((a) => a.body)).toEqual([r.body])
  }
  expect(receiver.received[0]?.json.data.message._id).toBe(sent[0])
  for (const r of receiver.received) expect(verify(r)).toBe(true)
  expect(receiver.received[0]?.headers.get('x-webhook-id')).toBe(receiver.received[0]?.json.id)
  // In order: the room's events as they happened, each once.
  expect(
    mumbai().map((r) => [r.json.type, r.json.data.message?._id ?? r.json.data.messageId])
  ).toEqual([
    ...sent.map((id) => ['message.created', id]),
    ['message.edited', sent[1]],
    ['message.deleted', sent[2]],
  ])
  expect(mumbai()[0]?.json.time).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/)
  await eventually(
    () =>
      receiver!.received.some(
        (r) => r.json.type === 'message.created' && r.json.data.message.chatId
      ),
    10_000,
    'the chat message'
  )
  const types = new Set(receiver.received.map((r) => r.json.type))
  expect(types.has('member.added')).toBe(true)
  expect(types.has('notification.created')).toBe(true)
  // A body changed in transit fails the check.
  const original = mumbai()[0] as Received
  const tampered = { ...original, body: original.body.replace('m0', 'mX') }
  expect(verify(tampered)).toBe(false)
})

test('dead-lettered after WEBHOOK_MAX_ATTEMPTS, counted, and the room goes on', async () => {
  receiver = startReceiver((n) => (n < 2 ? 503 : 200))
  server = await startServer({
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_RETRY_BASE: '20ms',
    WEBHOOK_MAX_ATTEMPTS: '2',
  })
  const alice = await registerUser(server.url)
  const lost = (await post(alice.accessToken, '/api/cities/delhi/messages', { content: 'lost' }))
    .message
  const next = (await post(alice.accessToken, '/api/cities/delhi/messages', { content: 'next' }))
    .message
  await eventually(
    () => receiver!.received.some((r) => r.json.data?.message?._id === next._id),
    10_000,
    'the next event'
  )
  expect(receiver.received.slice(0, 2).map((r) => r.json.data.message._id)).toEqual([
    lost._id,
    lost._id,
  ])
  const metrics = await (await fetch(`${server.url}/metrics`)).text()
  expect(metrics).toMatch(/chat_webhook_dead_letters_total\{type="message.created"\} 1/)
})

test('a receiver that never answers holds up no send', async () => {
  receiver = startReceiver(() => null)
  server = await startServer({
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_TIMEOUT: '60s',
    MESSAGE_RATE_PER_MINUTE: '0',
  })
  const alice = await registerUser(server.url)
  await post(alice.accessToken, '/api/cities/pune/messages', { content: 'first' })
  await eventually(() => receiver!.held.length > 0, 10_000, 'a held delivery')
  for (let i = 0; i < 20; i++) {
    const sent = await post(alice.accessToken, '/api/cities/pune/messages', { content: `go ${i}` })
    expect(sent.message.content).toBe(`go ${i}`)
  }
  const history = await api(server.url, 'GET', '/api/cities/pune/messages', {
    token: alice.accessToken,
  })
  expect(history.body.messages).toHaveLength(21)
})

test('WEBHOOK_URL without WEBHOOK_SECRET stops the start', async () => {
  await expect(startServer({ WEBHOOK_URL: 'http://127.0.0.1:9/hook' })).rejects.toThrow(
    /WEBHOOK_SECRET/
  )
})
