/**
 * Account erasure over HTTP and sockets: `DELETE /api/users/me` `{ password, erase: true }` and
 * `POST /api/admin/users/:userId/erase`. The user's sockets close, the room members hear a delete
 * for every message, the tombstones stay, the profile is anonymised and the username held; then no
 * byte of a marker the user wrote into their profile, messages, an edit, a report and a webhook is
 * left in the database file or its WAL. Refusals: unauthenticated, no or a wrong password, a bad
 * flag, the admin route by a non-admin, an unknown user, another admin, twice.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { ask, chatUser, connectAs, joinCity, once, trackClients } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { pngOf, upload } from '../helpers/media.ts'
import { freePort } from '../helpers/ports.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const ADMIN = 'erasure_admin'
const OTHER_ADMIN = 'erasure_admin2'
const HOLD_MS = 3_000
let server: TestServer
const clients = trackClients()

beforeAll(async () => {
  server = await startServer({
    ADMIN_USERNAMES: `${ADMIN},${OTHER_ADMIN}`,
    MESSAGE_RATE_PER_MINUTE: 0,
    USERNAME_HOLD: `${HOLD_MS}ms`,
    // Nobody listens there: the outbox keeps its rows (and what they carry) pending.
    WEBHOOK_URL: `http://127.0.0.1:${await freePort()}/hook`,
    WEBHOOK_SECRET: 'erasure-test-secret',
    WEBHOOK_RETRY_BASE: '60s',
  })
})
afterAll(async () => {
  clients.disconnectAll()
  await server.stop()
})

const erase = (user: RegisteredUser, body: unknown) =>
  api(server.url, 'DELETE', '/api/users/me', { token: user.accessToken, body })

/** Every byte of the database's files (the file, its WAL and shared memory). */
function databaseBytes(): Buffer {
  const files = readdirSync(server.dataDir).filter((name) => name.startsWith('chat.db'))
  expect(files).toContain('chat.db')
  return Buffer.concat(files.map((name) => readFileSync(join(server.dataDir, name))))
}

describe('account erasure', () => {
  test('refusals: unauthenticated, no password, a wrong one, a bad flag; the account stays', async () => {
    const alice = await registerUser(server.url)
    expect((await api(server.url, 'DELETE', '/api/users/me', { body: {} })).status).toBe(401)
    const noPassword = await erase(alice, { erase: true })
    expect(noPassword.status).toBe(400)
    expect(noPassword.body.error.code).toBe('invalid_input')
    const wrong = await erase(alice, { erase: true, password: 'not-the-password' })
    expect(wrong.status).toBe(401)
    expect(wrong.body.error.code).toBe('unauthorized')
    const badFlag = await erase(alice, { erase: 'yes', password: alice.password })
    expect(badFlag.status).toBe(400)
    const me = await api(server.url, 'GET', '/api/auth/me', { token: alice.accessToken })
    expect(me.status).toBe(200)
    expect(me.body.user.full_name).toBe(alice.user.full_name)
  })

  test('without erase, DELETE /api/users/me deactivates as before: the profile and name stay', async () => {
    const carol = await registerUser(server.url)
    const res = await erase(carol, { password: carol.password })
    expect(res.status).toBe(204)
    const login = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: carol.user.username, password: carol.password },
    })
    expect(login.status).toBe(403)
    const again = await api(server.url, 'POST', '/api/auth/register', {
      body: {
        username: carol.user.username,
        email: 'someone-else@example.test',
        full_name: 'X',
        password: 'another-password',
      },
    })
    expect(again.status).toBe(409)
  })

  test('erase: sockets close, members hear every delete, tombstones stay, nothing of the marker is left in the database files', async () => {
    const marker = `zq${crypto.randomUUID().replace(/-/g, '').slice(0, 14)}`
    const alice = clients.track(
      await connectAs(
        server.url,
        await registerUser(server.url, {
          username: `${marker}_name`,
          email: `${marker}@example.test`,
          full_name: `Full ${marker}`,
        })
      )
    )
    const bob = clients.track(await chatUser(server.url))
    await joinCity(alice, 'mumbai')
    await joinCity(bob, 'mumbai')
    const photo = await upload(server.url, alice.accessToken, await pngOf(64, 64), 'me.png', {
      path: '/api/users/me/photo',
      method: 'PUT',
    })
    expect(photo.status).toBe(200)

    const sent: string[] = []
    for (let i = 0; i < 30; i++) {
      const ack = await ask(alice.socket, 'send-city-message', {
        cityId: 'mumbai',
        content: `city ${i} ${marker}`,
      })
      expect(ack.ok).toBe(true)
      sent.push(ack.message._id)
    }
    const edited = await api(server.url, 'PATCH', `/api/messages/${sent[0]}`, {
      token: alice.accessToken,
      body: { content: `edited ${marker} again` },
    })
    expect(edited.status).toBe(200)
    const chatRes = await api(server.url, 'POST', '/api/chats', {
      token: alice.accessToken,
      body: { name: 'Pair', memberIds: [bob.user._id] },
    })
    const chatId = chatRes.body.chat._id
    await ask(bob.socket, 'join-private-chat', { chatId })
    const inChat = await api(server.url, 'POST', `/api/chats/${chatId}/messages`, {
      token: alice.accessToken,
      body: { content: `private ${marker}` },
    })
    sent.push(inChat.body.message._id)
    const bobs = await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content: 'bob' })
    const report = await api(server.url, 'POST', `/api/messages/${bobs.message._id}/reports`, {
      token: alice.accessToken,
      body: { reason: `report ${marker}` },
    })
    expect(report.status).toBe(201)
    const exported = await api(server.url, 'POST', '/api/users/me/export', {
      token: alice.accessToken,
    })
    expect(exported.status).toBe(202)
    // The marker is in the database now, the search index too (or the scan below proves nothing).
    await server.app.chat.notifier.settled()
    expect(databaseBytes().includes(marker)).toBe(true)
    const search = () =>
      api(server.url, 'GET', `/api/search?q=${marker}&cityId=mumbai`, { token: bob.accessToken })
    expect((await search()).body.results.length).toBeGreaterThan(0)

    const deletes: string[] = []
    const onDelete = (payload: { messageId: string }) => deletes.push(payload.messageId)
    bob.socket.on('city-message-deleted', onDelete)
    bob.socket.on('private-message-deleted', onDelete)
    const told = once<any>(alice.socket, 'error')
    const gone = once<string>(alice.socket, 'disconnect')
    const res = await erase(alice, { erase: true, password: alice.password })
    expect(res.status).toBe(202)
    expect(res.body.erasure).toMatchObject({ user_id: alice.user._id, state: 'running' })
    expect((await told).event).toBe('auth')
    expect(await gone).toBe('io server disconnect')

    await eventually(() => deletes.length >= sent.length, 20_000, 'every delete')
    await server.app.chat.erasure.settled()
    expect(new Set(deletes)).toEqual(new Set(sent))

    // Tombstones in history, under an anonymous author.
    const history = await api(server.url, 'GET', '/api/cities/mumbai/messages?limit=100', {
      token: bob.accessToken,
    })
    const hers = history.body.messages.filter((m: any) => m.sender_id._id === alice.user._id)
    expect(hers).toHaveLength(30)
    for (const m of hers) {
      expect(m).toMatchObject({ is_deleted: true, content: '', media_url: null })
      expect(m.sender_id.full_name).toBe('Deleted user')
      expect(m.sender_id.username).not.toContain(marker)
    }
    const chat = await api(server.url, 'GET', `/api/chats/${chatId}`, { token: bob.accessToken })
    expect(chat.body.chat.members.map((m: any) => m.user?._id ?? m._id)).not.toContain(
      alice.user._id
    )
    expect(
      (
        await api(server.url, 'GET', `/api/users/${alice.user._id}`, {
          token: bob.accessToken,
        })
      ).status
    ).toBe(404)
    const login = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: alice.user.email, password: alice.password },
    })
    expect(login.status).toBe(401)
    // Erasing twice: her token no longer authenticates.
    expect((await erase(alice, { erase: true, password: alice.password })).status).toBe(401)

    expect((await search()).body.results).toEqual([])
    const bytes = databaseBytes()
    expect(bytes.includes(marker)).toBe(false)
    expect(bytes.includes(Buffer.from(marker, 'utf16le'))).toBe(false)
  }, 60_000)

  test(`the username is held for USERNAME_HOLD, then free`, async () => {
    const dave = await registerUser(server.url)
    expect((await erase(dave, { erase: true, password: dave.password })).status).toBe(202)
    const again = () =>
      api(server.url, 'POST', '/api/auth/register', {
        body: {
          username: dave.user.username,
          email: `${dave.user.username}-new@example.test`,
          full_name: 'New Dave',
          password: 'another-password',
        },
      })
    const held = await again()
    expect(held.status).toBe(409)
    expect(held.body.error.details.fields).toEqual(['username'])
    await Bun.sleep(HOLD_MS + 200)
    expect((await again()).status).toBe(201)
  })

  test('admins: erase a user (audited); refusals: a non-admin, a bad id, an unknown user, another admin, twice', async () => {
    const admin = await registerUser(server.url, { username: ADMIN })
    const otherAdmin = await registerUser(server.url, { username: OTHER_ADMIN })
    const plain = await registerUser(server.url)
    const target = await registerUser(server.url)
    const adminErase = (who: RegisteredUser, userId: string, body: unknown = {}) =>
      api(server.url, 'POST', `/api/admin/users/${userId}/erase`, { token: who.accessToken, body })

    expect(
      (await api(server.url, 'POST', `/api/admin/users/${target.user._id}/erase`)).status
    ).toBe(401)
    const notAdmin = await adminErase(plain, target.user._id)
    expect(notAdmin.status).toBe(403)
    expect(notAdmin.body.error.code).toBe('forbidden')
    expect((await adminErase(admin, 'nope')).status).toBe(400)
    const unknown = await adminErase(admin, '0123456789abcdef01234567')
    expect(unknown.status).toBe(404)
    const anAdmin = await adminErase(admin, otherAdmin.user._id)
    expect(anAdmin.status).toBe(403)
    expect(anAdmin.body.error.message).toContain('another admin')

    const done = await adminErase(admin, target.user._id, { reason: 'asked by mail' })
    expect(done.status).toBe(202)
    const twice = await adminErase(admin, target.user._id)
    expect(twice.status).toBe(409)
    expect(twice.body.error.code).toBe('conflict')
    const me = await api(server.url, 'GET', '/api/auth/me', { token: target.accessToken })
    expect(me.status).toBe(401)
    const audit = await api(server.url, 'GET', '/api/admin/audit', { token: admin.accessToken })
    expect(audit.body.entries[0]).toMatchObject({ action: 'user.erase', reason: 'asked by mail' })
  })
})
