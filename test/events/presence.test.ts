/** @module Presence: distinct online users, room lists, status with lastSeen, user-offline, heartbeat. */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { chatRoom, cityRoom, topicOf } from '../../src/chat/rooms.ts'
import {
  createRoomOnlineBroadcaster,
  ROOM_ONLINE_USERS_CAP,
} from '../../src/events/presence-handlers.ts'
import { createLogger } from '../../src/log.ts'
import type { IOSocket } from '../../src/realtime/index.ts'
import { createMemoryPresence } from '../../src/store/presence-memory.ts'
import { EVENTS } from '../../src/web/events-catalog.ts'
import {
  ask,
  barrier,
  type ChatClient,
  cityOnline,
  connectAs,
  createPrivateChat,
  joinCity,
  once,
  trackClients,
} from '../helpers/chat-client.ts'
import { connect, startIO } from '../helpers/realtime.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
const clients = trackClients()

const user = () => clients.user(server.url)

/** Waits for the `online-users` broadcast that reports `count`. */
function onlineCount(client: ChatClient, count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (n: number) => {
      if (n !== count) return
      client.socket.off('online-users', check)
      resolve()
    }
    client.socket.on('online-users', check)
  })
}

beforeEach(async () => {
  server = await startServer()
})

afterEach(async () => {
  clients.disconnectAll()
  await server.stop()
})

test('online-users counts distinct users and is broadcast on every change', async () => {
  const alice = await user()
  expect(await ask(alice.socket, 'get-online-count')).toEqual({ ok: true, count: 1 })
  const seen = onlineCount(alice, 2)
  const bob = await user()
  await seen
  // A second tab is the same user: the count stays.
  const tab = await connectAs(server.url, bob)
  clients.track(tab)
  const answered = once<number>(alice.socket, 'online-users')
  alice.socket.emit('get-online-count')
  expect(await answered).toBe(2)

  // Closing one of bob's two tabs: still online, no user-offline.
  tab.socket.disconnect()
  await barrier(alice.socket)
  expect(alice.got('user-offline')).toEqual([])
  // Closing the last one: user-offline to all, and the count drops.
  const offline = once<any>(alice.socket, 'user-offline')
  const dropped = onlineCount(alice, 1)
  bob.socket.disconnect()
  const notice = await offline
  expect(notice).toEqual({
    userId: bob.user._id,
    username: bob.user.username,
    lastSeen: expect.any(String),
  })
  await dropped
})

test('check-user-online answers status and lastSeen', async () => {
  const alice = await user()
  const bob = await user()
  const online = once<any>(alice.socket, 'user-online-status')
  await ask(alice.socket, 'check-user-online', { userId: bob.user._id })
  expect(await online).toEqual({ userId: bob.user._id, isOnline: true, lastSeen: null })

  const offline = once<any>(alice.socket, 'user-offline')
  bob.socket.disconnect()
  const { lastSeen } = await offline
  const status = await ask(alice.socket, 'check-user-online', { userId: bob.user._id })
  expect(status).toEqual({ ok: true, userId: bob.user._id, isOnline: false, lastSeen })

  const unknown = await ask(alice.socket, 'check-user-online', { userId: 'a'.repeat(24) })
  expect(unknown.error.code).toBe('not_found')
  const invalid = await ask(alice.socket, 'check-user-online', { userId: 42 })
  expect(invalid.error.code).toBe('invalid_input')
})

test('city-online-users lists distinct users in that city room', async () => {
  const alice = await user()
  const bob = await user()
  const carol = await user()
  await joinCity(alice)
  await joinCity(bob)
  await joinCity(carol, 'delhi')
  const tab = await connectAs(server.url, alice)
  clients.track(tab)
  await joinCity(tab)
  const answer = once<any>(carol.socket, 'city-online-users')
  await ask(carol.socket, 'get-city-online-users', { cityId: 'mumbai' })
  const list = await answer
  expect(list.cityId).toBe('mumbai')
  expect(list.count).toBe(2)
  expect(list.users.map((u: any) => u.userId).sort()).toEqual([alice.user._id, bob.user._id].sort())
  expect(list.users[0]).toEqual({
    userId: expect.any(String),
    username: expect.any(String),
    full_name: expect.any(String),
    profile_photo_url: expect.stringMatching(/^\/api\/media\/avatars\/[0-9a-f]{24}$/),
  })
  const unknown = await ask(carol.socket, 'get-city-online-users', { cityId: 'atlantis' })
  expect(unknown.error.code).toBe('not_found')
})

test('chat-online-users lists online members, for members only', async () => {
  const owner = await user()
  const member = await user()
  const offlineMember = await user()
  const stranger = await user()
  const chatId = await createPrivateChat(server.url, owner, [member, offlineMember])
  offlineMember.socket.disconnect()
  await once(owner.socket, 'user-offline')
  const answer = once<any>(owner.socket, 'chat-online-users')
  await ask(owner.socket, 'get-chat-online-users', { chatId })
  const list = await answer
  expect(list.chatId).toBe(chatId)
  expect(list.count).toBe(2)
  expect(list.users.map((u: any) => u.userId).sort()).toEqual(
    [owner.user._id, member.user._id].sort()
  )
  const refused = await ask(stranger.socket, 'get-chat-online-users', { chatId })
  expect(refused.error.code).toBe('not_member')
  await barrier(stranger.socket)
  expect(stranger.got('chat-online-users')).toEqual([])
})

test('heartbeat-ack echoes the client timestamp, else server time', async () => {
  const alice = await user()
  const ack = once<any>(alice.socket, 'heartbeat-ack')
  alice.socket.emit('heartbeat', { timestamp: 12345 })
  const answer = await ack
  expect(answer.timestamp).toBe(12345)
  expect(Math.abs(answer.serverTime - Date.now())).toBeLessThan(5_000)
  const bare = once<any>(alice.socket, 'heartbeat-ack')
  alice.socket.emit('heartbeat')
  const plain = await bare
  expect(plain.timestamp).toBe(plain.serverTime)
})

test('city-online-users is pushed to the room when its members change, not only when asked', async () => {
  const alice = await user()
  const first = cityOnline(alice, 'pune', 1)
  await joinCity(alice, 'pune')
  expect((await first).users.map((u: any) => u.userId)).toEqual([alice.user._id])

  const bob = await user()
  const two = cityOnline(alice, 'pune', 2)
  await joinCity(bob, 'pune')
  const pushed = await two
  expect(pushed.users.map((u: any) => u.userId).sort()).toEqual(
    [alice.user._id, bob.user._id].sort()
  )
  // A second tab of bob's is no change: no push. Bob leaving is one; his going offline is one.
  const tab = await connectAs(server.url, bob)
  clients.track(tab)
  await joinCity(tab, 'pune')
  tab.socket.emit('leave-city-chat', { cityId: 'pune' })
  const one = cityOnline(alice, 'pune', 1)
  bob.socket.disconnect()
  tab.socket.disconnect()
  await one
  await barrier(alice.socket)
  const counts = alice.got('city-online-users').map((a: any) => a.count)
  expect(counts).toEqual([1, 2, 1])
  // Outsiders hear nothing of the room.
  const carol = await user()
  await barrier(carol.socket)
  expect(carol.got('city-online-users')).toEqual([])
})

test('a pushed list is capped; its count stays the whole room', async () => {
  const io = startIO()
  try {
    const presence = createMemoryPresence()
    const topic = topicOf(cityRoom('pune'))
    for (const n of [1, 2, 3]) {
      const who = { userId: `u${n}`, username: `u${n}`, fullName: `U ${n}`, profilePhotoUrl: null }
      await presence.addConnection(who, `s${n}`)
      await presence.joinRoom(topic, who.userId, `s${n}`)
    }
    const listener = once<IOSocket>(io.io, 'connection')
    const c = await connect(io.url, { transports: ['websocket'] })
    ;(await listener).join(topic)
    const pushed = once<any>(c, 'city-online-users')
    const changed = createRoomOnlineBroadcaster(
      io.io,
      presence,
      createLogger({ level: 'silent' }),
      0,
      2
    )
    changed(topic)
    changed(topic) // coalesced: one push
    const answer = await pushed
    expect(answer.cityId).toBe('pune')
    expect(answer.count).toBe(3)
    expect(answer.users).toHaveLength(2)
    changed(topicOf(chatRoom('some-chat'))) // private chats have their own list, asked for
    c.disconnect()
  } finally {
    await io.stop()
  }
})

test('the documented cap is the one the code uses', () => {
  const entry = EVENTS.find((e) => e.name === 'city-online-users')
  expect(entry?.result).toContain(`at most ${ROOM_ONLINE_USERS_CAP} users`)
})
