/**
 * @module Mentions, unread state and the notification feed on one node: `@name` resolved to
 * readers of the room, `@all` for chat owners/admins, city read positions and counts, settings
 * and mutes, the feed over REST and its live `notification` event, and the refusals.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import {
  ask,
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
let carol: ChatClient
const open: ChatClient[] = []

beforeAll(async () => {
  server = await startServer()
  alice = await chatUser(server.url)
  bob = await chatUser(server.url)
  carol = await chatUser(server.url)
  open.push(alice, bob, carol)
  await joinCity(alice, 'mumbai')
})
afterAll(async () => {
  for (const c of open) c.socket.disconnect()
  await server.stop()
})

const sendCity = async (who: RegisteredUser, content: string, extra: object = {}) => {
  const res = await api(server.url, 'POST', '/api/cities/mumbai/messages', {
    token: who.accessToken,
    body: { content, ...extra },
  })
  if (res.status !== 201) throw new Error(JSON.stringify(res.body))
  return res.body.message
}
const sendChat = async (who: ChatClient, chatId: string, content: string) => {
  const res = await api(server.url, 'POST', `/api/chats/${chatId}/messages`, {
    token: who.accessToken,
    body: { content },
  })
  if (res.status !== 201) throw new Error(JSON.stringify(res.body))
  return res.body.message
}
const cities = async (who: RegisteredUser) =>
  (await api(server.url, 'GET', '/api/cities', { token: who.accessToken })).body.cities as any[]
const city = async (who: RegisteredUser, id = 'mumbai') =>
  (await cities(who)).find((c) => c._id === id)
const feed = async (who: RegisteredUser, query = '') =>
  (await api(server.url, 'GET', `/api/notifications${query}`, { token: who.accessToken })).body
const settled = () => server.app.chat.notifier.settled()
const sorted = (ids: string[]) => [...ids].sort()

test('@username resolves to users who can read the room, in the ack, the event and history', async () => {
  const heard = once<any>(alice.socket, 'new-city-message')
  const bobNotified = once<any>(bob.socket, 'notification')
  const message = await sendCity(
    alice,
    `hi @${bob.user.username}, @${carol.user.username}. and @nobody_here and mail@${bob.user.username}`
  )
  expect(sorted(message.mentions)).toEqual(sorted([bob.user._id, carol.user._id]))
  expect(sorted((await heard).mentions)).toEqual(sorted(message.mentions))
  const history = await api(server.url, 'GET', '/api/cities/mumbai/messages', {
    token: bob.accessToken,
  })
  const stored = history.body.messages.find((m: any) => m._id === message._id)
  expect(sorted(stored.mentions)).toEqual(sorted(message.mentions))
  const live = await bobNotified
  expect(live.kind).toBe('mention')
  expect(live.cityId).toBe('mumbai')
  expect(live.message._id).toBe(message._id)
  expect(live.read).toBe(false)
  // A message without '@' mentions no one.
  expect((await sendCity(alice, 'plain words')).mentions).toEqual([])
})

test('in a private chat only members resolve, and @all is for the owner and admins', async () => {
  const dave = await registerUser(server.url)
  const chatId = await createPrivateChat(server.url, alice, [bob, dave])
  const outsider = await sendChat(alice, chatId, `@${carol.user.username} @${bob.user.username}`)
  expect(outsider.mentions).toEqual([bob.user._id])
  const byMember = await sendChat(bob, chatId, '@all look')
  expect(byMember.mentions).toEqual([])
  const byOwner = await sendChat(alice, chatId, '@all look')
  expect(sorted(byOwner.mentions)).toEqual(sorted([bob.user._id, dave.user._id]))
  await settled()
  const daveFeed = await feed(dave)
  // Added to the chat, then three messages while offline: two mentions, one plain (by bob).
  expect(daveFeed.notifications.map((n: any) => n.kind)).toEqual([
    'mention',
    'message',
    'message',
    'added',
  ])
  const chats = await api(server.url, 'GET', '/api/chats', { token: dave.accessToken })
  const mine = chats.body.chats.find((c: any) => c._id === chatId)
  expect(mine.unreadCount).toBe(3)
  expect(mine.mentionCount).toBe(1)
  const bobs = await api(server.url, 'GET', '/api/chats', { token: bob.accessToken })
  expect(bobs.body.chats.find((c: any) => c._id === chatId).mentionCount).toBe(2)
})

test('city unread counts start at a read position; mentions count with or without one', async () => {
  const erin = await chatUser(server.url)
  open.push(erin)
  expect(await city(erin)).toMatchObject({ unreadCount: null, mentionCount: 0 })
  await sendCity(alice, `hello @${erin.user.username}`)
  expect(await city(erin)).toMatchObject({ unreadCount: null, mentionCount: 1 })
  const ack = await ask(erin.socket, 'mark-messages-read', { cityId: 'mumbai' })
  expect(ack.ok).toBe(true)
  expect(ack.cityId).toBe('mumbai')
  expect(await city(erin)).toMatchObject({ unreadCount: 0, mentionCount: 0 })
  await sendCity(alice, 'one')
  await sendCity(alice, `two @${erin.user.username}`)
  expect(await city(erin)).toMatchObject({ unreadCount: 2, mentionCount: 1 })
  expect(await city(erin, 'delhi')).toMatchObject({ unreadCount: null, mentionCount: 0 })
  // The REST form moves it too.
  const read = await api(server.url, 'POST', '/api/cities/mumbai/read', { token: erin.accessToken })
  expect(read.status).toBe(200)
  expect(await city(erin)).toMatchObject({ unreadCount: 0, mentionCount: 0 })
  // Refusals: an unknown city, a malformed payload.
  expect((await ask(erin.socket, 'mark-messages-read', { cityId: 'atlantis' })).error.code).toBe(
    'not_found'
  )
  expect((await ask(erin.socket, 'mark-messages-read', { cityId: 7 })).error.code).toBe(
    'invalid_input'
  )
})

test('settings: defaults, level none and mutes stop notifications, not mention counts', async () => {
  const frank = await chatUser(server.url)
  open.push(frank)
  const base = `/api/notification-settings`
  const get = (path: string) =>
    api(server.url, 'GET', `${base}${path}`, { token: frank.accessToken })
  const put = (path: string, body: unknown, token = frank.accessToken) =>
    api(server.url, 'PUT', `${base}${path}`, { token, body })
  expect((await get('/city/mumbai')).body.setting).toEqual({
    cityId: 'mumbai',
    level: 'mentions',
    muteUntil: null,
  })
  const chatId = await createPrivateChat(server.url, alice, [frank])
  expect((await get(`/chat/${chatId}`)).body.setting.level).toBe('all')

  expect((await put('/city/mumbai', { level: 'none' })).status).toBe(200)
  await sendCity(alice, `ping @${frank.user.username}`)
  const until = new Date(Date.now() + 3_600_000).toISOString()
  const muted = await put(`/chat/${chatId}`, { level: 'all', muteUntil: until })
  expect(muted.body.setting).toEqual({ chatId, level: 'all', muteUntil: until })
  await sendChat(alice, chatId, `ping @${frank.user.username}`)
  await settled()
  // Only being added got through; the mention still counts.
  expect((await feed(frank)).notifications.map((n: any) => n.kind)).toEqual(['added'])
  expect((await city(frank)).mentionCount).toBe(1)

  // Back to mentions in the city: the next mention notifies, live.
  await put('/city/mumbai', { level: 'mentions', muteUntil: null })
  const live = once<any>(frank.socket, 'notification')
  await sendCity(alice, `again @${frank.user.username}`)
  expect((await live).kind).toBe('mention')

  // Refusals.
  expect((await put('/city/mumbai', { level: 'loud' })).status).toBe(400)
  expect((await put('/city/mumbai', { level: 'all', muteUntil: 'tomorrow' })).status).toBe(400)
  expect((await put('/city/atlantis', { level: 'all' })).status).toBe(404)
  expect((await put('/room/mumbai', { level: 'all' })).status).toBe(400)
  expect((await put('/chat/not-an-id', { level: 'all' })).status).toBe(400)
  expect((await put(`/chat/${chatId}`, { level: 'all' }, carol.accessToken)).status).toBe(403)
  expect((await api(server.url, 'GET', `${base}/city/mumbai`)).status).toBe(401)
})

test('the feed: replies, newest first, paging, marking read, and only your own', async () => {
  const grace = await chatUser(server.url)
  open.push(grace)
  const second = await connectAs(server.url, grace)
  open.push(second)
  const original = await sendCity(grace, 'my question')
  const onFirst = once<any>(grace.socket, 'notification')
  const onSecond = once<any>(second.socket, 'notification')
  const reply = await sendCity(bob, 'an answer', { reply_to: original._id })
  const [first, other] = await Promise.all([onFirst, onSecond])
  expect(first.kind).toBe('reply')
  expect(first.message._id).toBe(reply._id)
  expect(other._id).toBe(first._id)
  await sendCity(alice, `@${grace.user.username} one`)
  await sendCity(alice, `@${grace.user.username} two`)
  await settled()
  const all = await feed(grace)
  expect(all.notifications.map((n: any) => n.message.content)).toEqual([
    `@${grace.user.username} two`,
    `@${grace.user.username} one`,
    'an answer',
  ])
  expect(all.unreadCount).toBe(3)
  const page = await feed(grace, `?limit=1&before=${all.notifications[0]._id}`)
  expect(page.notifications.map((n: any) => n._id)).toEqual([all.notifications[1]._id])
  expect(page.hasMore).toBe(true)
  const marked = await api(server.url, 'POST', '/api/notifications/read', {
    token: grace.accessToken,
    body: { upTo: all.notifications[1]._id },
  })
  expect(marked.body).toEqual({ updated: 2, unreadCount: 1 })
  expect((await feed(grace)).notifications.map((n: any) => n.read)).toEqual([false, true, true])
  // Someone else's upTo marks nothing of theirs; bad input and no token are refused.
  const bobs = await api(server.url, 'POST', '/api/notifications/read', {
    token: bob.accessToken,
    body: { upTo: all.notifications[0]._id },
  })
  expect(bobs.status).toBe(200)
  expect((await feed(grace)).unreadCount).toBe(1)
  expect((await feed(bob)).notifications.some((n: any) => n.userId)).toBe(false)
  for (const body of [{}, { upTo: 'x' }, { upTo: 5 }]) {
    const res = await api(server.url, 'POST', '/api/notifications/read', {
      token: grace.accessToken,
      body,
    })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('invalid_input')
  }
  expect(
    (await api(server.url, 'GET', '/api/notifications?limit=0', { token: grace.accessToken }))
      .status
  ).toBe(400)
  expect((await api(server.url, 'GET', '/api/notifications')).status).toBe(401)
})

test('a plain private message notifies only members with no live socket', async () => {
  const away = await registerUser(server.url)
  const chatId = await createPrivateChat(server.url, alice, [bob, away])
  await sendChat(alice, chatId, 'plain hello')
  await settled()
  expect((await feed(away)).notifications.map((n: any) => n.kind)).toEqual(['message', 'added'])
  const bobs = (await feed(bob)).notifications.filter((n: any) => n.chatId === chatId)
  expect(bobs.map((n: any) => n.kind)).toEqual(['added'])
})
