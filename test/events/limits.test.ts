/**
 * @module Abuse limits on the realtime path: per-user message rate (socket and REST share one
 * bucket), rooms per socket, connections per user.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { api } from '../helpers/api.ts'
import { ask, type ChatClient, connectAs, joinCity, trackClients } from '../helpers/chat-client.ts'
import { eioHandshake, eioPush, wsConnect } from '../helpers/realtime.ts'
import { rejectionOf } from '../helpers/rejection.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer | undefined
const clients = trackClients()

afterEach(async () => {
  clients.disconnectAll()
  await server?.stop()
  server = undefined
})

const user = (url: string) => clients.user(url)

describe('message rate', () => {
  test('over the burst, sends are refused with rate_limited and retryAfterMs', async () => {
    server = await startServer({ MESSAGE_BURST: 3, MESSAGE_RATE_PER_MINUTE: 6 })
    const alice = await user(server.url)
    await joinCity(alice)
    const send = (i: number) =>
      ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: `m${i}` })
    const acks = []
    for (let i = 0; i < 5; i++) acks.push(await send(i))
    expect(acks.map((ack) => ack.ok)).toEqual([true, true, true, false, false])
    const refused = acks[3]
    expect(refused.error.code).toBe('rate_limited')
    // 6 per minute: one token every 10 s.
    expect(refused.error.details.retryAfterMs).toBeGreaterThan(5_000)
    expect(refused.error.details.retryAfterMs).toBeLessThanOrEqual(10_000)
  })

  test('REST and socket sends share one bucket per user; other users are unaffected', async () => {
    server = await startServer({ MESSAGE_BURST: 2, MESSAGE_RATE_PER_MINUTE: 1 })
    const [alice, bob] = [await user(server.url), await user(server.url)]
    await Promise.all([joinCity(alice), joinCity(bob)])
    const rest = () =>
      api(server!.url, 'POST', '/api/cities/mumbai/messages', {
        token: alice.accessToken,
        body: { content: 'rest' },
      })
    expect((await rest()).status).toBe(201)
    const viaSocket = await ask(alice.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 's',
    })
    expect(viaSocket.ok).toBe(true)
    const third = await rest()
    expect(third.status).toBe(429)
    expect(third.body.error.code).toBe('rate_limited')
    const bobs = await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content: 'b' })
    expect(bobs.ok).toBe(true)
  })

  test('a retried clientId is answered even when the bucket is empty', async () => {
    server = await startServer({ MESSAGE_BURST: 1, MESSAGE_RATE_PER_MINUTE: 1 })
    const alice = await user(server.url)
    await joinCity(alice)
    const payload = { cityId: 'mumbai', content: 'once', clientId: 'r-1' }
    const first = await ask(alice.socket, 'send-city-message', payload)
    const retry = await ask(alice.socket, 'send-city-message', payload)
    expect(retry).toEqual({ ok: true, message: first.message, duplicate: true })
    const fresh = await ask(alice.socket, 'send-city-message', { ...payload, clientId: 'r-2' })
    expect(fresh.error.code).toBe('rate_limited')
  })

  test('MESSAGE_RATE_PER_MINUTE=0 turns the limit off', async () => {
    server = await startServer({ MESSAGE_BURST: 1, MESSAGE_RATE_PER_MINUTE: 0 })
    const alice = await user(server.url)
    await joinCity(alice)
    for (let i = 0; i < 5; i++) {
      const ack = await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'x' })
      expect(ack.ok).toBe(true)
    }
  })
})

describe('rooms per socket', () => {
  test('joining past the limit is refused; rejoining a room and joining after a leave work', async () => {
    server = await startServer({ MAX_ROOMS_PER_SOCKET: 2 })
    const alice = await user(server.url)
    await joinCity(alice, 'mumbai')
    await joinCity(alice, 'delhi')
    const third = await ask(alice.socket, 'join-city-chat', { cityId: 'bengaluru' })
    expect(third.ok).toBe(false)
    expect(third.error).toEqual({
      code: 'forbidden',
      message: 'at most 2 rooms per connection',
      details: { limit: 2 },
    })
    expect((await ask(alice.socket, 'join-city-chat', { cityId: 'delhi' })).ok).toBe(true)
    await ask(alice.socket, 'leave-city-chat', { cityId: 'delhi' })
    expect((await ask(alice.socket, 'join-city-chat', { cityId: 'bengaluru' })).ok).toBe(true)
  })
})

describe('connections per user', () => {
  test('a handshake past the limit gets connect_error; closing one frees a slot', async () => {
    server = await startServer({ MAX_CONNECTIONS_PER_USER: 2 })
    const alice = await user(server.url)
    const second = await connectAs(server.url, alice)
    clients.track(second)
    const refused = await connectAs(server.url, alice, { reconnection: false }).then(
      () => undefined,
      (error: Error & { data?: unknown }) => error
    )
    expect(refused?.message).toBe('Too many connections')
    expect(refused?.data).toEqual({ code: 'rate_limited', limit: 2 })

    const gone = new Promise((resolve) => second.socket.once('disconnect', resolve))
    second.socket.disconnect()
    await gone
    // The server sees the DISCONNECT shortly after; a new handshake then succeeds.
    let third: ChatClient | undefined
    for (let attempt = 0; attempt < 50 && !third; attempt++) {
      third = await connectAs(server.url, alice, { reconnection: false }).catch(() => undefined)
    }
    expect(third?.socket.connected).toBe(true)
    if (third) clients.track(third)
  })

  test('other users are not affected by one user hitting the limit', async () => {
    server = await startServer({ MAX_CONNECTIONS_PER_USER: 1 })
    const alice = await user(server.url)
    const refused = await rejectionOf(connectAs(server.url, alice, { reconnection: false }))
    expect(refused.message).toContain('Too many connections')
    const bob = await user(server.url)
    expect(bob.socket.connected).toBe(true)
  })
})

describe('MAX_PAYLOAD on every path', () => {
  test('advertised in the handshake; a bigger frame closes the WebSocket (1009), a bigger POST is 413', async () => {
    server = await startServer({ MAX_PAYLOAD: 2_048 })
    const alice = await user(server.url)
    const open = await eioHandshake(server.url)
    expect(open.open.maxPayload).toBe(2_048)

    const ws = await wsConnect(server.url, JSON.stringify({ token: alice.accessToken }))
    ws.send(`42["send-city-message",{"cityId":"mumbai","content":"${'a'.repeat(3_000)}"}]`)
    expect(await ws.closed).toBe(1009)

    // The first POST of a fresh polling session, before any CONNECT, is bounded too.
    const { sid } = await eioHandshake(server.url)
    const tooBig = await eioPush(
      server.url,
      sid,
      `40${JSON.stringify({ token: 'x'.repeat(3_000) })}`
    )
    expect(tooBig.status).toBe(413)
    // And the server still serves normal clients.
    await joinCity(alice)
  })
})
