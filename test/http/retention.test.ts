/**
 * Message retention: MESSAGE_RETENTION and a city's own retentionDays (which beats it) delete old
 * messages for good with their media, notifications, reports and logged edits; private chats
 * follow MESSAGE_RETENTION. History, unread counts and recovery treat a purged message as gone, and
 * a reply to one reads `reply_to_deleted: true`. Messages are sent for real and then aged in SQL
 * (a test cannot wait 30 days).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { api, as, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { ask, type ChatClient, trackClients } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { pngOf, upload } from '../helpers/media.ts'
import { drop, recover } from '../helpers/recovery.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const DAY = 86_400_000
let server: TestServer
let url: string
let admin: RegisteredUser
const clients = trackClients()

beforeAll(async () => {
  server = await startServer({
    ADMIN_USERNAMES: 'keeper_admin',
    MESSAGE_RETENTION: '30d',
    RETENTION_INTERVAL: '300ms',
    MEDIA_SWEEP_INTERVAL: '300ms',
  })
  url = server.url
  admin = await registerUser(url, { username: 'keeper_admin' })
})
afterEach(() => clients.disconnectAll())
afterAll(() => server.stop())

let cityCounter = 0

async function newCity(retentionDays?: number): Promise<string> {
  cityCounter += 1
  const id = `kept-${cityCounter}-${Date.now().toString(36)}`
  const res = await api(url, 'POST', '/api/admin/cities', {
    ...as(admin),
    body: { id, name: `Kept ${cityCounter}`, country: 'Testland' },
  })
  expect(res.status).toBe(201)
  if (retentionDays !== undefined) {
    const set = await api(url, 'PATCH', `/api/admin/cities/${id}`, {
      ...as(admin),
      body: { retentionDays },
    })
    expect(set.status).toBe(200)
    expect(set.body.city.retentionDays).toBe(retentionDays)
  }
  return id
}

/** Test setup only: makes a stored message `days` old. */
async function age(messageId: string, days: number): Promise<void> {
  await server.app.database.executeAll([
    `UPDATE messages SET created_at = ${Date.now() - days * DAY} WHERE id = '${messageId}'`,
  ])
}

async function sendCity(who: ChatClient, cityId: string, body: object) {
  const ack = await ask(who.socket, 'send-city-message', { cityId, ...body })
  expect(ack.ok).toBe(true)
  return ack.message
}

async function history(who: RegisteredUser, path: string): Promise<any[]> {
  const res = await api(url, 'GET', `${path}/messages?limit=100`, as(who))
  expect(res.status).toBe(200)
  return res.body.messages
}

const ids = (messages: { _id: string }[]) => messages.map((message) => message._id)

describe('retention', () => {
  test('an old message goes with its media, notifications, report and logged edit; its reply says so; unread counts and recovery agree', async () => {
    const alice = await clients.user(url)
    const bob = await clients.user(url)
    const cityId = await newCity()
    for (const who of [alice, bob]) await ask(who.socket, 'join-city-chat', { cityId })

    const up = await upload(url, alice.accessToken, await pngOf(32, 32), 'old.png')
    expect(up.status).toBe(201)
    const mediaId = up.body.media._id
    const old = await sendCity(alice, cityId, {
      content: `old news @${bob.user.username}`,
      message_type: 'image',
      media_id: mediaId,
    })
    const report = await api(url, 'POST', `/api/messages/${old._id}/reports`, {
      ...as(bob),
      body: { reason: 'spam' },
    })
    expect(report.status).toBe(201)
    // Bob read up to the old message.
    expect((await api(url, 'POST', `/api/cities/${cityId}/read`, as(bob))).status).toBe(200)
    await eventually(async () => {
      const feed = await api(url, 'GET', '/api/notifications', as(bob))
      return feed.body.notifications.some((n: any) => n.message?._id === old._id)
    })

    // Bob drops; meanwhile the old message is edited (a log row with its content) and replied to.
    await drop(bob, alice)
    const edited = await api(url, 'PATCH', `/api/messages/${old._id}`, {
      ...as(alice),
      body: { content: 'SECRET-EDIT-CONTENT' },
    })
    expect(edited.status).toBe(200)
    const reply = await sendCity(alice, cityId, { content: 'replying', reply_to: old._id })
    expect(reply.reply_to_deleted).toBeUndefined()
    const search = (q: string) =>
      api(url, 'GET', `/api/search?q=${q}&cityId=${cityId}`, as(alice)).then((res) => {
        expect(res.status).toBe(200)
        return JSON.stringify(res.body.results)
      })
    expect(await search('SECRET')).toContain(old._id)
    await age(old._id, 40)

    await eventually(
      async () => !ids(await history(alice, `/api/cities/${cityId}`)).includes(old._id),
      8_000,
      'the old message to be purged'
    )
    const [kept] = await history(alice, `/api/cities/${cityId}`)
    expect(kept).toMatchObject({ _id: reply._id, reply_to: old._id, reply_to_deleted: true })

    // Recovery replays the reply, never the purged message's edit.
    const replayed = await recover(bob)
    expect(JSON.stringify(replayed)).not.toContain('SECRET-EDIT-CONTENT')
    expect(replayed).toContainEqual([
      'new-city-message',
      expect.objectContaining({ _id: reply._id, reply_to_deleted: true }),
    ])

    // Bob's read position is gone with the message: what is left is unread.
    const cities = await api(url, 'GET', '/api/cities', as(bob))
    expect(cities.body.cities.find((city: any) => city._id === cityId).unreadCount).toBe(1)

    // The feed, the report and the upload went too (the files by the sweeper).
    const feed = await api(url, 'GET', '/api/notifications', as(bob))
    expect(feed.body.notifications.some((n: any) => n.messageId === old._id)).toBe(false)
    expect(JSON.stringify(feed.body)).not.toContain(old._id)
    const reports = await api(url, 'GET', '/api/reports?status=open', as(admin))
    expect(JSON.stringify(reports.body)).not.toContain(old._id)
    expect((await api(url, 'GET', `/api/media/${mediaId}`, as(bob))).status).toBe(404)
    await eventually(
      () => !existsSync(join(server.dataDir, 'media', 'originals', mediaId)),
      8_000,
      'the file to be deleted'
    )
    // Search has forgotten it (its index follows deletes).
    expect(await search('SECRET')).not.toContain(old._id)
    // A cursor at the purged message is refused like any message not in the room.
    const cursor = await api(
      url,
      'GET',
      `/api/cities/${cityId}/messages?before=${old._id}`,
      as(bob)
    )
    expect(cursor.status).toBe(400)
  })

  test("a city's retentionDays beats MESSAGE_RETENTION both ways; private chats follow MESSAGE_RETENTION", async () => {
    const alice = await clients.user(url)
    const bob = await clients.user(url)
    const longer = await newCity(400)
    const shorter = await newCity(1)
    for (const cityId of [longer, shorter]) await ask(alice.socket, 'join-city-chat', { cityId })
    const keptLong = await sendCity(alice, longer, { content: '40 days, kept 400' })
    const goneShort = await sendCity(alice, shorter, { content: '2 days, kept 1' })
    const freshShort = await sendCity(alice, shorter, { content: 'fresh' })
    const chat = await api(url, 'POST', '/api/chats', {
      ...as(alice),
      body: { memberIds: [bob.user._id] },
    })
    expect(chat.status).toBe(201)
    const chatId = chat.body.chat._id
    const post = (content: string) =>
      api(url, 'POST', `/api/chats/${chatId}/messages`, { ...as(alice), body: { content } })
    const oldPrivate = (await post('old private')).body.message
    const freshPrivate = (await post('fresh private')).body.message
    await age(keptLong._id, 40)
    await age(goneShort._id, 2)
    await age(oldPrivate._id, 31)

    await eventually(
      async () =>
        !ids(await history(alice, `/api/cities/${shorter}`)).includes(goneShort._id) &&
        !ids(await history(alice, `/api/chats/${chatId}`)).includes(oldPrivate._id),
      8_000,
      'the purge'
    )
    expect(ids(await history(alice, `/api/cities/${shorter}`))).toEqual([freshShort._id])
    expect(ids(await history(alice, `/api/chats/${chatId}`))).toEqual([freshPrivate._id])
    expect(ids(await history(alice, `/api/cities/${longer}`))).toEqual([keptLong._id])
    // The private chat's list shows what is left.
    const chats = await api(url, 'GET', '/api/chats', as(bob))
    const listed = chats.body.chats.find((c: any) => c._id === chatId)
    expect(listed.unreadCount).toBe(1)
    expect(listed.lastMessage?._id ?? listed.last_message?._id).toBe(freshPrivate._id)

    // Null clears the override: MESSAGE_RETENTION (30 days) applies, so 40 days old goes now.
    const cleared = await api(url, 'PATCH', `/api/admin/cities/${longer}`, {
      ...as(admin),
      body: { retentionDays: null },
    })
    expect(cleared.status).toBe(200)
    expect(cleared.body.city.retentionDays).toBeNull()
    await eventually(
      async () => (await history(alice, `/api/cities/${longer}`)).length === 0,
      8_000,
      'the purge after the override was cleared'
    )
    const audit = await api(url, 'GET', '/api/admin/audit?limit=50', as(admin))
    expect(audit.body.entries).toContainEqual(
      expect.objectContaining({ action: 'city.update', cityId: longer })
    )
  })

  test('PATCH /api/admin/cities/:cityId { retentionDays } refuses non-admins, bad values and unknown cities', async () => {
    const alice = await registerUser(url)
    const cityId = await newCity()
    const patch = (who: RegisteredUser, body: unknown, id = cityId) =>
      api(url, 'PATCH', `/api/admin/cities/${id}`, { ...as(who), body })
    const refused = await patch(alice, { retentionDays: 7 })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('forbidden')
    for (const retentionDays of [0, -1, 1.5, '7', 36_501, true]) {
      const bad = await patch(admin, { retentionDays })
      expect(bad.status).toBe(400)
      expect(bad.body.error.code).toBe('invalid_input')
    }
    expect((await patch(admin, {})).status).toBe(400)
    const unknown = await patch(admin, { retentionDays: 7 }, 'no-such-city')
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('not_found')
    expect(
      (await api(url, 'PATCH', `/api/admin/cities/${cityId}`, { body: { retentionDays: 7 } }))
        .status
    ).toBe(401)
    // Nothing changed.
    const city = await api(url, 'GET', `/api/cities/${cityId}`, as(alice))
    expect(city.body.city.retentionDays).toBeNull()
  })
})

describe('retention and the webhook outbox', () => {
  test('delivered rows older than the shortest retention go (their bodies carry content); newer ones stay', async () => {
    const received: string[] = []
    const receiver = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(req) {
        received.push(await req.text())
        return new Response(null, { status: 204 })
      },
    })
    const hooked = await startServer({
      MESSAGE_RETENTION: '30d',
      RETENTION_INTERVAL: '300ms',
      WEBHOOK_URL: `http://127.0.0.1:${receiver.port}/hook`,
      WEBHOOK_SECRET: 'retention-test-secret-0123',
    })
    try {
      const alice = await registerUser(hooked.url)
      const post = (content: string) =>
        api(hooked.url, 'POST', '/api/cities/mumbai/messages', { ...as(alice), body: { content } })
      const old = (await post('OLD-HOOK-BODY')).body.message
      const fresh = (await post('FRESH-HOOK-BODY')).body.message
      await eventually(() => received.some((body) => body.includes('FRESH-HOOK-BODY')))
      const outbox = async () =>
        (await hooked.app.database.queryRows(
          "SELECT body FROM webhook_outbox WHERE state = 'delivered'"
        )) as [string][]
      await eventually(async () => (await outbox()).length >= 2, 8_000, 'both delivered')
      // Test setup: the old message and its outbox row are 40 days old.
      const at = Date.now() - 40 * DAY
      await hooked.app.database.executeAll([
        `UPDATE messages SET created_at = ${at} WHERE id = '${old._id}'`,
        `UPDATE webhook_outbox SET created_at = ${at} WHERE body LIKE '%OLD-HOOK-BODY%'`,
      ])
      await eventually(
        async () => !(await outbox()).some(([body]) => body.includes('OLD-HOOK-BODY')),
        8_000,
        'the old outbox row to go'
      )
      expect((await outbox()).some(([body]) => body.includes(fresh._id))).toBe(true)
    } finally {
      await hooked.stop()
      await receiver.stop(true)
    }
  })
})
