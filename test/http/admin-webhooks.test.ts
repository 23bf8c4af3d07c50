/**
 * @module Webhooks an admin registers at run time (`POST /api/admin/webhooks`), beside
 * WEBHOOK_URL: each gets only the event types it chose, signed with its own secret (the test
 * recomputes the HMAC), `report.created` among them; a failing receiver is dead-lettered without
 * holding up another hook; `GET /api/admin/webhooks/:id/deliveries` shows where each stands; and
 * the refusals.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { api, as, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { eventually } from '../helpers/eventually.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

interface Received {
  headers: Headers
  body: string
  json: any
}

/** A receiver answering `status` to everything. */
function startReceiver(status: number) {
  const received: Received[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const body = await req.text()
      received.push({ headers: req.headers, body, json: JSON.parse(body) })
      return new Response(null, { status })
    },
  })
  return { url: `http://127.0.0.1:${server.port}/hook`, received, stop: () => server.stop(true) }
}

let server: TestServer
let admin: RegisteredUser
let user: RegisteredUser
const receivers: Array<ReturnType<typeof startReceiver>> = []
const ADMIN = `hookadmin${Date.now().toString(36)}`

beforeAll(async () => {
  server = await startServer({
    ADMIN_USERNAMES: ADMIN,
    WEBHOOK_MAX_ATTEMPTS: '3',
    WEBHOOK_RETRY_BASE: '50ms',
  })
  admin = await registerUser(server.url, { username: ADMIN })
  user = await registerUser(server.url)
})
afterAll(async () => {
  await server.stop()
  for (const receiver of receivers) receiver.stop()
})

const register = (who: RegisteredUser | null, body: unknown) =>
  api(server.url, 'POST', '/api/admin/webhooks', {
    ...(who ? { token: who.accessToken } : {}),
    body,
  })
const deliveries = (who: RegisteredUser, id: string) =>
  api(server.url, 'GET', `/api/admin/webhooks/${id}/deliveries`, { token: who.accessToken })

test('only admins register, list, remove and read deliveries; bad input and the cap are refused', async () => {
  const good = { url: 'http://127.0.0.1:9/hook', events: ['message.created'] }
  expect((await register(null, good)).status).toBe(401)
  const plain = await register(user, good)
  expect(plain.status).toBe(403)
  expect(plain.body.error.code).toBe('forbidden')
  for (const bad of [
    { ...good, url: 'ftp://example.test/hook' },
    { ...good, url: 'not a url' },
    { ...good, events: [] },
    { ...good, events: ['message.exploded'] },
    { url: good.url },
  ]) {
    const res = await register(admin, bad)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('invalid_input')
  }
  expect((await deliveries(user, 'env')).status).toBe(403)
  // No WEBHOOK_URL here: there is no env hook.
  expect((await deliveries(admin, 'env')).status).toBe(404)
  expect((await deliveries(admin, '0123456789abcdef01234567')).status).toBe(404)
  expect((await deliveries(admin, 'nope')).status).toBe(400)
  const remove = (who: RegisteredUser, id: string) =>
    api(server.url, 'DELETE', `/api/admin/webhooks/${id}`, { token: who.accessToken })
  expect((await remove(admin, '0123456789abcdef01234567')).status).toBe(404)

  // Up to 20 hooks; the 21st is refused; removing one makes room.
  const made: string[] = []
  for (let i = 0; i < 20; i += 1) {
    const res = await register(admin, good)
    expect(res.status).toBe(201)
    made.push(res.body.webhook._id)
  }
  const over = await register(admin, good)
  expect(over.status).toBe(409)
  expect((await remove(user, made[0] as string)).status).toBe(403)
  for (const id of made) expect((await remove(admin, id)).status).toBe(204)
  const list = await api(server.url, 'GET', '/api/admin/webhooks', { token: admin.accessToken })
  expect(list.body.webhooks).toEqual([])
  expect(
    (await api(server.url, 'GET', '/api/admin/webhooks', { token: user.accessToken })).status
  ).toBe(403)
})

test('each hook gets its own events signed with its own secret; report.created; a dead receiver holds up no other', async () => {
  const good = startReceiver(200)
  const dead = startReceiver(500)
  receivers.push(good, dead)
  const made = await register(admin, {
    url: good.url,
    events: ['report.created', 'message.created'],
  })
  expect(made.status).toBe(201)
  expect(made.body.webhook).toMatchObject({
    url: good.url,
    events: ['report.created', 'message.created'],
    created_by: admin.user._id,
  })
  const secret = made.body.secret as string
  expect(secret.length).toBeGreaterThanOrEqual(32)
  // The secret is shown once: the list does not carry it.
  const listed = await api(server.url, 'GET', '/api/admin/webhooks', { token: admin.accessToken })
  expect(JSON.stringify(listed.body)).not.toContain(secret)
  const failing = await register(admin, { url: dead.url, events: ['message.created'] })
  expect(failing.status).toBe(201)

  const sent = await api(server.url, 'POST', '/api/cities/lagos/messages', {
    token: user.accessToken,
    body: { content: 'please report me' },
  })
  expect(sent.status).toBe(201)
  const messageId = sent.body.message._id as string
  const edited = await api(server.url, 'PATCH', `/api/messages/${messageId}`, {
    token: user.accessToken,
    body: { content: 'edited, which this hook did not choose' },
  })
  expect(edited.status).toBe(200)
  const reported = await api(server.url, 'POST', `/api/messages/${messageId}/reports`, {
    token: admin.accessToken,
    body: { reason: 'testing the hook' },
  })
  expect(reported.status).toBe(201)

  await eventually(() => good.received.length === 2, 10_000, 'both events at the good hook')
  expect(good.received.map((r) => r.json.type)).toEqual(['message.created', 'report.created'])
  expect(good.received[0]?.json.data.message._id).toBe(messageId)
  expect(good.received[1]?.json.data.report).toMatchObject({
    messageId,
    cityId: 'lagos',
    reason: 'testing the hook',
    status: 'open',
  })
  for (const { headers, body, json } of good.received) {
    const timestamp = headers.get('x-webhook-timestamp') as string
    const expected = `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
    expect(headers.get('x-webhook-signature')).toBe(expected)
    expect(headers.get('x-webhook-id')).toBe(json.id)
  }

  // The failing hook: three attempts (WEBHOOK_MAX_ATTEMPTS), then dead, listed as such.
  const deadId = failing.body.webhook._id as string
  await eventually(
    async () => (await deliveries(admin, deadId)).body.deliveries[0]?.state === 'dead',
    10_000,
    'the failing delivery dead'
  )
  expect(dead.received.map((r) => r.json.type)).toEqual([
    'message.created',
    'message.created',
    'message.created',
  ])
  const deadPage = await deliveries(admin, deadId)
  expect(deadPage.body.deliveries).toHaveLength(1)
  expect(deadPage.body.deliveries[0]).toMatchObject({
    type: 'message.created',
    state: 'dead',
    attempts: 3,
    last_status: 500,
    last_error: 'HTTP 500',
  })
  const goodPage = await deliveries(admin, made.body.webhook._id)
  expect(goodPage.body.deliveries.map((d: any) => [d.type, d.state, d.attempts])).toEqual([
    ['report.created', 'delivered', 1],
    ['message.created', 'delivered', 1],
  ])
  expect(goodPage.body.hasMore).toBe(false)

  // Removed: later events do not reach it.
  const removed = await api(server.url, 'DELETE', `/api/admin/webhooks/${made.body.webhook._id}`, {
    token: admin.accessToken,
  })
  expect(removed.status).toBe(204)
  await api(server.url, 'POST', '/api/cities/lagos/messages', {
    token: user.accessToken,
    body: { content: 'after the hook went' },
  })
  await eventually(() => dead.received.length === 6, 10_000, 'the other hook still hears')
  expect(good.received).toHaveLength(2)
})

test('reaction.added / reaction.removed: each hook gets the ones it chose, in order, as the room heard them; none for a shadowed reaction or a refused one', async () => {
  const all = startReceiver(200)
  const removals = startReceiver(200)
  receivers.push(all, removals)
  const madeAll = await register(admin, {
    url: all.url,
    events: ['message.created', 'reaction.added', 'reaction.removed'],
  })
  expect(madeAll.status).toBe(201)
  const madeRemovals = await register(admin, { url: removals.url, events: ['reaction.removed'] })
  expect(madeRemovals.status).toBe(201)
  const [bob, shadow] = [await registerUser(server.url), await registerUser(server.url)]
  const react = (who: RegisteredUser, method: 'PUT' | 'DELETE', id: string, emoji: string) =>
    api(server.url, method, `/api/messages/${id}/reactions/${encodeURIComponent(emoji)}`, as(who))

  const cityId = 'lagos'
  const restricted = await api(server.url, 'POST', `/api/cities/${cityId}/restrictions`, {
    ...as(admin),
    body: { userId: shadow.user._id, kind: 'shadow' },
  })
  expect(restricted.status).toBe(201)
  const sent = await api(server.url, 'POST', `/api/cities/${cityId}/messages`, {
    ...as(user),
    body: { content: 'react to me' },
  })
  const messageId = sent.body.message._id as string
  expect((await react(bob, 'PUT', messageId, 'thumbsup')).body.changed).toBe(true)
  // Again: nothing changed, nothing sent.
  expect((await react(bob, 'PUT', messageId, '👍')).body.changed).toBe(false)
  expect((await react(user, 'PUT', messageId, '👍')).body.count).toBe(2)
  // The shadowed user's reaction is theirs alone: no hook hears it.
  expect((await react(shadow, 'PUT', messageId, '🎉')).status).toBe(200)
  // Refused (no such message, not an emoji): nothing.
  expect((await react(bob, 'PUT', '0123456789abcdef01234567', '👍')).status).toBe(404)
  expect((await react(bob, 'PUT', messageId, 'not-an-emoji')).status).toBe(400)
  expect((await react(bob, 'DELETE', messageId, '👍')).body.changed).toBe(true)
  // A private chat's reaction names the chat.
  const chat = await api(server.url, 'POST', '/api/chats', {
    ...as(user),
    body: { memberIds: [bob.user._id] },
  })
  const chatId = chat.body.chat._id as string
  const dm = await api(server.url, 'POST', `/api/chats/${chatId}/messages`, {
    ...as(user),
    body: { content: 'dm' },
  })
  const dmId = dm.body.message._id as string
  expect((await react(bob, 'PUT', dmId, 'heart')).body.changed).toBe(true)
  expect((await react(bob, 'DELETE', dmId, '❤️')).body.changed).toBe(true)

  const reaction = (
    who: RegisteredUser,
    id: string,
    emoji: string,
    action: string,
    count: number,
    room: object
  ) => ({
    messageId: id,
    emoji,
    userId: who.user._id,
    action,
    count,
    ...room,
  })
  const city = { cityId }
  const inChat = { chatId }
  await eventually(() => all.received.length === 7, 10_000, 'seven events at the first hook')
  // Each message's message.created came (the notifier's batches send those), and each room's
  // reactions came in the order they happened.
  const created = all.received.filter((r) => r.json.type === 'message.created')
  expect(created.map((r) => r.json.data.message._id).sort()).toEqual([messageId, dmId].sort())
  const ofRoom = (key: 'cityId' | 'chatId') =>
    all.received
      .filter((r) => r.json.type !== 'message.created' && r.json.data[key] !== undefined)
      .map((r) => [r.json.type, r.json.data])
  expect(ofRoom('cityId')).toEqual([
    ['reaction.added', reaction(bob, messageId, '👍', 'add', 1, city)],
    ['reaction.added', reaction(user, messageId, '👍', 'add', 2, city)],
    ['reaction.removed', reaction(bob, messageId, '👍', 'remove', 1, city)],
  ])
  expect(ofRoom('chatId')).toEqual([
    ['reaction.added', reaction(bob, dmId, '❤️', 'add', 1, inChat)],
    ['reaction.removed', reaction(bob, dmId, '❤️', 'remove', 0, inChat)],
  ])
  // The same envelope as every event, signed with each hook's own secret.
  for (const [receiver, made] of [
    [all, madeAll],
    [removals, madeRemovals],
  ] as const) {
    for (const { headers, body, json } of receiver.received) {
      expect(Object.keys(json).sort()).toEqual(['data', 'id', 'time', 'type'])
      const timestamp = headers.get('x-webhook-timestamp') as string
      const signed = createHmac('sha256', made.body.secret).update(`${timestamp}.${body}`)
      expect(headers.get('x-webhook-signature')).toBe(`v1=${signed.digest('hex')}`)
    }
  }
  await eventually(() => removals.received.length === 2, 10_000, 'the removals at the second hook')
  expect(removals.received.map((r) => [r.json.type, r.json.data.messageId])).toEqual([
    ['reaction.removed', messageId],
    ['reaction.removed', dmId],
  ])
  // Nothing else came (the shadowed 🎉 above all).
  expect(all.received).toHaveLength(7)
  expect(JSON.stringify(all.received.map((r) => r.json))).not.toContain('🎉')
})
