/**
 * @module Acknowledged, idempotent sends under retry storms: many concurrent sends with one
 * clientId store one row, broadcast once, and every ack carries the same message.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { api } from '../helpers/api.ts'
import {
  ask,
  barrier,
  type ChatClient,
  chatUser,
  connectAs,
  createPrivateChat,
  joinCity,
  once,
} from '../helpers/chat-client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
let alice: ChatClient
let bob: ChatClient
const extra: ChatClient[] = []

beforeEach(async () => {
  server = await startServer()
  ;[alice, bob] = await Promise.all([chatUser(server.url), chatUser(server.url)])
})

afterEach(async () => {
  for (const user of [alice, bob, ...extra.splice(0)]) user?.socket.disconnect()
  await server.stop()
})

const STORM = 40

describe('retry storms with one clientId', () => {
  test('concurrent city sends from two tabs: one row, one broadcast, identical acks', async () => {
    const tab2 = await connectAs(server.url, alice)
    extra.push(tab2)
    await Promise.all([joinCity(alice), joinCity(tab2), joinCity(bob)])
    const payload = { cityId: 'mumbai', content: 'only once', clientId: 'storm-1' }
    const acks = await Promise.all(
      Array.from({ length: STORM }, (_, i) =>
        ask((i % 2 === 0 ? alice : tab2).socket, 'send-city-message', payload)
      )
    )
    for (const ack of acks) expect(ack.ok).toBe(true)
    const ids = new Set(acks.map((ack) => ack.message._id))
    expect(ids.size).toBe(1)
    // Exactly one ack reports the original; every other one is the stored duplicate.
    expect(acks.filter((ack) => !ack.duplicate)).toHaveLength(1)
    for (const ack of acks) expect(ack.message).toEqual(acks[0].message)

    await Promise.all([barrier(bob.socket), barrier(alice.socket), barrier(tab2.socket)])
    expect(bob.got('new-city-message').map((m) => m._id)).toEqual([...ids])
    expect(alice.got('new-city-message')).toHaveLength(1)
    expect(tab2.got('new-city-message')).toHaveLength(1)

    const history = await api(server.url, 'GET', '/api/cities/mumbai/messages', {
      token: bob.accessToken,
    })
    expect(history.body.messages.filter((m: any) => m.content === 'only once')).toHaveLength(1)
  })

  test('a retry after the first ack returns the same message and broadcasts nothing', async () => {
    await Promise.all([joinCity(alice), joinCity(bob)])
    const payload = { cityId: 'mumbai', content: 'hello', clientId: 'retry-1' }
    const first = await ask(alice.socket, 'send-city-message', payload)
    await barrier(bob.socket)
    const retries = await Promise.all(
      Array.from({ length: 10 }, () => ask(alice.socket, 'send-city-message', payload))
    )
    for (const retry of retries) {
      expect(retry).toEqual({ ok: true, message: first.message, duplicate: true })
    }
    await barrier(bob.socket)
    expect(bob.got('new-city-message')).toHaveLength(1)
  })

  test('a private chat storm: socket and REST retries race, still one message', async () => {
    const chatId = await createPrivateChat(server.url, alice, [bob])
    for (const user of [alice, bob]) {
      const ack = await ask(user.socket, 'join-private-chat', { chatId })
      expect(ack.ok).toBe(true)
    }
    const body = { content: 'race', clientId: 'mixed-1' }
    const results = await Promise.all(
      Array.from({ length: STORM }, (_, i) =>
        i % 4 === 0
          ? api(server.url, 'POST', `/api/chats/${chatId}/messages`, {
              token: alice.accessToken,
              body,
            }).then((res) => res.body.message._id as string)
          : ask(alice.socket, 'send-private-message', { chatId, ...body }).then(
              (ack) => ack.message._id as string
            )
      )
    )
    expect(new Set(results).size).toBe(1)
    await barrier(bob.socket)
    expect(bob.got('new-private-message')).toHaveLength(1)
  })

  test('the same clientId is per user: two users with one clientId get two messages', async () => {
    await Promise.all([joinCity(alice), joinCity(bob)])
    const seen = once<any>(alice.socket, 'new-city-message')
    const [a, b] = await Promise.all([
      ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'a', clientId: 'x' }),
      ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content: 'b', clientId: 'x' }),
    ])
    await seen
    expect(a.message._id).not.toBe(b.message._id)
    expect(a.duplicate).toBe(false)
    expect(b.duplicate).toBe(false)
  })

  test('reusing a clientId in another room is a conflict, not a silent duplicate', async () => {
    await joinCity(alice, 'mumbai')
    await joinCity(alice, 'delhi')
    await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'a', clientId: 'y' })
    const other = await ask(alice.socket, 'send-city-message', {
      cityId: 'delhi',
      content: 'a',
      clientId: 'y',
    })
    expect(other.ok).toBe(false)
    expect(other.error.code).toBe('conflict')
  })
})
