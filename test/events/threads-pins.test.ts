/**
 * @module Threads and pins over sockets and REST: a reply moves its parent's reply_count and
 * last_reply_at (in history and as `*-message-thread-updated`), GET …/replies pages a thread, the
 * thread's participants are notified (their settings respected); moderators pin in cities and
 * owners in chats, at most 20 per room, `joined-*` carries pinnedCount, a deleted message leaves
 * the pins; and the refusals of each.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { api, as, type RegisteredUser, registerUser } from '../helpers/api.ts'
import {
  ask,
  barrier,
  type ChatClient,
  createPrivateChat,
  joinCity,
  once,
  say,
  trackClients,
} from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { useAdminServer } from '../helpers/server.ts'

const env = useAdminServer('thread_admin', 'thread', { MESSAGE_BURST: '200' })
const clients = trackClients()
afterEach(() => clients.disconnectAll())

const notifications = async (who: RegisteredUser) =>
  (await api(env.url, 'GET', '/api/notifications', as(who))).body.notifications as any[]

describe('threads', () => {
  test('a reply moves the parent thread: the room hears thread-updated after the reply; history agrees', async () => {
    const cityId = await env.newCity()
    const alice = await clients.user(env.url)
    const bob = await clients.user(env.url)
    for (const c of [alice, bob]) await joinCity(c, cityId)
    const parent = await say(alice, cityId, 'start a thread')
    expect(parent).toMatchObject({ reply_count: 0, last_reply_at: null })
    const reply = await say(bob, cityId, 'first reply', parent._id)
    await barrier(alice.socket)
    // Room events only: presence broadcasts (coalesced on a timer) may land anywhere.
    const names = alice.received
      .map(([name]) => name as string)
      .filter((name) => name.startsWith('new-') || name.startsWith('city-message-'))
    const at = names.lastIndexOf('new-city-message')
    expect(names[at + 1]).toBe('city-message-thread-updated')
    expect(alice.got('city-message-thread-updated')).toEqual([
      { messageId: parent._id, reply_count: 1, last_reply_at: reply.created_at, cityId },
    ])
    const second = await say(alice, cityId, 'second reply', parent._id)
    await barrier(bob.socket)
    expect(bob.got('city-message-thread-updated').at(-1)).toEqual({
      messageId: parent._id,
      reply_count: 2,
      last_reply_at: second.created_at,
      cityId,
    })
    const history = await api(env.url, 'GET', `/api/cities/${cityId}/messages`, as(bob))
    const stored = history.body.messages.find((m: any) => m._id === parent._id)
    expect(stored).toMatchObject({ reply_count: 2, last_reply_at: second.created_at })
    // A plain message moves no thread.
    await say(alice, cityId, 'not a reply')
    await barrier(bob.socket)
    expect(bob.got('city-message-thread-updated').length).toBe(2)
  })

  test('GET …/replies pages the thread oldest first with before/after/limit; refusals', async () => {
    const cityId = await env.newCity()
    const alice = await clients.user(env.url)
    await joinCity(alice, cityId)
    const parent = await say(alice, cityId, 'parent')
    const replies = []
    for (let i = 0; i < 5; i++) replies.push(await say(alice, cityId, `r${i}`, parent._id))
    await say(alice, cityId, 'outside the thread')
    const path = `/api/messages/${parent._id}/replies`
    const all = await api(env.url, 'GET', path, as(alice))
    expect(all.status).toBe(200)
    expect(all.body.messages.map((m: any) => m.content)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4'])
    expect(all.body.hasMore).toBe(false)
    const newest = await api(env.url, 'GET', `${path}?limit=2`, as(alice))
    expect(newest.body.messages.map((m: any) => m.content)).toEqual(['r3', 'r4'])
    expect(newest.body.hasMore).toBe(true)
    const older = await api(env.url, 'GET', `${path}?limit=2&before=${replies[3]._id}`, as(alice))
    expect(older.body.messages.map((m: any) => m.content)).toEqual(['r1', 'r2'])
    const after = await api(env.url, 'GET', `${path}?limit=2&after=${replies[1]._id}`, as(alice))
    expect(after.body.messages.map((m: any) => m.content)).toEqual(['r2', 'r3'])
    expect(after.body.hasMore).toBe(true)
    // A cursor outside the thread, an unknown message, a malformed id.
    const other = await say(alice, cityId, 'elsewhere')
    expect((await api(env.url, 'GET', `${path}?before=${other._id}`, as(alice))).status).toBe(400)
    const unknown = await api(
      env.url,
      'GET',
      '/api/messages/0123456789abcdef01234567/replies',
      as(alice)
    )
    expect(unknown.status).toBe(404)
    expect((await api(env.url, 'GET', '/api/messages/nope/replies', as(alice))).status).toBe(400)
  })

  test("a private chat's thread is for its members only", async () => {
    const alice = await clients.user(env.url)
    const bob = await clients.user(env.url)
    const outsider = await registerUser(env.url)
    const chatId = await createPrivateChat(env.url, alice, [bob])
    const parent = await api(env.url, 'POST', `/api/chats/${chatId}/messages`, {
      ...as(alice),
      body: { content: 'chat thread' },
    })
    const reply = await api(env.url, 'POST', `/api/chats/${chatId}/messages`, {
      ...as(bob),
      body: { content: 'in it', reply_to: parent.body.message._id },
    })
    expect(reply.status).toBe(201)
    const path = `/api/messages/${parent.body.message._id}/replies`
    expect((await api(env.url, 'GET', path, as(bob))).body.messages.length).toBe(1)
    expect((await api(env.url, 'GET', path, as(outsider))).status).toBe(404)
  })

  test("the thread's participants are notified of a reply, as their settings allow", async () => {
    const cityId = await env.newCity()
    const [author, first, second, quiet, latest] = (await Promise.all(
      [1, 2, 3, 4, 5].map(() => clients.user(env.url))
    )) as ChatClient[]
    for (const c of [author, first, second, quiet, latest] as ChatClient[])
      await joinCity(c, cityId)
    const parent = await say(author as ChatClient, cityId, 'who is in?')
    await say(first as ChatClient, cityId, 'me', parent._id)
    await say(second as ChatClient, cityId, 'me too', parent._id)
    await say(quiet as ChatClient, cityId, 'me, quietly', parent._id)
    const off = await api(env.url, 'PUT', `/api/notification-settings/city/${cityId}`, {
      ...as(quiet as ChatClient),
      body: { level: 'none' },
    })
    expect(off.status).toBe(200)
    const last = await say(latest as ChatClient, cityId, 'and me', parent._id)
    const has = async (who: RegisteredUser) =>
      (await notifications(who)).some((n) => n.message?._id === last._id)
    for (const who of [author, first, second] as ChatClient[]) {
      await eventually(() => has(who), 8_000, 'the reply notification')
    }
    for (const who of [author, first, second] as ChatClient[]) {
      expect((await notifications(who)).map((n) => [n.kind, n.message._id])).toContainEqual([
        'reply',
        last._id,
      ])
    }
    // Quiet chose none; the latest replier is not notified of their own reply.
    expect((await notifications(quiet as ChatClient)).map((n) => n.message?._id)).not.toContain(
      last._id
    )
    expect(await notifications(latest as ChatClient)).toEqual([])
  })
})

describe('pins', () => {
  async function cityWithModerator() {
    const cityId = await env.newCity()
    const moderator = await clients.user(env.url)
    const put = await api(
      env.url,
      'PUT',
      `/api/cities/${cityId}/moderators/${moderator.user._id}`,
      as(env.admin)
    )
    expect(put.status).toBe(204)
    return { cityId, moderator }
  }

  test('a city moderator pins and unpins; the room hears both; joined-city-chat counts the pins', async () => {
    const { cityId, moderator } = await cityWithModerator()
    const alice = await clients.user(env.url)
    for (const c of [moderator, alice]) await joinCity(c, cityId)
    expect(alice.got('joined-city-chat').at(-1).pinnedCount).toBe(0)
    const message = await say(alice, cityId, 'pin me')
    const heard = once<any>(alice.socket, 'city-message-pinned')
    const pinned = await api(env.url, 'PUT', `/api/messages/${message._id}/pin`, as(moderator))
    expect(pinned.status).toBe(200)
    expect(pinned.body.changed).toBe(true)
    const event = await heard
    expect(event).toMatchObject({
      messageId: message._id,
      cityId,
      pinned_by: moderator.user._id,
      message: { _id: message._id, content: 'pin me' },
    })
    expect(pinned.body.pin).toEqual(event)
    // Again: no change, nothing heard.
    const again = await api(env.url, 'PUT', `/api/messages/${message._id}/pin`, as(moderator))
    expect(again.body.changed).toBe(false)
    const pins = await api(env.url, 'GET', `/api/cities/${cityId}/pins`, as(alice))
    expect(pins.body.pins).toEqual([event])

    const late = await clients.user(env.url)
    await joinCity(late, cityId)
    expect(late.got('joined-city-chat').at(-1).pinnedCount).toBe(1)

    // Not a moderator: refused.
    const notMod = await api(env.url, 'PUT', `/api/messages/${message._id}/pin`, as(alice))
    expect(notMod.status).toBe(403)
    expect(
      (await api(env.url, 'DELETE', `/api/messages/${message._id}/pin`, as(alice))).status
    ).toBe(403)

    const unheard = once<any>(alice.socket, 'city-message-unpinned')
    const unpinned = await api(env.url, 'DELETE', `/api/messages/${message._id}/pin`, as(moderator))
    expect(unpinned.body).toEqual({ messageId: message._id, changed: true })
    expect(await unheard).toEqual({
      messageId: message._id,
      cityId,
      unpinned_by: moderator.user._id,
    })
    await barrier(alice.socket)
    expect(alice.got('city-message-pinned').length).toBe(1)
    expect((await api(env.url, 'GET', `/api/cities/${cityId}/pins`, as(alice))).body.pins).toEqual(
      []
    )
  })

  test('at most 20 pins per room; a deleted message cannot be pinned and leaves the pins', async () => {
    const { cityId, moderator } = await cityWithModerator()
    await joinCity(moderator, cityId)
    const ids: string[] = []
    for (let i = 0; i < 21; i++) ids.push((await say(moderator, cityId, `m${i}`))._id)
    for (const id of ids.slice(0, 20)) {
      expect((await api(env.url, 'PUT', `/api/messages/${id}/pin`, as(moderator))).status).toBe(200)
    }
    const over = await api(env.url, 'PUT', `/api/messages/${ids[20]}/pin`, as(moderator))
    expect(over.status).toBe(409)
    expect(over.body.error).toMatchObject({ code: 'conflict', details: { limit: 20 } })
    const listed = await api(env.url, 'GET', `/api/cities/${cityId}/pins`, as(moderator))
    expect(listed.body.pins.length).toBe(20)
    // Deleting a pinned message unpins it (heard), making room for another.
    const unpinned = once<any>(moderator.socket, 'city-message-unpinned')
    await ask(moderator.socket, 'delete-city-message', { messageId: ids[0], cityId })
    expect(await unpinned).toMatchObject({ messageId: ids[0], cityId })
    expect((await api(env.url, 'PUT', `/api/messages/${ids[0]}/pin`, as(moderator))).status).toBe(
      404
    )
    expect((await api(env.url, 'PUT', `/api/messages/${ids[20]}/pin`, as(moderator))).status).toBe(
      200
    )
  })

  test('in a private chat the owner pins, a member may not, an outsider sees nothing', async () => {
    const owner = await clients.user(env.url)
    const member = await clients.user(env.url)
    const outsider = await clients.user(env.url)
    const chatId = await createPrivateChat(env.url, owner, [member])
    const joined = once<any>(member.socket, 'joined-private-chat')
    await ask(member.socket, 'join-private-chat', { chatId })
    expect((await joined).pinnedCount).toBe(0)
    const sent = await api(env.url, 'POST', `/api/chats/${chatId}/messages`, {
      ...as(member),
      body: { content: 'pin this' },
    })
    const id = sent.body.message._id
    expect((await api(env.url, 'PUT', `/api/messages/${id}/pin`, as(member))).status).toBe(403)
    expect((await api(env.url, 'PUT', `/api/messages/${id}/pin`, as(outsider))).status).toBe(404)
    const heard = once<any>(member.socket, 'private-message-pinned')
    expect((await api(env.url, 'PUT', `/api/messages/${id}/pin`, as(owner))).status).toBe(200)
    expect(await heard).toMatchObject({ messageId: id, chatId, pinned_by: owner.user._id })
    expect(
      (await api(env.url, 'GET', `/api/chats/${chatId}/pins`, as(member))).body.pins.length
    ).toBe(1)
    const refused = await api(env.url, 'GET', `/api/chats/${chatId}/pins`, as(outsider))
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('not_member')
    const unheard = once<any>(member.socket, 'private-message-unpinned')
    expect((await api(env.url, 'DELETE', `/api/messages/${id}/pin`, as(owner))).status).toBe(200)
    expect(await unheard).toMatchObject({ messageId: id, chatId })
  })

  test("an erased account's reactions go, and its pinned message leaves the pins (heard)", async () => {
    const { cityId, moderator } = await cityWithModerator()
    await joinCity(moderator, cityId)
    const erased = await clients.user(env.url)
    await joinCity(erased, cityId)
    const own = await say(erased, cityId, 'pinned, then erased')
    const other = await say(moderator, cityId, 'reacted to')
    await ask(erased.socket, 'react-message', { messageId: other._id, emoji: '👍', cityId })
    expect((await api(env.url, 'PUT', `/api/messages/${own._id}/pin`, as(moderator))).status).toBe(
      200
    )
    const unpinned = once<any>(moderator.socket, 'city-message-unpinned')
    const res = await api(env.url, 'DELETE', '/api/users/me', {
      ...as(erased),
      body: { erase: true, password: erased.password },
    })
    expect(res.status).toBe(202)
    expect(await unpinned).toMatchObject({ messageId: own._id, cityId })
    await env.server.app.chat.erasure.settled()
    const history = await api(env.url, 'GET', `/api/cities/${cityId}/messages`, as(moderator))
    expect(history.body.messages.find((m: any) => m._id === other._id).reactions).toEqual([])
    expect(
      (await api(env.url, 'GET', `/api/cities/${cityId}/pins`, as(moderator))).body.pins
    ).toEqual([])
  })

  test("a shadowed user's message cannot be pinned (others never see it), nor found by them", async () => {
    const { cityId, moderator } = await cityWithModerator()
    const shadow = await clients.user(env.url)
    const alice = await clients.user(env.url)
    for (const c of [moderator, shadow, alice]) await joinCity(c, cityId)
    const restricted = await api(env.url, 'POST', `/api/cities/${cityId}/restrictions`, {
      ...as(env.admin),
      body: { userId: shadow.user._id, kind: 'shadow' },
    })
    expect(restricted.status).toBe(201)
    const hidden = await say(shadow, cityId, 'nobody hears this')
    const refused = await api(env.url, 'PUT', `/api/messages/${hidden._id}/pin`, as(moderator))
    expect(refused.status).toBe(403)
    // Others cannot react to it or read its thread either: it does not exist for them.
    const react = await ask(alice.socket, 'react-message', {
      messageId: hidden._id,
      emoji: '👍',
      cityId,
    })
    expect(react.error.code).toBe('not_found')
    expect(
      (await api(env.url, 'GET', `/api/messages/${hidden._id}/replies`, as(alice))).status
    ).toBe(404)
    await barrier(alice.socket)
    expect(alice.got('city-message-pinned')).toEqual([])
  })

  test('a chat admin pins too (the owner made them one)', async () => {
    const owner = await clients.user(env.url)
    const admin2 = await clients.user(env.url)
    const chatId = await createPrivateChat(env.url, owner, [admin2])
    const made = await api(env.url, 'PUT', `/api/chats/${chatId}/members/${admin2.user._id}/role`, {
      ...as(owner),
      body: { role: 'admin' },
    })
    expect(made.status).toBe(200)
    const sent = await api(env.url, 'POST', `/api/chats/${chatId}/messages`, {
      ...as(owner),
      body: { content: 'by the owner' },
    })
    const id = sent.body.message._id
    expect((await api(env.url, 'PUT', `/api/messages/${id}/pin`, as(admin2))).status).toBe(200)
    expect((await api(env.url, 'DELETE', `/api/messages/${id}/pin`, as(admin2))).body.changed).toBe(
      true
    )
  })
})
