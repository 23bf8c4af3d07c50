/**
 * @module Reactions over sockets and REST: react / unreact with acks and the room's
 * `*-message-reaction`, one per user and emoji, short names, counts and userIds in history, the
 * refusals (bad emoji, wrong room, not a member, deleted message, over 50 emojis, rate limit), and
 * a shadow-restricted user's reactions seen by that user alone.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { api, as, type RegisteredUser, registerUser } from '../helpers/api.ts'
import {
  ask,
  barrier,
  createPrivateChat,
  joinCity,
  once,
  say,
  trackClients,
} from '../helpers/chat-client.ts'
import { startServer, useAdminServer } from '../helpers/server.ts'

const env = useAdminServer('react_admin', 'react', { MESSAGE_BURST: '200' })
const clients = trackClients()
afterEach(() => clients.disconnectAll())

const reactPath = (messageId: string, emoji: string) =>
  `/api/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`

describe('reactions in a city, over sockets', () => {
  test('react and unreact: acks, the room hears each change once with the count after it', async () => {
    const cityId = await env.newCity()
    const alice = await clients.user(env.url)
    const bob = await clients.user(env.url)
    for (const c of [alice, bob]) await joinCity(c, cityId)
    const message = await say(alice, cityId, 'react to me')
    expect(message.reactions).toEqual([])

    const heard = once<any>(alice.socket, 'city-message-reaction')
    const first = await ask(bob.socket, 'react-message', {
      messageId: message._id,
      emoji: '👍',
      cityId,
    })
    expect(first).toEqual({
      ok: true,
      messageId: message._id,
      emoji: '👍',
      action: 'add',
      count: 1,
      changed: true,
    })
    expect(await heard).toEqual({
      messageId: message._id,
      emoji: '👍',
      userId: bob.user._id,
      action: 'add',
      count: 1,
      cityId,
    })
    // The short name is the same reaction: alice's makes 2; bob's again changes nothing.
    const second = await ask(alice.socket, 'react-message', {
      messageId: message._id,
      emoji: 'thumbsup',
      cityId,
    })
    expect(second).toMatchObject({ ok: true, emoji: '👍', count: 2, changed: true })
    const again = await ask(bob.socket, 'react-message', {
      messageId: message._id,
      emoji: 'thumbsup',
      cityId,
    })
    expect(again).toMatchObject({ ok: true, count: 2, changed: false })
    await ask(bob.socket, 'react-message', { messageId: message._id, emoji: '❤', cityId })
    await barrier(alice.socket)
    expect(alice.got('city-message-reaction').map((r) => [r.userId, r.emoji, r.count])).toEqual([
      [bob.user._id, '👍', 1],
      [alice.user._id, '👍', 2],
      // ❤ (no presentation selector) is stored as ❤️.
      [bob.user._id, '❤️', 1],
    ])

    const history = await api(env.url, 'GET', `/api/cities/${cityId}/messages`, as(bob))
    expect(history.body.messages.at(-1).reactions).toEqual([
      { emoji: '👍', count: 2, userIds: [bob.user._id, alice.user._id] },
      { emoji: '❤️', count: 1, userIds: [bob.user._id] },
    ])

    const removed = once<any>(alice.socket, 'city-message-reaction')
    const undo = await ask(bob.socket, 'unreact-message', {
      messageId: message._id,
      emoji: '👍',
      cityId,
    })
    expect(undo).toMatchObject({ ok: true, action: 'remove', count: 1, changed: true })
    expect(await removed).toMatchObject({ action: 'remove', count: 1, userId: bob.user._id })
    // Nothing to remove: no change, nothing heard.
    const before = alice.got('city-message-reaction').length
    const none = await ask(bob.socket, 'unreact-message', {
      messageId: message._id,
      emoji: '👍',
      cityId,
    })
    expect(none).toMatchObject({ ok: true, changed: false, count: 1 })
    await barrier(alice.socket)
    expect(alice.got('city-message-reaction').length).toBe(before)
  })

  test('refusals: bad emoji, wrong room, unknown and deleted message, archived city', async () => {
    const cityId = await env.newCity()
    const other = await env.newCity()
    const alice = await clients.user(env.url)
    await joinCity(alice, cityId)
    const message = await say(alice, cityId, 'no')
    for (const emoji of ['a', '👍👍', 'notaname', '', 'x'.repeat(80), '1']) {
      const ack = await ask(alice.socket, 'react-message', {
        messageId: message._id,
        emoji,
        cityId,
      })
      expect(ack.ok).toBe(false)
      expect(ack.error.code).toBe('invalid_input')
    }
    const error = once<any>(alice.socket, 'error')
    const wrongRoom = await ask(alice.socket, 'react-message', {
      messageId: message._id,
      emoji: '👍',
      cityId: other,
    })
    expect(wrongRoom.error.code).toBe('not_found')
    expect(await error).toMatchObject({ code: 'not_found', event: 'react-message' })
    const unknown = await ask(alice.socket, 'react-message', {
      messageId: '0123456789abcdef01234567',
      emoji: '👍',
      cityId,
    })
    expect(unknown.error.code).toBe('not_found')
    const noRoom = await ask(alice.socket, 'react-message', { messageId: message._id, emoji: '👍' })
    expect(noRoom.error.code).toBe('invalid_input')

    await ask(alice.socket, 'delete-city-message', { messageId: message._id, cityId })
    const deleted = await ask(alice.socket, 'react-message', {
      messageId: message._id,
      emoji: '👍',
      cityId,
    })
    expect(deleted.error.code).toBe('not_found')

    const kept = await say(alice, cityId, 'still here')
    const archived = await api(env.url, 'PATCH', `/api/admin/cities/${cityId}`, {
      ...as(env.admin),
      body: { archived: true },
    })
    expect(archived.status).toBe(200)
    const refused = await ask(alice.socket, 'react-message', {
      messageId: kept._id,
      emoji: '👍',
      cityId,
    })
    expect(refused.error.code).toBe('archived')
  })

  test('at most 50 distinct emojis on a message; an existing one may still be added', async () => {
    const cityId = await env.newCity()
    const alice = await clients.user(env.url)
    const bob = await clients.user(env.url)
    for (const c of [alice, bob]) await joinCity(c, cityId)
    const message = await say(alice, cityId, 'many')
    // 50 distinct emojis: the faces from 😀 (U+1F600) on.
    const faces = Array.from({ length: 51 }, (_, i) => String.fromCodePoint(0x1f600 + i))
    for (const emoji of faces.slice(0, 50)) {
      const put = await api(env.url, 'PUT', reactPath(message._id, emoji), as(alice))
      expect(put.status).toBe(200)
    }
    const over = await api(env.url, 'PUT', reactPath(message._id, faces[50] as string), as(bob))
    expect(over.status).toBe(409)
    expect(over.body.error).toMatchObject({ code: 'conflict', details: { limit: 50 } })
    const same = await api(env.url, 'PUT', reactPath(message._id, faces[0] as string), as(bob))
    expect(same.status).toBe(200)
    expect(same.body).toMatchObject({ count: 2, changed: true })
    const history = await api(env.url, 'GET', `/api/cities/${cityId}/messages`, as(bob))
    const reactions = history.body.messages.at(-1).reactions
    expect(reactions.length).toBe(50)
    expect(reactions[0]).toEqual({
      emoji: faces[0],
      count: 2,
      userIds: [alice.user._id, bob.user._id],
    })
  })

  test('userIds are cut at 10 and reactions sorted by count', async () => {
    const cityId = await env.newCity()
    const author = await clients.user(env.url)
    await joinCity(author, cityId)
    const message = await say(author, cityId, 'popular')
    const users = await Promise.all(Array.from({ length: 12 }, () => registerUser(env.url)))
    await api(env.url, 'PUT', reactPath(message._id, '👀'), as(users[0] as RegisteredUser))
    for (const user of users) {
      expect((await api(env.url, 'PUT', reactPath(message._id, 'tada'), as(user))).status).toBe(200)
    }
    const history = await api(env.url, 'GET', `/api/cities/${cityId}/messages`, as(author))
    const [tada, eyes] = history.body.messages.at(-1).reactions
    expect(tada.emoji).toBe('🎉')
    expect(tada.count).toBe(12)
    expect(tada.userIds).toEqual(users.slice(0, 10).map((u) => u.user._id))
    expect(eyes).toEqual({ emoji: '👀', count: 1, userIds: [users[0]?.user._id] })
  })

  test("a shadowed user's reactions are seen by that user only", async () => {
    const cityId = await env.newCity()
    const alice = await clients.user(env.url)
    const shadow = await clients.user(env.url)
    for (const c of [alice, shadow]) await joinCity(c, cityId)
    const message = await say(alice, cityId, 'watch')
    const restricted = await api(env.url, 'POST', `/api/cities/${cityId}/restrictions`, {
      ...as(env.admin),
      body: { userId: shadow.user._id, kind: 'shadow' },
    })
    expect(restricted.status).toBe(201)
    const own = once<any>(shadow.socket, 'city-message-reaction')
    const ack = await ask(shadow.socket, 'react-message', {
      messageId: message._id,
      emoji: '🔥',
      cityId,
    })
    expect(ack).toMatchObject({ ok: true, count: 1, changed: true })
    expect(await own).toMatchObject({ userId: shadow.user._id, count: 1 })
    await barrier(alice.socket)
    expect(alice.got('city-message-reaction')).toEqual([])
    const seen = async (who: RegisteredUser) =>
      (await api(env.url, 'GET', `/api/cities/${cityId}/messages`, as(who))).body.messages.at(-1)
        .reactions
    expect(await seen(alice)).toEqual([])
    expect(await seen(shadow)).toEqual([{ emoji: '🔥', count: 1, userIds: [shadow.user._id] }])
    // Alice's own 🔥 counts 1 for the room; the shadowed user still sees 2.
    const mine = await ask(alice.socket, 'react-message', {
      messageId: message._id,
      emoji: '🔥',
      cityId,
    })
    expect(mine.count).toBe(1)
    expect((await seen(shadow))[0].count).toBe(2)
  })
})

describe('reactions in a private chat, over REST', () => {
  test('PUT and DELETE broadcast private-message-reaction; outsiders and other users refused', async () => {
    const alice = await clients.user(env.url)
    const bob = await clients.user(env.url)
    const outsider = await clients.user(env.url)
    const chatId = await createPrivateChat(env.url, alice, [bob])
    for (const c of [alice, bob]) {
      const joined = await ask(c.socket, 'join-private-chat', { chatId })
      expect(joined.ok).toBe(true)
    }
    const sent = await api(env.url, 'POST', `/api/chats/${chatId}/messages`, {
      ...as(alice),
      body: { content: 'hello' },
    })
    const messageId = sent.body.message._id
    const heard = once<any>(alice.socket, 'private-message-reaction')
    const put = await api(env.url, 'PUT', reactPath(messageId, '🚀'), as(bob))
    expect(put.status).toBe(200)
    expect(put.body).toEqual({
      messageId,
      emoji: '🚀',
      action: 'add',
      count: 1,
      changed: true,
    })
    expect(await heard).toEqual({
      messageId,
      emoji: '🚀',
      userId: bob.user._id,
      action: 'add',
      count: 1,
      chatId,
    })
    // Not a member: refused, and nothing heard.
    const outside = await api(env.url, 'PUT', reactPath(messageId, '🚀'), as(outsider))
    expect(outside.status).toBe(404)
    const outsideSocket = await ask(outsider.socket, 'react-message', {
      messageId,
      emoji: '🚀',
      chatId,
    })
    expect(outsideSocket.error.code).toBe('not_found')
    // Another user cannot take bob's reaction away: alice's DELETE changes nothing.
    const notHers = await api(env.url, 'DELETE', reactPath(messageId, '🚀'), as(alice))
    expect(notHers.body).toMatchObject({ changed: false, count: 1 })
    const bad = await api(env.url, 'PUT', reactPath(messageId, 'nope'), as(bob))
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('invalid_input')
    const gone = once<any>(alice.socket, 'private-message-reaction')
    const del = await api(env.url, 'DELETE', reactPath(messageId, 'rocket'), as(bob))
    expect(del.body).toMatchObject({ action: 'remove', count: 0, changed: true })
    expect(await gone).toMatchObject({ action: 'remove', count: 0, chatId })
    await barrier(alice.socket)
    expect(alice.got('private-message-reaction').length).toBe(2)
  })
})

describe('rate limit', () => {
  test('reactions spend the message rate: refused with rate_limited once it is used up', async () => {
    const limited = await startServer({ MESSAGE_BURST: '3', MESSAGE_RATE_PER_MINUTE: '1' })
    try {
      const alice = await registerUser(limited.url)
      const sent = await api(limited.url, 'POST', '/api/cities/mumbai/messages', {
        ...as(alice),
        body: { content: 'rate' },
      })
      const id = sent.body.message._id
      const statuses: number[] = []
      for (const emoji of ['👍', '👎', '🎉', '🔥']) {
        statuses.push((await api(limited.url, 'PUT', reactPath(id, emoji), as(alice))).status)
      }
      expect(statuses).toEqual([200, 200, 429, 429])
    } finally {
      await limited.stop()
    }
  })
})
