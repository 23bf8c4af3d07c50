/**
 * @module Moderation across two nodes on one database and one Redis: a ban made on one node makes
 * the user's sockets on the other leave the room at once and refuses their joins there; a
 * moderator's delete on one node reaches sockets on the other; slow mode set on one node holds on
 * the other; the word filter and an archive made on one node apply on the other; a report made
 * on one node reaches the moderator's socket on the other; the register and chat-creation limits
 * count every node's attempts against one bucket.
 */
import { describe, expect, test } from 'bun:test'
import { api, registerUser } from '../helpers/api.ts'
import { ask, chatUser, connectAs, joinCity, once } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { type Node, SKIP_REASON, useTwoNodes } from './cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

describe.skipIf(!!SKIP_REASON)('moderation across two nodes sharing Redis', () => {
  const { nodes, track } = useTwoNodes(['m1', 'm2'], { ADMIN_USERNAMES: 'cluster_admin' })

  test('a ban and a delete made on one node take effect for sockets on the other', async () => {
    const [m1, m2] = nodes as [Node, Node]
    const admin = await registerUser(m1.url, { username: 'cluster_admin' })
    const adminSocket = track(await connectAs(m1.url, admin))
    const alice = track(await chatUser(m2.url))
    const bob = track(await chatUser(m2.url))
    for (const c of [adminSocket, alice, bob]) await joinCity(c, 'pune')

    const sent = await ask(alice.socket, 'send-city-message', { cityId: 'pune', content: 'spam' })
    const heard = once<any>(bob.socket, 'city-message-deleted')
    const removed = await ask(adminSocket.socket, 'delete-city-message', {
      cityId: 'pune',
      messageId: sent.message._id,
    })
    expect(removed.ok).toBe(true)
    expect(await heard).toEqual({ messageId: sent.message._id, cityId: 'pune' })

    // A report made on m2 reaches the admin's socket on m1.
    const reported = once<any>(adminSocket.socket, 'report-created')
    const afterDelete = await ask(alice.socket, 'send-city-message', {
      cityId: 'pune',
      content: 'more spam',
    })
    const report = await api(m2.url, 'POST', `/api/messages/${afterDelete.message._id}/reports`, {
      token: bob.accessToken,
      body: { reason: 'spam again' },
    })
    expect(report.status).toBe(201)
    expect(await reported).toEqual({
      reportId: report.body.report._id,
      messageId: afterDelete.message._id,
      cityId: 'pune',
    })

    const left = once<any>(alice.socket, 'left-city-chat')
    const ban = await api(m1.url, 'POST', '/api/cities/pune/restrictions', {
      token: admin.accessToken,
      body: { userId: alice.user._id, kind: 'ban', reason: 'spam' },
    })
    expect(ban.status).toBe(201)
    expect(await left).toEqual({ cityId: 'pune', reason: 'banned', until: null, note: 'spam' })
    const join = await ask(alice.socket, 'join-city-chat', { cityId: 'pune' })
    expect(join).toMatchObject({ ok: false, error: { code: 'banned' } })
    // Nothing said in the room reaches the banned socket any more.
    const atBob = once<any>(bob.socket, 'new-city-message')
    await ask(adminSocket.socket, 'send-city-message', { cityId: 'pune', content: 'after the ban' })
    await atBob
    await ask(alice.socket, 'heartbeat')
    expect(alice.got('new-city-message').map((m) => m.content)).toEqual(['spam', 'more spam'])

    // Lifted on m2, joinable again on m2 and m1.
    const lift = await api(m2.url, 'DELETE', `/api/cities/pune/restrictions/${alice.user._id}`, {
      token: admin.accessToken,
    })
    expect(lift.status).toBe(204)
    await joinCity(alice, 'pune')
  })

  test('slow mode, the word filter and an archive set on one node hold on the other', async () => {
    const [m1, m2] = nodes as [Node, Node]
    const admin = await api(m1.url, 'POST', '/api/auth/login', {
      body: { login: 'cluster_admin', password: 'correct-horse-battery' },
    })
    const token = admin.body.accessToken as string
    const alice = track(await chatUser(m2.url))
    const alice1 = track(await connectAs(m1.url, alice))
    await joinCity(alice, 'jaipur')
    await joinCity(alice1, 'jaipur')
    const slow = await api(m1.url, 'PATCH', '/api/cities/jaipur', {
      token,
      body: { slowModeSeconds: 60 },
    })
    expect(slow.status).toBe(200)
    await eventually(async () => {
      const joined = once<any>(alice.socket, 'joined-city-chat')
      await ask(alice.socket, 'join-city-chat', { cityId: 'jaipur' })
      return (await joined).slowModeSeconds === 60
    })
    const first = await ask(alice.socket, 'send-city-message', { cityId: 'jaipur', content: 'one' })
    expect(first.ok).toBe(true)
    // The interval is held in Redis: the user's other socket, on the other node, waits too.
    const second = await ask(alice1.socket, 'send-city-message', {
      cityId: 'jaipur',
      content: 'two',
    })
    expect(second.error?.code).toBe('slow_mode')

    const filter = await api(m1.url, 'PUT', '/api/admin/word-filter', {
      token,
      body: { terms: [{ term: 'forbidden', action: 'block' }] },
    })
    expect(filter.status).toBe(200)
    await eventually(async () => {
      const res = await api(m2.url, 'POST', '/api/cities/delhi/messages', {
        token: alice.accessToken,
        body: { content: 'a forbidden word' },
      })
      return res.body.error?.code === 'content_blocked'
    })

    const archived = await api(m1.url, 'PATCH', '/api/admin/cities/chennai', {
      token,
      body: { archived: true },
    })
    expect(archived.status).toBe(200)
    await eventually(async () => {
      const join = await ask(alice.socket, 'join-city-chat', { cityId: 'chennai' })
      return join.error?.code === 'archived'
    })
  })
})

describe.skipIf(!!SKIP_REASON)('abuse limits across two nodes sharing Redis', () => {
  const { nodes } = useTwoNodes(['l1', 'l2'], {
    REGISTER_ATTEMPTS_PER_ADDRESS: '3',
    CHATS_PER_HOUR: '1',
  })

  test('registrations per address and chats per user are counted across the nodes', async () => {
    const [l1, l2] = nodes as [Node, Node]
    const alice = await registerUser(l1.url)
    const bob = await registerUser(l2.url)
    await registerUser(l1.url)
    // The fourth from this address, on either node, is over the limit.
    for (const node of [l2, l1]) {
      const over = await api(node.url, 'POST', '/api/auth/register', {
        body: {
          username: `over_${Date.now().toString(36)}`,
          email: `over_${Date.now().toString(36)}@example.test`,
          full_name: 'Over',
          password: 'correct-horse-battery',
        },
      })
      expect(over.status).toBe(429)
      expect(over.body.error.code).toBe('rate_limited')
    }
    const first = await api(l1.url, 'POST', '/api/chats', {
      token: alice.accessToken,
      body: { memberIds: [bob.user._id] },
    })
    expect(first.status).toBe(201)
    const second = await api(l2.url, 'POST', '/api/chats', {
      token: alice.accessToken,
      body: { memberIds: [bob.user._id] },
    })
    expect(second.status).toBe(429)
    expect(second.body.error.code).toBe('rate_limited')
    // Another user's bucket is their own.
    const bobs = await api(l2.url, 'POST', '/api/chats', {
      token: bob.accessToken,
      body: { memberIds: [alice.user._id] },
    })
    expect(bobs.status).toBe(201)
  })
})
