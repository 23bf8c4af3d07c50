/**
 * @module Mentions, unread state and notifications across two nodes sharing Redis and one
 * database: mentions resolved and counted, city and chat counts the same from either node, the
 * live `notification` event on every device of the user (one per node), settings and mutes set on
 * one node respected by sends on the other, and a plain private message notifying only a member
 * with no live socket on any node.
 */
import { describe, expect, test } from 'bun:test'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { ask, chatUser, connectAs, createPrivateChat, once } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { type Node, SKIP_REASON, useTwoNodes } from './cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

describe.skipIf(!!SKIP_REASON)('notifications on two nodes with Redis', () => {
  const { nodes, track } = useTwoNodes(['n1', 'n2'])

  const get = (url: string, who: RegisteredUser, path: string) =>
    api(url, 'GET', path, { token: who.accessToken })
  const send = async (url: string, who: RegisteredUser, path: string, body: object) => {
    const res = await api(url, 'POST', path, { token: who.accessToken, body })
    if (res.status !== 201) throw new Error(JSON.stringify(res.body))
    return res.body.message
  }
  const cityOf = async (url: string, who: RegisteredUser, id: string) =>
    (await get(url, who, '/api/cities')).body.cities.find((c: any) => c._id === id)

  test('a mention made on n1 reaches every device of the user on both nodes; counts agree', async () => {
    const [n1, n2] = nodes as [Node, Node]
    const alice = track(await chatUser(n1.url))
    const bobOnN1 = track(await chatUser(n1.url))
    const bobOnN2 = track(await connectAs(n2.url, bobOnN1))
    const heard = [
      once<any>(bobOnN1.socket, 'notification'),
      once<any>(bobOnN2.socket, 'notification'),
    ]
    const message = await send(n1.url, alice, '/api/cities/pune/messages', {
      content: `look @${bobOnN1.user.username}`,
    })
    expect(message.mentions).toEqual([bobOnN1.user._id])
    const [first, second] = await Promise.all(heard)
    expect(first.kind).toBe('mention')
    expect(first.message._id).toBe(message._id)
    expect(second._id).toBe(first._id)
    const history = await get(n2.url, bobOnN1, '/api/cities/pune/messages')
    expect(history.body.messages.at(-1).mentions).toEqual([bobOnN1.user._id])

    for (const url of [n1.url, n2.url]) {
      expect(await cityOf(url, bobOnN1, 'pune')).toMatchObject({
        unreadCount: null,
        mentionCount: 1,
      })
      const feed = await get(url, bobOnN1, '/api/notifications')
      expect(feed.body.notifications.map((n: any) => n._id)).toEqual([first._id])
    }
    // Read on n2's socket; both nodes answer the same.
    const read = await ask(bobOnN2.socket, 'mark-messages-read', { cityId: 'pune' })
    expect(read.ok).toBe(true)
    await send(n2.url, alice, '/api/cities/pune/messages', { content: 'after' })
    for (const url of [n1.url, n2.url]) {
      expect(await cityOf(url, bobOnN1, 'pune')).toMatchObject({ unreadCount: 1, mentionCount: 0 })
    }
    // Marked read on n1, seen read on n2.
    await api(n1.url, 'POST', '/api/notifications/read', {
      token: bobOnN1.accessToken,
      body: { upTo: first._id },
    })
    expect((await get(n2.url, bobOnN1, '/api/notifications')).body.unreadCount).toBe(0)
  })

  test('settings and mutes set on n2 hold for sends on n1; chat counts agree', async () => {
    const [n1, n2] = nodes as [Node, Node]
    const alice = track(await chatUser(n1.url))
    const carol = track(await chatUser(n2.url))
    const added = once(carol.socket, 'notification')
    const chatId = await createPrivateChat(n1.url, alice, [carol])
    await added
    const muted = await api(n2.url, 'PUT', '/api/notification-settings/city/pune', {
      token: carol.accessToken,
      body: { level: 'all', muteUntil: Date.now() + 3_600_000 },
    })
    expect(muted.status).toBe(200)
    await api(n2.url, 'PUT', `/api/notification-settings/chat/${chatId}`, {
      token: carol.accessToken,
      body: { level: 'none' },
    })
    await send(n1.url, alice, '/api/cities/pune/messages', { content: `@${carol.user.username} 1` })
    await send(n1.url, alice, `/api/chats/${chatId}/messages`, {
      content: `@${carol.user.username} 2`,
    })
    // Then one that gets through (delhi, default mentions): the queue on n1 is in order.
    const live = once<any>(carol.socket, 'notification')
    await send(n1.url, alice, '/api/cities/delhi/messages', {
      content: `@${carol.user.username} 3`,
    })
    expect((await live).cityId).toBe('delhi')
    const feed = await get(n1.url, carol, '/api/notifications')
    expect(feed.body.notifications.map((n: any) => [n.kind, n.cityId ?? n.chatId])).toEqual([
      ['mention', 'delhi'],
      ['added', chatId],
    ])
    // Muted and silenced mentions still count.
    for (const url of [n1.url, n2.url]) {
      expect((await cityOf(url, carol, 'pune')).mentionCount).toBe(1)
      const chats = (await get(url, carol, '/api/chats')).body.chats
      expect(chats.find((c: any) => c._id === chatId)).toMatchObject({
        unreadCount: 1,
        mentionCount: 1,
      })
    }
  })

  test('a plain private message notifies a member only while no node has a socket of theirs', async () => {
    const [n1, n2] = nodes as [Node, Node]
    const alice = track(await chatUser(n1.url))
    const dave = await registerUser(n2.url)
    const erin = track(await chatUser(n1.url))
    const erinAdded = once(erin.socket, 'notification')
    const chatId = await createPrivateChat(n1.url, alice, [dave, erin])
    const daveOnN2 = await connectAs(n2.url, dave)
    const online = () =>
      ask(alice.socket, 'check-user-online', { userId: dave.user._id }).then((a) => a.isOnline)
    await eventually(online, 8_000, 'dave online')
    // Erin's mention is made in the same pass that looks at dave (after the broadcast, on n1).
    await erinAdded
    const erinMentioned = once<any>(erin.socket, 'notification')
    await send(n1.url, alice, `/api/chats/${chatId}/messages`, {
      content: `while you are here @${erin.user.username}`,
    })
    expect((await erinMentioned).kind).toBe('mention')
    daveOnN2.socket.disconnect()
    await eventually(async () => !(await online()), 8_000, 'dave offline')
    const later = await send(n1.url, alice, `/api/chats/${chatId}/messages`, { content: 'missed' })
    await eventually(
      async () => (await get(n2.url, dave, '/api/notifications')).body.notifications.length === 2,
      8_000,
      'the offline notification'
    )
    const feed = (await get(n2.url, dave, '/api/notifications')).body.notifications
    expect(feed.map((n: any) => [n.kind, n.message?._id ?? null])).toEqual([
      ['message', later._id],
      ['added', null],
    ])
  })
})
