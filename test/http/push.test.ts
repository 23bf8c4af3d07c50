/**
 * @module Web Push on one node, to a push service of the test's own (test/helpers/push-service.ts)
 * that decrypts every payload with the subscriber's keys and checks its VAPID signature, TTL,
 * Urgency and Topic: subscriptions and their refusals, pushes only for users with no live socket,
 * settings and mutes, the payload (room, sender, preview), collapse per room, 410 dropping the
 * subscription, 5xx retried, and deactivation removing the subscriptions.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { pushSubscriptionsOf } from '../../src/store/push.ts'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { type ChatClient, chatUser, createPrivateChat } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { type PushService, type PushSubscriber, startPushService } from '../helpers/push-service.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
let push: PushService
const open: ChatClient[] = []
const COLLAPSE_MS = 6_000

beforeAll(async () => {
  push = await startPushService()
  server = await startServer({
    PUSH_COLLAPSE: `${COLLAPSE_MS}ms`,
    PUSH_RETRY_BASE: '100ms',
    PUSH_TTL: '1h',
    PUSH_SUBSCRIPTIONS_PER_USER: '2',
    VAPID_SUBJECT: 'mailto:ops@example.test',
  })
})
afterAll(async () => {
  for (const client of open) client.socket.disconnect()
  await server.stop()
  push.stop()
})

const subscribe = (who: RegisteredUser, body: unknown) =>
  api(server.url, 'POST', '/api/push/subscriptions', { token: who.accessToken, body })

/** A user with no socket and one subscribed browser. */
async function offlineSubscriber(): Promise<[RegisteredUser, PushSubscriber]> {
  const who = await registerUser(server.url)
  const browser = await push.subscriber()
  const res = await subscribe(who, browser.subscription)
  expect(res.status).toBe(201)
  return [who, browser]
}

const sendCity = async (who: RegisteredUser, cityId: string, content: string) => {
  const res = await api(server.url, 'POST', `/api/cities/${cityId}/messages`, {
    token: who.accessToken,
    body: { content },
  })
  if (res.status !== 201) throw new Error(JSON.stringify(res.body))
  return res.body.message
}

/** A counter of /metrics (the sum over its labels). */
async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
}

test('the VAPID public key is served, and a subscription is saved, refused or removed', async () => {
  const key = await api(server.url, 'GET', '/api/push/vapid-public-key')
  expect(key.status).toBe(200)
  expect(key.body.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/)
  // Generated once into DATA_DIR: the same after a read of the file.
  expect((await Bun.file(`${server.dataDir}/vapid-keys.json`).json()).publicKey).toBe(
    key.body.publicKey
  )

  const alice = await registerUser(server.url)
  const bob = await registerUser(server.url)
  const browser = await push.subscriber()
  const good = browser.subscription
  expect((await api(server.url, 'POST', '/api/push/subscriptions', { body: good })).status).toBe(
    401
  )
  const refusals: Array<[unknown, string]> = [
    [{ ...good, endpoint: 'ftp://push.example/x' }, 'endpoint'],
    [{ ...good, endpoint: 'not a url' }, 'endpoint'],
    [{ ...good, keys: { ...good.keys, p256dh: good.keys.p256dh.slice(1) } }, 'keys.p256dh'],
    [{ ...good, keys: { ...good.keys, p256dh: `${good.keys.p256dh.slice(1)}+` } }, 'keys.p256dh'],
    [{ ...good, keys: { ...good.keys, auth: 'c2hvcnQ' } }, 'keys.auth'],
    [{ endpoint: good.endpoint }, 'keys'],
    // The right length, but no point on the curve.
    [{ ...good, keys: { ...good.keys, p256dh: `BA${'A'.repeat(85)}` } }, 'keys.p256dh'],
  ]
  for (const [body, field] of refusals) {
    const res = await subscribe(alice, body)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('invalid_input')
    expect(JSON.stringify(res.body.error)).toContain(field.split('.').at(-1) as string)
  }
  expect(
    (
      await api(server.url, 'POST', '/api/push/subscriptions', {
        token: alice.accessToken,
        rawBody: '{not json',
      })
    ).status
  ).toBe(400)

  expect((await subscribe(alice, good)).status).toBe(201)
  // The same browser again: already hers.
  expect((await subscribe(alice, good)).status).toBe(200)
  // Over PUSH_SUBSCRIPTIONS_PER_USER (2).
  expect((await subscribe(alice, (await push.subscriber()).subscription)).status).toBe(201)
  const over = await subscribe(alice, (await push.subscriber()).subscription)
  expect(over.status).toBe(409)
  expect(over.body.error.code).toBe('conflict')

  // Bob cannot remove Alice's; a bad body is refused; Alice removes hers once.
  const remove = (who: RegisteredUser, body: unknown) =>
    api(server.url, 'DELETE', '/api/push/subscriptions', { token: who.accessToken, body })
  expect((await remove(bob, { endpoint: good.endpoint })).status).toBe(404)
  expect((await remove(bob, { endpoint: 42 })).status).toBe(400)
  expect((await api(server.url, 'DELETE', '/api/push/subscriptions', { body: good })).status).toBe(
    401
  )
  expect((await remove(alice, { endpoint: good.endpoint })).status).toBe(204)
  expect((await remove(alice, { endpoint: good.endpoint })).status).toBe(404)
  // Back under the cap.
  expect((await subscribe(alice, good)).status).toBe(201)
})

test('a mention pushes only the user with no live socket: decrypted, signed, with TTL, Urgency and Topic', async () => {
  const alice = await registerUser(server.url)
  const [bob, bobBrowser] = await offlineSubscriber()
  // Carol is subscribed too, but has a live socket.
  const carol = await chatUser(server.url)
  open.push(carol)
  const carolBrowser = await push.subscriber()
  expect((await subscribe(carol, carolBrowser.subscription)).status).toBe(201)

  const queuedBefore = await metric('chat_push_queued_total')
  const long = `@${bob.user.username} @${carol.user.username} ${'x'.repeat(300)}`
  const message = await sendCity(alice, 'pune', long)
  await eventually(() => bobBrowser.arrived.length === 1, 8_000, "Bob's push")
  await server.app.chat.notifier.settled()
  // One push queued for the message: Bob's. Carol was online on a socket.
  expect((await metric('chat_push_queued_total')) - queuedBefore).toBe(1)
  expect(carolBrowser.requests).toEqual([])
  expect(push.failures).toEqual([])

  const [arrived] = bobBrowser.arrived
  const key = (await api(server.url, 'GET', '/api/push/vapid-public-key')).body.publicKey
  expect(arrived?.vapidKey).toBe(key)
  expect(arrived?.claims.sub).toBe('mailto:ops@example.test')
  expect(arrived?.claims.aud).toBe(push.origin)
  expect(arrived?.ttl).toBe(3600)
  expect(arrived?.urgency).toBe('high')
  expect(arrived?.topic).toMatch(/^[A-Za-z0-9_-]{32}$/)
  const payload = arrived?.payload
  expect(payload).toMatchObject({
    kind: 'mention',
    cityId: 'pune',
    message_id: message._id,
    count: 1,
    sender: { _id: alice.user._id, username: alice.user.username, full_name: alice.user.full_name },
  })
  expect(payload.preview).toHaveLength(120)
  expect(payload.preview.endsWith('…')).toBe(true)
  expect(long.startsWith(payload.preview.slice(0, -1))).toBe(true)
  // The id the feed shows.
  const feed = await api(server.url, 'GET', '/api/notifications', { token: bob.accessToken })
  expect(payload.notification_id).toBe(feed.body.notifications[0]._id)
})

test("settings and mutes hold: a room at none or muted pushes nothing; a chat's plain message pushes", async () => {
  const alice = await registerUser(server.url)
  const [bob, browser] = await offlineSubscriber()
  const setting = (path: string, body: object) =>
    api(server.url, 'PUT', `/api/notification-settings/${path}`, { token: bob.accessToken, body })
  expect((await setting('city/delhi', { level: 'none' })).status).toBe(200)
  const chatId = await createPrivateChat(server.url, alice, [bob])
  await eventually(() => browser.arrived.length === 1, 8_000, 'the added push')
  expect(browser.arrived[0]?.payload).toMatchObject({ kind: 'added', chatId, preview: '' })
  const muteUntil = new Date(Date.now() + 3_600_000).toISOString()
  expect((await setting(`chat/${chatId}`, { level: 'all', muteUntil })).status).toBe(200)

  const queuedBefore = await metric('chat_push_queued_total')
  await sendCity(alice, 'delhi', `@${bob.user.username} in a room at none`)
  await api(server.url, 'POST', `/api/chats/${chatId}/messages`, {
    token: alice.accessToken,
    body: { content: 'while muted' },
  })
  await server.app.chat.notifier.settled()
  expect((await metric('chat_push_queued_total')) - queuedBefore).toBe(0)

  // Unmuted: a plain message of the chat reaches him (level all is the chats' default).
  expect((await setting(`chat/${chatId}`, { level: 'all' })).status).toBe(200)
  // The chat's collapse window (from the added push) may hold it back a few seconds.
  await api(server.url, 'POST', `/api/chats/${chatId}/messages`, {
    token: alice.accessToken,
    body: { content: 'not muted now' },
  })
  await eventually(() => browser.arrived.length === 2, COLLAPSE_MS + 8_000, 'the chat push')
  expect(browser.arrived[1]?.payload).toMatchObject({
    kind: 'message',
    chatId,
    preview: 'not muted now',
  })
  expect(browser.arrived[1]?.urgency).toBe('high')
  expect(push.failures).toEqual([])
})

test('collapse per room: one push per room per PUSH_COLLAPSE, later ones folded into the next', async () => {
  const alice = await registerUser(server.url)
  const [bob, browser] = await offlineSubscriber()
  const mention = (cityId: string, text: string) =>
    sendCity(alice, cityId, `@${bob.user.username} ${text}`)
  await mention('jaipur', 'first')
  await eventually(() => browser.arrived.length === 1, 8_000, 'the first push')
  await mention('jaipur', 'second')
  await mention('jaipur', 'third')
  // Another room is not held back.
  await mention('kolkata', 'elsewhere')
  await eventually(() => browser.arrived.length === 2, 8_000, "the other room's push")
  expect(browser.arrived.map((p) => p.payload.preview)).toEqual([
    `@${bob.user.username} first`,
    `@${bob.user.username} elsewhere`,
  ])
  expect(browser.arrived[0]?.topic).not.toBe(browser.arrived[1]?.topic)
  // After the window: the two folded into one, the newest message, counted.
  await eventually(() => browser.arrived.length === 3, COLLAPSE_MS + 8_000, 'the folded push')
  expect(browser.arrived[2]?.payload).toMatchObject({
    cityId: 'jaipur',
    preview: `@${bob.user.username} third`,
    count: 2,
  })
  expect(browser.arrived[2]?.topic).toBe(browser.arrived[0]?.topic as string)
  expect(browser.requests).toEqual([201, 201, 201])
})

test('410 drops the subscription; 500 and 503 are retried until it arrives', async () => {
  const alice = await registerUser(server.url)
  const [bob, gone] = await offlineSubscriber()
  gone.answer(410)
  const goneBefore = await metric('chat_push_subscriptions_gone_total')
  await sendCity(alice, 'chennai', `@${bob.user.username} one`)
  await eventually(
    async () => (await metric('chat_push_subscriptions_gone_total')) === goneBefore + 1,
    8_000,
    'the subscription dropped'
  )
  expect(gone.requests).toEqual([410])
  const removed = await api(server.url, 'DELETE', '/api/push/subscriptions', {
    token: bob.accessToken,
    body: { endpoint: gone.endpoint },
  })
  expect(removed.status).toBe(404)

  const [carol, flaky] = await offlineSubscriber()
  flaky.answer(500, 503)
  await sendCity(alice, 'chennai', `@${carol.user.username} two`)
  await eventually(() => flaky.arrived.length === 1, 8_000, 'the retried push')
  expect(flaky.requests).toEqual([500, 503, 201])
  expect(flaky.arrived[0]?.payload.preview).toBe(`@${carol.user.username} two`)
  // The dropped subscription got nothing more.
  expect(gone.requests).toEqual([410])
  expect(push.failures).toEqual([])
})

test('deactivating the account removes its push subscriptions', async () => {
  const [dave] = await offlineSubscriber()
  expect(await pushSubscriptionsOf(server.app.db, [dave.user._id])).toHaveLength(1)
  const res = await api(server.url, 'DELETE', '/api/users/me', { token: dave.accessToken })
  expect(res.status).toBeLessThan(300)
  expect(await pushSubscriptionsOf(server.app.db, [dave.user._id])).toEqual([])
})

test('erasing the account removes its push subscriptions', async () => {
  const [erin] = await offlineSubscriber()
  expect(await pushSubscriptionsOf(server.app.db, [erin.user._id])).toHaveLength(1)
  const res = await api(server.url, 'DELETE', '/api/users/me', {
    token: erin.accessToken,
    body: { password: erin.password, erase: true },
  })
  expect(res.status).toBeLessThan(300)
  await eventually(
    async () => (await pushSubscriptionsOf(server.app.db, [erin.user._id])).length === 0,
    8_000,
    'the subscriptions gone'
  )
})
