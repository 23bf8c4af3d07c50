/**
 * @module Moderation over sockets and REST on one node: roles and the audit log, admin cities and
 * archiving, moderator deletes, ban / mute / shadow (live, history, recovery), expiry, slow mode,
 * the word filter, reports, blocks, and the register and chat-creation limits.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, as, type RegisteredUser, registerUser } from '../helpers/api.ts'
import {
  ask,
  barrier,
  type ChatClient,
  connectAs,
  createPrivateChat,
  joinCity,
  once,
  trackClients,
} from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { drop, recover } from '../helpers/recovery.ts'
import { startServer, useAdminServer } from '../helpers/server.ts'

const env = useAdminServer('root_admin', 'town')
const clients = trackClients()
afterEach(() => clients.disconnectAll())

async function send(who: ChatClient, cityId: string, content: string) {
  return ask(who.socket, 'send-city-message', { cityId, content })
}

async function restrict(cityId: string, userId: string, kind: string, extra = {}) {
  return api(env.url, 'POST', `/api/cities/${cityId}/restrictions`, {
    ...as(env.admin),
    body: { userId, kind, ...extra },
  })
}

async function auditActions(): Promise<string[]> {
  const res = await api(env.url, 'GET', '/api/admin/audit?limit=200', as(env.admin))
  expect(res.status).toBe(200)
  return res.body.entries.map((e: { action: string }) => e.action)
}

describe('roles and the audit log', () => {
  test('ADMIN_USERNAMES makes an admin at registration; others are users; /me shows the role', async () => {
    expect((await api(env.url, 'GET', '/api/auth/me', as(env.admin))).body.user.role).toBe('admin')
    const someone = await registerUser(env.url)
    expect((await api(env.url, 'GET', '/api/auth/me', as(someone))).body.user.role).toBe('user')
  })

  test('ADMIN_USERNAMES applies at start to a user who registered before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'admins-at-start-'))
    const DATABASE_URL = `file:${join(dir, 'chat.db')}`
    try {
      const before = await startServer({ DATABASE_URL })
      const late = await registerUser(before.url, { username: 'late_admin' })
      expect(late.user.role).toBe('user')
      await before.stop()
      const after = await startServer({ DATABASE_URL, ADMIN_USERNAMES: 'late_admin,nobody_here' })
      try {
        const login = await api(after.url, 'POST', '/api/auth/login', {
          body: { login: 'late_admin', password: late.password },
        })
        expect(login.body.user.role).toBe('admin')
        const me = await api(after.url, 'GET', '/api/auth/me', { token: login.body.accessToken })
        expect(me.body.user.role).toBe('admin')
      } finally {
        await after.stop()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('moderator and city routes refuse unknown cities and users, bad ids and bodies', async () => {
    const cityId = await env.newCity()
    const alice = await registerUser(env.url)
    const mods = (city: string, user: string) => `/api/cities/${city}/moderators/${user}`
    expect(
      (await api(env.url, 'PUT', mods('no-such-city', alice.user._id), as(env.admin))).status
    ).toBe(404)
    expect(
      (await api(env.url, 'PUT', mods(cityId, '0123456789abcdef01234567'), as(env.admin))).status
    ).toBe(404)
    expect((await api(env.url, 'PUT', mods(cityId, 'not-an-id'), as(env.admin))).status).toBe(400)
    expect((await api(env.url, 'DELETE', mods(cityId, alice.user._id), as(alice))).status).toBe(403)
    const unknown = await api(env.url, 'PATCH', '/api/admin/cities/no-such-city', {
      ...as(env.admin),
      body: { name: 'X' },
    })
    expect(unknown.status).toBe(404)
    const badBody = await api(env.url, 'PATCH', `/api/admin/cities/${cityId}`, {
      ...as(env.admin),
      body: { archived: 'yes' },
    })
    expect(badBody.status).toBe(400)
    expect(badBody.body.error.code).toBe('invalid_input')
    const missing = await api(env.url, 'POST', '/api/admin/cities', {
      ...as(env.admin),
      body: { id: 'halfway' },
    })
    expect(missing.status).toBe(400)
    const slowUnknown = await api(env.url, 'PATCH', '/api/cities/no-such-city', {
      ...as(env.admin),
      body: { slowModeSeconds: 5 },
    })
    expect(slowUnknown.status).toBe(404)
    expect(
      (await api(env.url, 'GET', '/api/cities/no-such-city/restrictions', as(env.admin))).status
    ).toBe(404)
    // Over a socket: a plain user cannot delete another's city message.
    const author = await clients.user(env.url)
    const other = await clients.user(env.url)
    await joinCity(author, cityId)
    await joinCity(other, cityId)
    const sent = await send(author, cityId, 'mine')
    const refused = await ask(other.socket, 'delete-city-message', {
      cityId,
      messageId: sent.message._id,
    })
    expect(refused).toMatchObject({ ok: false, error: { code: 'not_author' } })
  })

  test('an admin sets roles, audited; nobody else may; bad roles are refused', async () => {
    const alice = await registerUser(env.url)
    const bob = await registerUser(env.url)
    const path = `/api/admin/users/${bob.user._id}`
    expect(
      (await api(env.url, 'PATCH', path, { ...as(alice), body: { role: 'admin' } })).status
    ).toBe(403)
    expect(
      (await api(env.url, 'PATCH', path, { ...as(env.admin), body: { role: 'god' } })).status
    ).toBe(400)
    const unknown = await api(env.url, 'PATCH', '/api/admin/users/0123456789abcdef01234567', {
      ...as(env.admin),
      body: { role: 'moderator' },
    })
    expect(unknown.status).toBe(404)
    const set = await api(env.url, 'PATCH', path, { ...as(env.admin), body: { role: 'moderator' } })
    expect(set.status).toBe(200)
    expect(set.body.user).toMatchObject({ _id: bob.user._id, role: 'moderator' })
    expect(set.body.user.email).toBeUndefined()
    expect((await api(env.url, 'GET', '/api/auth/me', as(bob))).body.user.role).toBe('moderator')
    const audit = await api(env.url, 'GET', '/api/admin/audit', as(env.admin))
    expect(audit.body.entries[0]).toMatchObject({
      actor_id: env.admin.user._id,
      action: 'role.set',
      target_user_id: bob.user._id,
      details: { from: 'user', to: 'moderator' },
    })
    expect((await api(env.url, 'GET', '/api/admin/audit', as(alice))).status).toBe(403)
  })
})

describe('cities managed by admins', () => {
  test('create, rename and archive; an archived city refuses joins and sends and keeps its history', async () => {
    const alice = await clients.user(env.url)
    const bad = await api(env.url, 'POST', '/api/admin/cities', {
      ...as(alice),
      body: { id: 'nowhere', name: 'Nowhere', country: 'X' },
    })
    expect(bad.status).toBe(403)
    expect(
      (
        await api(env.url, 'POST', '/api/admin/cities', {
          ...as(env.admin),
          body: { id: 'Not A Slug', name: 'x', country: 'y' },
        })
      ).status
    ).toBe(400)
    const cityId = await env.newCity()
    const again = await api(env.url, 'POST', '/api/admin/cities', {
      ...as(env.admin),
      body: { id: cityId, name: 'Again', country: 'X' },
    })
    expect(again.status).toBe(409)
    await joinCity(alice, cityId)
    expect((await send(alice, cityId, 'before the archive')).ok).toBe(true)
    const renamed = await api(env.url, 'PATCH', `/api/admin/cities/${cityId}`, {
      ...as(env.admin),
      body: { name: 'Renamed' },
    })
    expect(renamed.body.city).toMatchObject({ _id: cityId, name: 'Renamed', archived: false })
    expect(
      (
        await api(env.url, 'PATCH', `/api/admin/cities/${cityId}`, {
          ...as(alice),
          body: { archived: true },
        })
      ).status
    ).toBe(403)
    const archived = await api(env.url, 'PATCH', `/api/admin/cities/${cityId}`, {
      ...as(env.admin),
      body: { archived: true },
    })
    expect(archived.body.city.archived).toBe(true)
    const sent = await send(alice, cityId, 'after')
    expect(sent).toMatchObject({ ok: false, error: { code: 'archived' } })
    const bob = await clients.user(env.url)
    const join = await ask(bob.socket, 'join-city-chat', { cityId })
    expect(join).toMatchObject({ ok: false, error: { code: 'archived' } })
    const rest = await api(env.url, 'POST', `/api/cities/${cityId}/messages`, {
      ...as(bob),
      body: { content: 'hi' },
    })
    expect(rest.status).toBe(403)
    expect(rest.body.error.code).toBe('archived')
    const history = await api(env.url, 'GET', `/api/cities/${cityId}/messages`, as(bob))
    expect(history.status).toBe(200)
    expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual([
      'before the archive',
    ])
    expect(await auditActions()).toContain('city.update')
  })
})

describe('where a user moderates', () => {
  test('GET /api/cities and /api/cities/:cityId say canModerate: the city moderator for their cities, staff for all', async () => {
    const cityId = await env.newCity()
    const other = await env.newCity()
    const mod = await registerUser(env.url)
    const plain = await registerUser(env.url)
    await api(env.url, 'PUT', `/api/cities/${cityId}/moderators/${mod.user._id}`, as(env.admin))
    const flags = async (who: RegisteredUser) => {
      const res = await api(env.url, 'GET', '/api/cities', as(who))
      expect(res.status).toBe(200)
      return Object.fromEntries(
        res.body.cities
          .filter((c: { _id: string }) => c._id === cityId || c._id === other)
          .map((c: { _id: string; canModerate: boolean }) => [c._id, c.canModerate])
      )
    }
    expect(await flags(mod)).toEqual({ [cityId]: true, [other]: false })
    expect(await flags(plain)).toEqual({ [cityId]: false, [other]: false })
    expect(await flags(env.admin)).toEqual({ [cityId]: true, [other]: true })
    const one = await api(env.url, 'GET', `/api/cities/${cityId}`, as(mod))
    expect(one.body.city).toMatchObject({ _id: cityId, canModerate: true })
    expect((await api(env.url, 'GET', `/api/cities/${other}`, as(mod))).body.city.canModerate).toBe(
      false
    )
    expect((await api(env.url, 'GET', '/api/cities/no-such-city', as(mod))).status).toBe(404)
    await api(env.url, 'DELETE', `/api/cities/${cityId}/moderators/${mod.user._id}`, as(env.admin))
    expect((await flags(mod))[cityId]).toBe(false)
  })
})

describe('moderator deletes', () => {
  test("a city moderator deletes any message there (broadcast, audited), never an admin's", async () => {
    const cityId = await env.newCity()
    const mod = await clients.user(env.url)
    const alice = await clients.user(env.url)
    const adminClient = clients.track(await connectAs(env.url, env.admin))
    const other = await env.newCity()
    const put = await api(
      env.url,
      'PUT',
      `/api/cities/${cityId}/moderators/${mod.user._id}`,
      as(env.admin)
    )
    expect(put.status).toBe(204)
    expect(
      (await api(env.url, 'PUT', `/api/cities/${cityId}/moderators/${alice.user._id}`, as(mod)))
        .status
    ).toBe(403)
    for (const who of [mod, alice, adminClient]) await joinCity(who, cityId)
    const sent = await send(alice, cityId, 'rude words')
    const adminSent = await send(adminClient, cityId, 'from the admin')
    const heard = once<any>(alice.socket, 'city-message-deleted')
    const deleted = await ask(mod.socket, 'delete-city-message', {
      cityId,
      messageId: sent.message._id,
    })
    expect(deleted).toMatchObject({ ok: true, messageId: sent.message._id, cityId })
    expect(await heard).toEqual({ messageId: sent.message._id, cityId })
    const refused = await ask(mod.socket, 'delete-city-message', {
      cityId,
      messageId: adminSent.message._id,
    })
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    // Not a moderator of another city.
    await joinCity(alice, other)
    const elsewhere = await send(alice, other, 'elsewhere')
    const notMod = await api(env.url, 'DELETE', `/api/messages/${elsewhere.message._id}`, as(mod))
    expect(notMod.status).toBe(403)
    expect(notMod.body.error.code).toBe('not_author')
    expect(await auditActions()).toEqual(
      expect.arrayContaining(['moderator.add', 'message.delete'])
    )
    // Removed: no longer a moderator.
    expect(
      (
        await api(
          env.url,
          'DELETE',
          `/api/cities/${cityId}/moderators/${mod.user._id}`,
          as(env.admin)
        )
      ).status
    ).toBe(204)
    const again = await send(alice, cityId, 'again')
    const gone = await api(env.url, 'DELETE', `/api/messages/${again.message._id}`, as(mod))
    expect(gone.status).toBe(403)
  })

  test('a recovering socket gets the moderator delete replayed', async () => {
    const cityId = await env.newCity()
    const alice = await clients.user(env.url)
    const bob = await clients.user(env.url)
    await joinCity(alice, cityId)
    await joinCity(bob, cityId)
    const sent = await send(alice, cityId, 'soon gone')
    await drop(bob, alice)
    expect(
      (await api(env.url, 'DELETE', `/api/messages/${sent.message._id}`, as(env.admin))).status
    ).toBe(200)
    const replayed = await recover(bob)
    expect(replayed).toContainEqual([
      'city-message-deleted',
      { messageId: sent.message._id, cityId },
    ])
  })
})

describe('restrictions', () => {
  test('ban: the sockets leave at once, joins and sends are refused with until; lifting lets back in', async () => {
    const cityId = await env.newCity()
    const alice = await clients.user(env.url)
    const second = clients.track(await connectAs(env.url, alice))
    await joinCity(alice, cityId)
    await joinCity(second, cityId)
    const until = new Date(Date.now() + 3_600_000).toISOString()
    const left = [
      once<any>(alice.socket, 'left-city-chat'),
      once<any>(second.socket, 'left-city-chat'),
    ]
    const res = await restrict(cityId, alice.user._id, 'ban', { until, reason: 'spam' })
    expect(res.status).toBe(201)
    expect(res.body.restriction).toMatchObject({ kind: 'ban', until, reason: 'spam' })
    for (const event of await Promise.all(left))
      expect(event).toEqual({ cityId, reason: 'banned', until, note: 'spam' })
    const sent = await send(alice, cityId, 'still here?')
    expect(sent.ok).toBe(false)
    const join = await ask(alice.socket, 'join-city-chat', { cityId })
    expect(join).toMatchObject({ ok: false, error: { code: 'banned', details: { until } } })
    const rest = await api(env.url, 'POST', `/api/cities/${cityId}/messages`, {
      ...as(alice),
      body: { content: 'hi' },
    })
    expect(rest.body.error).toMatchObject({ code: 'banned', details: { until } })
    const list = await api(env.url, 'GET', `/api/cities/${cityId}/restrictions`, as(env.admin))
    expect(list.body.restrictions.map((r: { userId: string }) => r.userId)).toEqual([
      alice.user._id,
    ])
    expect(
      (await api(env.url, 'GET', `/api/cities/${cityId}/restrictions`, as(alice))).status
    ).toBe(403)
    const lift = await api(
      env.url,
      'DELETE',
      `/api/cities/${cityId}/restrictions/${alice.user._id}`,
      as(env.admin)
    )
    expect(lift.status).toBe(204)
    expect(
      (
        await api(
          env.url,
          'DELETE',
          `/api/cities/${cityId}/restrictions/${alice.user._id}`,
          as(env.admin)
        )
      ).status
    ).toBe(404)
    await joinCity(alice, cityId)
    expect(await auditActions()).toEqual(
      expect.arrayContaining(['restriction.ban', 'restriction.lift'])
    )
  })

  test('mute: the user reads and joins, and sends are refused', async () => {
    const cityId = await env.newCity()
    const alice = await clients.user(env.url)
    expect((await restrict(cityId, alice.user._id, 'mute', { reason: 'flooding' })).status).toBe(
      201
    )
    const joined = once<any>(alice.socket, 'joined-city-chat')
    await joinCity(alice, cityId)
    // Told on entering: muted, until lifted, and why.
    expect((await joined).muted).toEqual({ until: null, reason: 'flooding' })
    const sent = await send(alice, cityId, 'hello?')
    expect(sent).toMatchObject({
      ok: false,
      error: { code: 'muted', details: { until: null, reason: 'flooding' } },
    })
    // Someone not muted hears no `muted` on joining.
    const bob = await clients.user(env.url)
    const bobJoined = once<any>(bob.socket, 'joined-city-chat')
    await joinCity(bob, cityId)
    expect((await bobJoined).muted).toBeUndefined()
    expect((await api(env.url, 'GET', `/api/cities/${cityId}/messages`, as(alice))).status).toBe(
      200
    )
  })

  test('refusals: not a moderator, against an admin, bad kind, until in the past, unknown user', async () => {
    const cityId = await env.newCity()
    const alice = await registerUser(env.url)
    const bob = await registerUser(env.url)
    const byAlice = await api(env.url, 'POST', `/api/cities/${cityId}/restrictions`, {
      ...as(alice),
      body: { userId: bob.user._id, kind: 'ban' },
    })
    expect(byAlice.status).toBe(403)
    const mod = await registerUser(env.url)
    await api(env.url, 'PATCH', `/api/admin/users/${mod.user._id}`, {
      ...as(env.admin),
      body: { role: 'moderator' },
    })
    const againstAdmin = await api(env.url, 'POST', `/api/cities/${cityId}/restrictions`, {
      ...as(mod),
      body: { userId: env.admin.user._id, kind: 'ban' },
    })
    expect(againstAdmin.status).toBe(403)
    expect((await restrict(cityId, bob.user._id, 'exile')).status).toBe(400)
    const past = await restrict(cityId, bob.user._id, 'ban', {
      until: new Date(Date.now() - 1000).toISOString(),
    })
    expect(past.status).toBe(400)
    expect((await restrict(cityId, '0123456789abcdef01234567', 'ban')).status).toBe(404)
    expect((await restrict('no-such-city', bob.user._id, 'ban')).status).toBe(404)
  })

  test('a restriction with until ends by itself', async () => {
    const cityId = await env.newCity()
    const alice = await clients.user(env.url)
    const until = new Date(Date.now() + 1_500).toISOString()
    expect((await restrict(cityId, alice.user._id, 'ban', { until })).status).toBe(201)
    const join = await ask(alice.socket, 'join-city-chat', { cityId })
    expect(join.error.code).toBe('banned')
    await eventually(
      async () => (await ask(alice.socket, 'join-city-chat', { cityId })).ok === true,
      8_000,
      'the ban to end'
    )
    const list = await api(env.url, 'GET', `/api/cities/${cityId}/restrictions`, as(env.admin))
    expect(list.body.restrictions).toEqual([])
  })

  test('shadow: only the author sees their new messages, live, in history and in recovery', async () => {
    const cityId = await env.newCity()
    const shadow = await clients.user(env.url)
    const bob = await clients.user(env.url)
    await joinCity(shadow, cityId)
    await joinCity(bob, cityId)
    expect((await restrict(cityId, shadow.user._id, 'shadow')).status).toBe(201)
    const mine = once<any>(shadow.socket, 'new-city-message')
    const sent = await send(shadow, cityId, 'can anyone hear me')
    expect(sent.ok).toBe(true)
    expect((await mine).content).toBe('can anyone hear me')
    const visible = await send(bob, cityId, 'bob speaks')
    await barrier(bob.socket)
    const heardByBob = bob.got('new-city-message').map((m) => m.content)
    expect(heardByBob).toEqual(['bob speaks'])
    expect(shadow.got('new-city-message').map((m) => m.content)).toEqual([
      'can anyone hear me',
      'bob speaks',
    ])
    const bobHistory = await api(env.url, 'GET', `/api/cities/${cityId}/messages`, as(bob))
    expect(bobHistory.body.messages.map((m: { _id: string }) => m._id)).toEqual([
      visible.message._id,
    ])
    const ownHistory = await api(env.url, 'GET', `/api/cities/${cityId}/messages`, as(shadow))
    expect(ownHistory.body.messages.map((m: { _id: string }) => m._id)).toEqual([
      sent.message._id,
      visible.message._id,
    ])
    // Others cannot report or reply to it: it does not exist for them.
    const report = await api(env.url, 'POST', `/api/messages/${sent.message._id}/reports`, {
      ...as(bob),
      body: { reason: 'spam' },
    })
    expect(report.status).toBe(404)
    // Recovery: bob drops, the shadowed user sends and edits; bob gets none of it, the author all.
    await drop(bob, shadow)
    const second = await send(shadow, cityId, 'second shadow message')
    await ask(shadow.socket, 'edit-city-message', {
      cityId,
      messageId: second.message._id,
      content: 'edited',
    })
    await send(shadow, cityId, 'third')
    const replayed = await recover(bob)
    expect(
      replayed.filter(
        ([event]) => String(event).startsWith('new-city') || String(event).includes('edited')
      )
    ).toEqual([])
    await drop(shadow, bob)
    await send(bob, cityId, 'while the shadow was away')
    const ownReplay = await recover(shadow)
    expect(ownReplay.map(([event]) => event)).toContain('new-city-message')
  })
})

describe('slow mode', () => {
  test('a second message within the interval waits; moderators are exempt; joined-city-chat tells', async () => {
    const cityId = await env.newCity()
    const alice = await clients.user(env.url)
    const mod = await clients.user(env.url)
    await api(env.url, 'PUT', `/api/cities/${cityId}/moderators/${mod.user._id}`, as(env.admin))
    const path = `/api/cities/${cityId}`
    expect(
      (await api(env.url, 'PATCH', path, { ...as(alice), body: { slowModeSeconds: 5 } })).status
    ).toBe(403)
    expect(
      (await api(env.url, 'PATCH', path, { ...as(mod), body: { slowModeSeconds: 3601 } })).status
    ).toBe(400)
    expect(
      (await api(env.url, 'PATCH', path, { ...as(mod), body: { slowModeSeconds: -1 } })).status
    ).toBe(400)
    const set = await api(env.url, 'PATCH', path, { ...as(mod), body: { slowModeSeconds: 30 } })
    expect(set.body.city.slowModeSeconds).toBe(30)
    const joined = once<any>(alice.socket, 'joined-city-chat')
    await ask(alice.socket, 'join-city-chat', { cityId })
    expect((await joined).slowModeSeconds).toBe(30)
    await joinCity(mod, cityId)
    expect((await send(alice, cityId, 'one')).ok).toBe(true)
    const second = await send(alice, cityId, 'two')
    expect(second).toMatchObject({ ok: false, error: { code: 'slow_mode' } })
    expect(second.error.details.retryAfterMs).toBeGreaterThan(20_000)
    expect(second.error.details.retryAfterMs).toBeLessThanOrEqual(30_000)
    expect((await send(mod, cityId, 'm1')).ok).toBe(true)
    expect((await send(mod, cityId, 'm2')).ok).toBe(true)
    await api(env.url, 'PATCH', path, { ...as(mod), body: { slowModeSeconds: 0 } })
    expect((await send(alice, cityId, 'three')).ok).toBe(true)
    expect(await auditActions()).toContain('city.slow_mode')
  })
})

describe('word filter and reports', () => {
  test('block refuses whole words after NFKC; flag stores, broadcasts and opens a report', async () => {
    const alice = await clients.user(env.url)
    const bob = await clients.user(env.url)
    const mod = await clients.user(env.url)
    const cityId = await env.newCity()
    await api(env.url, 'PUT', `/api/cities/${cityId}/moderators/${mod.user._id}`, as(env.admin))
    const body = {
      terms: [
        { term: 'Darn', action: 'block' },
        { term: 'heck', action: 'flag' },
      ],
    }
    expect(
      (await api(env.url, 'PUT', '/api/admin/word-filter', { ...as(alice), body })).status
    ).toBe(403)
    expect((await api(env.url, 'GET', '/api/admin/word-filter', as(alice))).status).toBe(403)
    expect(
      (
        await api(env.url, 'PUT', '/api/admin/word-filter', {
          ...as(env.admin),
          body: { terms: [{ term: 'two words', action: 'block' }] },
        })
      ).status
    ).toBe(400)
    const put = await api(env.url, 'PUT', '/api/admin/word-filter', { ...as(env.admin), body })
    expect(put.status).toBe(200)
    expect((await api(env.url, 'GET', '/api/admin/word-filter', as(env.admin))).body.terms).toEqual(
      expect.arrayContaining([
        { term: 'darn', action: 'block' },
        { term: 'heck', action: 'flag' },
      ])
    )
    for (const who of [alice, bob, mod]) await joinCity(who, cityId)
    const blocked = await send(alice, cityId, 'oh ＤＡＲＮ it')
    expect(blocked).toMatchObject({ ok: false, error: { code: 'content_blocked' } })
    expect((await send(alice, cityId, 'darning socks')).ok).toBe(true)
    const created = once<any>(mod.socket, 'report-created')
    const heard = once<any>(bob.socket, 'new-city-message')
    const flagged = await send(alice, cityId, 'what the Heck')
    expect(flagged.ok).toBe(true)
    await heard
    const live = await created
    expect(live).toMatchObject({ messageId: flagged.message._id, cityId })
    const open = await api(env.url, 'GET', '/api/reports?status=open', as(mod))
    expect(open.body.reports).toContainEqual(
      expect.objectContaining({
        _id: live.reportId,
        reporter_id: null,
        reason: 'word filter: heck',
      })
    )
    // An edit passes the filter too: a blocked term is refused and the message stays as it was,
    // a flagged one is stored, broadcast and opens a report.
    const plain = await send(alice, cityId, 'a plain message')
    const edit = (content: string) =>
      ask(alice.socket, 'edit-city-message', { cityId, messageId: plain.message._id, content })
    expect(await edit('now ｄａｒｎ it')).toMatchObject({
      ok: false,
      error: { code: 'content_blocked' },
    })
    const kept = await api(env.url, 'GET', `/api/cities/${cityId}/messages`, as(bob))
    expect(
      kept.body.messages.find((m: { _id: string }) => m._id === plain.message._id).content
    ).toBe('a plain message')
    const restRefused = await api(env.url, 'PATCH', `/api/messages/${plain.message._id}`, {
      ...as(alice),
      body: { content: 'darn' },
    })
    expect(restRefused.body.error?.code).toBe('content_blocked')
    const editReport = once<any>(mod.socket, 'report-created')
    const editedHeard = once<any>(bob.socket, 'city-message-edited')
    expect((await edit('oh heck')).ok).toBe(true)
    expect((await editedHeard).content).toBe('oh heck')
    expect(await editReport).toMatchObject({ messageId: plain.message._id, cityId })
    await api(env.url, 'PUT', '/api/admin/word-filter', { ...as(env.admin), body: { terms: [] } })
    expect((await send(alice, cityId, 'darn')).ok).toBe(true)
  })

  test('report once; moderators list and resolve with a ban, which is carried out and audited', async () => {
    const cityId = await env.newCity()
    const alice = await clients.user(env.url)
    const bob = await clients.user(env.url)
    const mod = await clients.user(env.url)
    await api(env.url, 'PUT', `/api/cities/${cityId}/moderators/${mod.user._id}`, as(env.admin))
    await joinCity(alice, cityId)
    const sent = await send(alice, cityId, 'buy my stuff')
    const path = `/api/messages/${sent.message._id}/reports`
    expect((await api(env.url, 'POST', path, { ...as(bob), body: {} })).status).toBe(400)
    expect(
      (await api(env.url, 'POST', path, { ...as(alice), body: { reason: 'me' } })).status
    ).toBe(400)
    const created = once<any>(mod.socket, 'report-created')
    const report = await api(env.url, 'POST', path, { ...as(bob), body: { reason: 'spam' } })
    expect(report.status).toBe(201)
    expect(await created).toEqual({
      reportId: report.body.report._id,
      messageId: sent.message._id,
      cityId,
    })
    expect(
      (await api(env.url, 'POST', path, { ...as(bob), body: { reason: 'spam' } })).status
    ).toBe(409)
    expect(
      (
        await api(env.url, 'POST', '/api/messages/0123456789abcdef01234567/reports', {
          ...as(bob),
          body: { reason: 'x' },
        })
      ).status
    ).toBe(404)
    expect((await api(env.url, 'GET', '/api/reports', as(bob))).status).toBe(403)
    const list = await api(env.url, 'GET', '/api/reports?status=open', as(mod))
    expect(list.body.reports.map((r: { _id: string }) => r._id)).toEqual([report.body.report._id])
    expect(list.body.reports[0].message.content).toBe('buy my stuff')
    const reportPath = `/api/reports/${report.body.report._id}`
    expect(
      (await api(env.url, 'PATCH', reportPath, { ...as(bob), body: { status: 'dismissed' } }))
        .status
    ).toBe(404)
    expect(
      (
        await api(env.url, 'PATCH', reportPath, {
          ...as(mod),
          body: { status: 'dismissed', action: 'ban' },
        })
      ).status
    ).toBe(400)
    expect(
      (await api(env.url, 'PATCH', reportPath, { ...as(mod), body: { status: 'closed' } })).status
    ).toBe(400)
    const left = once<any>(alice.socket, 'left-city-chat')
    const resolved = await api(env.url, 'PATCH', reportPath, {
      ...as(mod),
      body: { status: 'actioned', action: 'ban' },
    })
    expect(resolved.status).toBe(200)
    expect(resolved.body.report).toMatchObject({
      status: 'actioned',
      action: 'ban',
      resolved_by: mod.user._id,
    })
    expect((await left).reason).toBe('banned')
    expect((await ask(alice.socket, 'join-city-chat', { cityId })).error.code).toBe('banned')
    expect(
      (await api(env.url, 'PATCH', reportPath, { ...as(mod), body: { status: 'dismissed' } }))
        .status
    ).toBe(409)
    expect((await api(env.url, 'GET', '/api/reports?status=open', as(mod))).body.reports).toEqual(
      []
    )
    expect(await auditActions()).toEqual(
      expect.arrayContaining(['report.resolve', 'restriction.ban'])
    )
  })
})

describe('reports of private-chat messages', () => {
  test('a member reports a chat message; only admins hear, list and resolve it, with delete or nothing', async () => {
    const alice = await clients.user(env.url)
    const bob = await clients.user(env.url)
    const outsider = await registerUser(env.url)
    const globalMod = await registerUser(env.url)
    await api(env.url, 'PATCH', `/api/admin/users/${globalMod.user._id}`, {
      ...as(env.admin),
      body: { role: 'moderator' },
    })
    const adminClient = clients.track(await connectAs(env.url, env.admin))
    const chatId = await createPrivateChat(env.url, bob, [alice])
    for (const who of [alice, bob])
      expect((await ask(who.socket, 'join-private-chat', { chatId })).ok).toBe(true)
    const sent = await ask(bob.socket, 'send-private-message', { chatId, content: 'send me money' })
    const path = `/api/messages/${sent.message._id}/reports`
    // Not a member: the message does not exist for them. Not one's own.
    const byOutsider = await api(env.url, 'POST', path, { ...as(outsider), body: { reason: 'x' } })
    expect(byOutsider.status).toBe(404)
    expect((await api(env.url, 'POST', path, { ...as(bob), body: { reason: 'x' } })).status).toBe(
      400
    )
    const heard = once<any>(adminClient.socket, 'report-created')
    const report = await api(env.url, 'POST', path, { ...as(alice), body: { reason: 'scam' } })
    expect(report.status).toBe(201)
    expect(report.body.report).toMatchObject({ chatId, cityId: null, reason: 'scam' })
    const reportId = report.body.report._id
    expect(await heard).toEqual({ reportId, messageId: sent.message._id, chatId })
    expect(
      (await api(env.url, 'POST', path, { ...as(alice), body: { reason: 'scam' } })).status
    ).toBe(409)
    // A global moderator moderates cities, not private chats: the report is not theirs.
    const modList = await api(env.url, 'GET', '/api/reports?status=open', as(globalMod))
    expect(modList.status).toBe(200)
    expect(modList.body.reports.map((r: { _id: string }) => r._id)).not.toContain(reportId)
    const reportPath = `/api/reports/${reportId}`
    const byMod = await api(env.url, 'PATCH', reportPath, {
      ...as(globalMod),
      body: { status: 'actioned', action: 'delete' },
    })
    expect(byMod.status).toBe(404)
    const adminList = await api(env.url, 'GET', '/api/reports?status=open', as(env.admin))
    const listed = adminList.body.reports.find((r: { _id: string }) => r._id === reportId)
    expect(listed).toMatchObject({ chatId, cityId: null, message: { content: 'send me money' } })
    for (const action of ['ban', 'mute']) {
      const refused = await api(env.url, 'PATCH', reportPath, {
        ...as(env.admin),
        body: { status: 'actioned', action },
      })
      expect(refused.status).toBe(400)
      expect(refused.body.error.code).toBe('invalid_input')
    }
    // The admin is no member, and still removes the reported message; the members hear it.
    const deleted = once<any>(alice.socket, 'private-message-deleted')
    const resolved = await api(env.url, 'PATCH', reportPath, {
      ...as(env.admin),
      body: { status: 'actioned', action: 'delete' },
    })
    expect(resolved.status).toBe(200)
    expect(resolved.body.report).toMatchObject({ status: 'actioned', action: 'delete', chatId })
    expect(await deleted).toEqual({ messageId: sent.message._id, chatId })
    const history = await api(env.url, 'GET', `/api/chats/${chatId}/messages`, as(alice))
    expect(history.body.messages[0]).toMatchObject({ _id: sent.message._id, is_deleted: true })
    const audit = await api(env.url, 'GET', '/api/admin/audit?limit=5', as(env.admin))
    expect(audit.body.entries).toContainEqual(
      expect.objectContaining({
        action: 'message.delete',
        messageId: sent.message._id,
        target_user_id: bob.user._id,
        details: { chatId },
      })
    )
    // The admin still is no member of the chat.
    expect((await api(env.url, 'GET', `/api/chats/${chatId}`, as(env.admin))).status).toBe(403)
    // Dismissing another one works, with no action.
    const second = await ask(bob.socket, 'send-private-message', { chatId, content: 'again' })
    const next = await api(env.url, 'POST', `/api/messages/${second.message._id}/reports`, {
      ...as(alice),
      body: { reason: 'again' },
    })
    const dismissed = await api(env.url, 'PATCH', `/api/reports/${next.body.report._id}`, {
      ...as(env.admin),
      body: { status: 'dismissed' },
    })
    expect(dismissed.body.report.status).toBe('dismissed')
  })
})

describe('blocks and abuse limits', () => {
  test('a blocked user cannot create a chat with or add the blocker; the refusal says only blocked', async () => {
    const alice = await registerUser(env.url)
    const bob = await registerUser(env.url)
    const carol = await registerUser(env.url)
    const block = `/api/users/me/blocks/${bob.user._id}`
    expect(
      (await api(env.url, 'PUT', `/api/users/me/blocks/${alice.user._id}`, as(alice))).status
    ).toBe(400)
    expect(
      (await api(env.url, 'PUT', '/api/users/me/blocks/0123456789abcdef01234567', as(alice))).status
    ).toBe(404)
    expect((await api(env.url, 'PUT', '/api/users/me/blocks/nope', as(alice))).status).toBe(400)
    expect((await api(env.url, 'PUT', block, as(alice))).status).toBe(204)
    const mine = await api(env.url, 'GET', '/api/users/me/blocks', as(alice))
    expect(mine.body.blocks.map((b: { user: { _id: string } }) => b.user._id)).toEqual([
      bob.user._id,
    ])
    expect((await api(env.url, 'GET', '/api/users/me/blocks', as(bob))).body.blocks).toEqual([])
    const create = await api(env.url, 'POST', '/api/chats', {
      ...as(bob),
      body: { memberIds: [alice.user._id, carol.user._id] },
    })
    expect(create.status).toBe(403)
    expect(create.body.error.code).toBe('blocked')
    expect(JSON.stringify(create.body)).not.toContain(alice.user._id)
    const chat = await api(env.url, 'POST', '/api/chats', {
      ...as(bob),
      body: { memberIds: [carol.user._id] },
    })
    expect(chat.status).toBe(201)
    const add = await api(env.url, 'POST', `/api/chats/${chat.body.chat._id}/members`, {
      ...as(bob),
      body: { userIds: [alice.user._id] },
    })
    expect(add.body.error?.code).toBe('blocked')
    expect((await api(env.url, 'DELETE', block, as(alice))).status).toBe(204)
    const after = await api(env.url, 'POST', '/api/chats', {
      ...as(bob),
      body: { memberIds: [alice.user._id] },
    })
    expect(after.status).toBe(201)
  })

  test('register is throttled per address and chat creation per user', async () => {
    const limited = await startServer({ REGISTER_ATTEMPTS_PER_ADDRESS: 2, CHATS_PER_HOUR: 1 })
    try {
      const alice = await registerUser(limited.url)
      const bob = await registerUser(limited.url)
      const third = await api(limited.url, 'POST', '/api/auth/register', {
        body: {
          username: 'third_one',
          email: 'third@example.test',
          full_name: 'T',
          password: 'correct-horse-battery',
        },
      })
      expect(third.status).toBe(429)
      expect(third.body.error.code).toBe('rate_limited')
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0)
      const first = await api(limited.url, 'POST', '/api/chats', {
        ...as(alice),
        body: { memberIds: [bob.user._id] },
      })
      expect(first.status).toBe(201)
      const second = await api(limited.url, 'POST', '/api/chats', {
        ...as(alice),
        body: { memberIds: [bob.user._id] },
      })
      expect(second.status).toBe(429)
    } finally {
      await limited.stop()
    }
  })
})
