/**
 * @module Every route of /api/openapi.json, driven for real: each answer (successes, second
 * successes such as a duplicate send, and a refusal) is checked against the schema the served
 * document gives for its status, read back from the document's own JSON Schema. A route in the
 * document without a case here, an answer whose status the document does not list, a JSON body
 * where it promises none, or a field a view gains or loses without its schema all fail.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { z } from 'zod'
import {
  type ApiOptions,
  api,
  fetchRaw,
  type RegisteredUser,
  registerUser,
} from '../helpers/api.ts'
import { eventually } from '../helpers/eventually.ts'
import { pngOf, upload } from '../helpers/media.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { linkToken, startSmtp, type TestSmtp } from '../helpers/smtp.ts'

const ADMINS = Array.from({ length: 24 }, (_, i) => `oa_admin_${i}`)

let smtp: TestSmtp
let server: TestServer
let doc: {
  paths: Record<
    string,
    Record<string, { security?: unknown[]; requestBody?: unknown; responses: Responses }>
  >
}
type Responses = Record<string, { content?: Record<string, { schema: object }> }>

beforeAll(async () => {
  smtp = await startSmtp()
  server = await startServer({
    SMTP_URL: smtp.url,
    PUBLIC_URL: 'http://chat.test',
    ADMIN_USERNAMES: ADMINS.join(','),
    MESSAGE_RATE_PER_MINUTE: '0',
  })
  doc = (await api(server.url, 'GET', '/api/openapi.json')).body
})
afterAll(async () => {
  await server.stop()
  await smtp.stop()
})

/** A real answer as the wire carries it. */
interface Answer {
  status: number
  type: string
  text: string
}

async function call(method: string, path: string, options: ApiOptions = {}): Promise<Answer> {
  const { status, headers, text } = await fetchRaw(server.url, method, path, options)
  return { status, type: headers.get('content-type') ?? '', text }
}

let admins = 0
const user = () => registerUser(server.url)
const admin = () => {
  const username = ADMINS[admins++]
  if (!username) throw new Error('out of admin names: add more to ADMINS')
  return registerUser(server.url, { username })
}
let cities = 0
async function city(owner: RegisteredUser): Promise<string> {
  const id = `oa-city-${Date.now().toString(36)}-${++cities}`
  const res = await api(server.url, 'POST', '/api/admin/cities', {
    token: owner.accessToken,
    body: { id, name: `City ${cities}`, country: 'Testland' },
  })
  if (res.status !== 201) throw new Error(`city: ${res.status} ${JSON.stringify(res.body)}`)
  return id
}
async function send(author: RegisteredUser, room: string, body: object = {}) {
  const res = await api(server.url, 'POST', `/api/${room}/messages`, {
    token: author.accessToken,
    body: { content: 'hello there', ...body },
  })
  if (res.status !== 201) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.message as { _id: string }
}
async function chatOf(owner: RegisteredUser, ...members: RegisteredUser[]) {
  const res = await api(server.url, 'POST', '/api/chats', {
    token: owner.accessToken,
    body: { name: 'team', memberIds: members.map((m) => m.user._id) },
  })
  return res.body.chat._id as string
}
const bearer = (who: RegisteredUser) => ({ token: who.accessToken })

/** Asks again until the answer holds, and answers it. */
async function until(ask: () => Promise<Answer>, holds: (a: Answer) => boolean, what: string) {
  let last: Answer | undefined
  await eventually(
    async () => {
      last = await ask()
      return holds(last)
    },
    10_000,
    what
  )
  return last as Answer
}

/**
 * One case per documented operation: it sets up its own data and answers the real responses to
 * check (every one must be a 2xx or 3xx the document lists, or a documented non-error status).
 */
const CASES: Record<string, () => Promise<Answer[]>> = {
  'PATCH /api/admin/users/{userId}': async () => {
    const [boss, someone] = await Promise.all([admin(), user()])
    return [
      await call('PATCH', `/api/admin/users/${someone.user._id}`, {
        ...bearer(boss),
        body: { role: 'moderator' },
      }),
    ]
  },
  'POST /api/admin/users/{userId}/erase': async () => {
    const [boss, someone] = await Promise.all([admin(), user()])
    return [
      await call('POST', `/api/admin/users/${someone.user._id}/erase`, {
        ...bearer(boss),
        body: { reason: 'asked to' },
      }),
    ]
  },
  'POST /api/admin/cities': async () => {
    const boss = await admin()
    return [
      await call('POST', '/api/admin/cities', {
        ...bearer(boss),
        body: { id: `oa-new-${Date.now().toString(36)}`, name: 'New', country: 'Testland' },
      }),
    ]
  },
  'PATCH /api/admin/cities/{cityId}': async () => {
    const boss = await admin()
    const id = await city(boss)
    return [
      await call('PATCH', `/api/admin/cities/${id}`, {
        ...bearer(boss),
        body: { name: 'Renamed', retentionDays: 30 },
      }),
    ]
  },
  'GET /api/admin/word-filter': async () => [
    await call('GET', '/api/admin/word-filter', bearer(await admin())),
  ],
  'PUT /api/admin/word-filter': async () => {
    const boss = await admin()
    const answer = await call('PUT', '/api/admin/word-filter', {
      ...bearer(boss),
      body: { terms: [{ term: 'oaflagword', action: 'flag' }] },
    })
    await call('PUT', '/api/admin/word-filter', { ...bearer(boss), body: { terms: [] } })
    return [answer]
  },
  'POST /api/admin/webhooks': async () => {
    const boss = await admin()
    const made = await call('POST', '/api/admin/webhooks', {
      ...bearer(boss),
      body: { url: 'http://127.0.0.1:9/hook', events: ['report.created'] },
    })
    await call('DELETE', `/api/admin/webhooks/${JSON.parse(made.text).webhook?._id}`, bearer(boss))
    return [made]
  },
  'GET /api/admin/webhooks': async () => {
    const boss = await admin()
    const made = await api(server.url, 'POST', '/api/admin/webhooks', {
      ...bearer(boss),
      body: { url: 'http://127.0.0.1:9/hook', events: ['report.created'] },
    })
    const list = await call('GET', '/api/admin/webhooks', bearer(boss))
    await call('DELETE', `/api/admin/webhooks/${made.body.webhook._id}`, bearer(boss))
    return [list]
  },
  'DELETE /api/admin/webhooks/{id}': async () => {
    const boss = await admin()
    const made = await api(server.url, 'POST', '/api/admin/webhooks', {
      ...bearer(boss),
      body: { url: 'http://127.0.0.1:9/hook', events: ['report.created'] },
    })
    return [await call('DELETE', `/api/admin/webhooks/${made.body.webhook._id}`, bearer(boss))]
  },
  'GET /api/admin/webhooks/{id}/deliveries': async () => {
    const [boss, author, reporter] = await Promise.all([admin(), user(), user()])
    const receiver = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response(null) })
    try {
      const made = await api(server.url, 'POST', '/api/admin/webhooks', {
        ...bearer(boss),
        body: { url: `http://127.0.0.1:${receiver.port}/hook`, events: ['report.created'] },
      })
      const message = await send(author, `cities/${await city(boss)}`)
      await call('POST', `/api/messages/${message._id}/reports`, {
        ...bearer(reporter),
        body: { reason: 'spam' },
      })
      const path = `/api/admin/webhooks/${made.body.webhook._id}/deliveries`
      const done = await until(
        () => call('GET', path, bearer(boss)),
        (a) => JSON.parse(a.text).deliveries?.[0]?.state === 'delivered',
        'the report to be delivered'
      )
      await call('DELETE', `/api/admin/webhooks/${made.body.webhook._id}`, bearer(boss))
      return [done]
    } finally {
      receiver.stop(true)
    }
  },
  'GET /api/admin/audit': async () => {
    const boss = await admin()
    await city(boss)
    return [await call('GET', '/api/admin/audit', bearer(boss))]
  },
  'PATCH /api/cities/{cityId}': async () => {
    const boss = await admin()
    const id = await city(boss)
    return [
      await call('PATCH', `/api/cities/${id}`, { ...bearer(boss), body: { slowModeSeconds: 5 } }),
    ]
  },
  'PUT /api/cities/{cityId}/moderators/{userId}': async () => {
    const [boss, someone] = await Promise.all([admin(), user()])
    const id = await city(boss)
    return [await call('PUT', `/api/cities/${id}/moderators/${someone.user._id}`, bearer(boss))]
  },
  'DELETE /api/cities/{cityId}/moderators/{userId}': async () => {
    const [boss, someone] = await Promise.all([admin(), user()])
    const id = await city(boss)
    await call('PUT', `/api/cities/${id}/moderators/${someone.user._id}`, bearer(boss))
    return [await call('DELETE', `/api/cities/${id}/moderators/${someone.user._id}`, bearer(boss))]
  },
  'GET /api/cities/{cityId}/restrictions': async () => {
    const [boss, someone] = await Promise.all([admin(), user()])
    const id = await city(boss)
    await call('POST', `/api/cities/${id}/restrictions`, {
      ...bearer(boss),
      body: { userId: someone.user._id, kind: 'mute', reason: 'noise' },
    })
    return [await call('GET', `/api/cities/${id}/restrictions`, bearer(boss))]
  },
  'POST /api/cities/{cityId}/restrictions': async () => {
    const [boss, someone] = await Promise.all([admin(), user()])
    const id = await city(boss)
    return [
      await call('POST', `/api/cities/${id}/restrictions`, {
        ...bearer(boss),
        body: {
          userId: someone.user._id,
          kind: 'ban',
          until: new Date(Date.now() + 3_600_000).toISOString(),
        },
      }),
    ]
  },
  'DELETE /api/cities/{cityId}/restrictions/{userId}': async () => {
    const [boss, someone] = await Promise.all([admin(), user()])
    const id = await city(boss)
    await call('POST', `/api/cities/${id}/restrictions`, {
      ...bearer(boss),
      body: { userId: someone.user._id, kind: 'mute' },
    })
    return [
      await call('DELETE', `/api/cities/${id}/restrictions/${someone.user._id}`, bearer(boss)),
    ]
  },
  'POST /api/messages/{messageId}/reports': async () => {
    const [boss, author, reporter] = await Promise.all([admin(), user(), user()])
    const message = await send(author, `cities/${await city(boss)}`)
    return [
      await call('POST', `/api/messages/${message._id}/reports`, {
        ...bearer(reporter),
        body: { reason: 'spam' },
      }),
    ]
  },
  'GET /api/reports': async () => {
    const [boss, author, reporter] = await Promise.all([admin(), user(), user()])
    const message = await send(author, `cities/${await city(boss)}`)
    await call('POST', `/api/messages/${message._id}/reports`, {
      ...bearer(reporter),
      body: { reason: 'spam' },
    })
    return [await call('GET', '/api/reports', bearer(boss))]
  },
  'PATCH /api/reports/{reportId}': async () => {
    const [boss, author, reporter] = await Promise.all([admin(), user(), user()])
    const message = await send(author, `cities/${await city(boss)}`)
    const report = await api(server.url, 'POST', `/api/messages/${message._id}/reports`, {
      ...bearer(reporter),
      body: { reason: 'spam' },
    })
    return [
      await call('PATCH', `/api/reports/${report.body.report._id}`, {
        ...bearer(boss),
        body: { status: 'actioned', action: 'delete' },
      }),
    ]
  },
  'GET /api/users/me/blocks': async () => {
    const [me, other] = await Promise.all([user(), user()])
    await call('PUT', `/api/users/me/blocks/${other.user._id}`, bearer(me))
    return [await call('GET', '/api/users/me/blocks', bearer(me))]
  },
  'PUT /api/users/me/blocks/{userId}': async () => {
    const [me, other] = await Promise.all([user(), user()])
    return [await call('PUT', `/api/users/me/blocks/${other.user._id}`, bearer(me))]
  },
  'DELETE /api/users/me/blocks/{userId}': async () => {
    const [me, other] = await Promise.all([user(), user()])
    await call('PUT', `/api/users/me/blocks/${other.user._id}`, bearer(me))
    return [await call('DELETE', `/api/users/me/blocks/${other.user._id}`, bearer(me))]
  },
  'GET /healthz': async () => [await call('GET', '/healthz')],
  'GET /readyz': async () => [await call('GET', '/readyz')],
  'POST /api/auth/register': async () => {
    const tag = `oa_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
    const body = {
      username: tag,
      email: `${tag}@example.test`,
      full_name: 'Reg Ister',
      password: 'correct-horse-battery',
    }
    const cookie = { ...body, username: `${tag}c`, email: `${tag}c@example.test` }
    return [
      await call('POST', '/api/auth/register', { body }),
      await call('POST', '/api/auth/register', {
        body: cookie,
        headers: { 'x-refresh-cookie': '1', origin: server.url },
      }),
    ]
  },
  'POST /api/auth/login': async () => {
    const me = await user()
    return [
      await call('POST', '/api/auth/login', {
        body: { login: me.user.username, password: me.password },
      }),
    ]
  },
  'POST /api/auth/refresh': async () => {
    const me = await user()
    return [await call('POST', '/api/auth/refresh', { body: { refreshToken: me.refreshToken } })]
  },
  'POST /api/auth/logout': async () => {
    const me = await user()
    return [await call('POST', '/api/auth/logout', { body: { refreshToken: me.refreshToken } })]
  },
  'POST /api/auth/verify-email': async () => {
    const me = await user()
    const token = linkToken(await smtp.next(me.user.email, /verify/i), 'verify')
    return [await call('POST', '/api/auth/verify-email', { body: { token } })]
  },
  'POST /api/auth/resend-verification': async () => [
    await call('POST', '/api/auth/resend-verification', bearer(await user())),
  ],
  'POST /api/auth/forgot-password': async () => {
    const me = await user()
    return [await call('POST', '/api/auth/forgot-password', { body: { email: me.user.email } })]
  },
  'POST /api/auth/reset-password': async () => {
    const me = await user()
    await call('POST', '/api/auth/forgot-password', { body: { email: me.user.email } })
    const token = linkToken(await smtp.next(me.user.email, /reset|password/i), 'reset')
    return [
      await call('POST', '/api/auth/reset-password', {
        body: { token, password: 'another-horse-battery' },
      }),
    ]
  },
  'POST /api/auth/change-password': async () => {
    const me = await user()
    return [
      await call('POST', '/api/auth/change-password', {
        ...bearer(me),
        body: { currentPassword: me.password, newPassword: 'another-horse-battery' },
      }),
    ]
  },
  'POST /api/auth/change-email': async () => {
    const me = await user()
    return [
      await call('POST', '/api/auth/change-email', {
        ...bearer(me),
        body: { password: me.password, email: `new_${me.user.email}` },
      }),
    ]
  },
  'GET /api/auth/sessions': async () => [
    await call('GET', '/api/auth/sessions', bearer(await user())),
  ],
  'DELETE /api/auth/sessions': async () => [
    await call('DELETE', '/api/auth/sessions', bearer(await user())),
  ],
  'DELETE /api/auth/sessions/{id}': async () => {
    const me = await user()
    await call('POST', '/api/auth/login', {
      body: { login: me.user.username, password: me.password },
    })
    const list = await api(server.url, 'GET', '/api/auth/sessions', bearer(me))
    const other = list.body.sessions.find((s: { current: boolean }) => !s.current)
    return [await call('DELETE', `/api/auth/sessions/${other._id}`, bearer(me))]
  },
  'GET /api/auth/me': async () => [await call('GET', '/api/auth/me', bearer(await user()))],
  'GET /api/users': async () => {
    const me = await user()
    return [await call('GET', `/api/users?search=${me.user.username}`, bearer(me))]
  },
  'GET /api/users/me': async () => [await call('GET', '/api/users/me', bearer(await user()))],
  'PATCH /api/users/me': async () => [
    await call('PATCH', '/api/users/me', {
      ...bearer(await user()),
      body: { full_name: 'New Name' },
    }),
  ],
  'POST /api/users/me/export': async () => [
    await call('POST', '/api/users/me/export', bearer(await user())),
  ],
  'GET /api/users/me/export': async () => {
    const me = await user()
    await send(me, 'cities/mumbai')
    await call('POST', '/api/users/me/export', bearer(me))
    const answers = [await call('GET', '/api/users/me/export', bearer(me))]
    const ready = await until(
      () => call('GET', '/api/users/me/export', bearer(me)),
      (a) => a.status === 200,
      'the export to be ready'
    )
    return [...answers, ready]
  },
  'GET /api/users/me/export/{exportId}': async () => {
    const me = await user()
    const started = await api(server.url, 'POST', '/api/users/me/export', bearer(me))
    const path = `/api/users/me/export/${started.body.export._id}`
    return [
      await until(
        () => call('GET', path, bearer(me)),
        (a) => a.status === 200,
        'the export to be ready'
      ),
    ]
  },
  'DELETE /api/users/me': async () => {
    const [leaving, erased] = await Promise.all([user(), user()])
    return [
      await call('DELETE', '/api/users/me', bearer(leaving)),
      await call('DELETE', '/api/users/me', {
        ...bearer(erased),
        body: { password: erased.password, erase: true },
      }),
    ]
  },
  'GET /api/users/{userId}': async () => {
    const [me, other] = await Promise.all([user(), user()])
    return [await call('GET', `/api/users/${other.user._id}`, bearer(me))]
  },
  'GET /api/cities': async () => [await call('GET', '/api/cities', bearer(await user()))],
  'GET /api/cities/{cityId}': async () => [
    await call('GET', '/api/cities/mumbai', bearer(await user())),
  ],
  'GET /api/cities/{cityId}/messages': async () => {
    const [boss, me] = await Promise.all([admin(), user()])
    const id = await city(boss)
    const first = await send(me, `cities/${id}`, { clientId: 'oa-1' })
    await send(boss, `cities/${id}`, {
      content: `@${me.user.username} see above`,
      reply_to: first._id,
    })
    await call('DELETE', `/api/messages/${first._id}`, bearer(me))
    return [await call('GET', `/api/cities/${id}/messages?limit=1`, bearer(me))]
  },
  'POST /api/cities/{cityId}/messages': async () => {
    const me = await user()
    const body = { content: 'hi', clientId: `oa-${Date.now()}` }
    return [
      await call('POST', '/api/cities/mumbai/messages', { ...bearer(me), body }),
      await call('POST', '/api/cities/mumbai/messages', { ...bearer(me), body }),
    ]
  },
  'POST /api/chats': async () => {
    const [me, other] = await Promise.all([user(), user()])
    return [
      await call('POST', '/api/chats', { ...bearer(me), body: { memberIds: [other.user._id] } }),
    ]
  },
  'GET /api/chats': async () => {
    const [me, other] = await Promise.all([user(), user()])
    const chat = await chatOf(me, other)
    await send(other, `chats/${chat}`)
    await chatOf(me, other)
    return [await call('GET', '/api/chats', bearer(me))]
  },
  'GET /api/chats/{chatId}': async () => {
    const [me, other] = await Promise.all([user(), user()])
    return [await call('GET', `/api/chats/${await chatOf(me, other)}`, bearer(me))]
  },
  'POST /api/chats/{chatId}/members': async () => {
    const [me, other, third] = await Promise.all([user(), user(), user()])
    const chat = await chatOf(me, other)
    return [
      await call('POST', `/api/chats/${chat}/members`, {
        ...bearer(me),
        body: { userIds: [third.user._id] },
      }),
    ]
  },
  'DELETE /api/chats/{chatId}/members/{userId}': async () => {
    const [me, other, third] = await Promise.all([user(), user(), user()])
    const chat = await chatOf(me, other, third)
    return [await call('DELETE', `/api/chats/${chat}/members/${third.user._id}`, bearer(me))]
  },
  'PUT /api/chats/{chatId}/members/{userId}/role': async () => {
    const [me, other] = await Promise.all([user(), user()])
    const chat = await chatOf(me, other)
    const path = `/api/chats/${chat}/members/${other.user._id}/role`
    return [
      await call('PUT', path, { ...bearer(me), body: { role: 'admin' } }),
      await call('PUT', path, { ...bearer(me), body: { role: 'admin' } }),
    ]
  },
  'POST /api/chats/{chatId}/leave': async () => {
    const [me, other, third] = await Promise.all([user(), user(), user()])
    const chat = await chatOf(me, other, third)
    return [await call('POST', `/api/chats/${chat}/leave`, bearer(other))]
  },
  'GET /api/chats/{chatId}/messages': async () => {
    const [me, other] = await Promise.all([user(), user()])
    const chat = await chatOf(me, other)
    const media = await upload(server.url, me.accessToken, await pngOf(40, 30), 'dot.png', {
      type: 'image/png',
    })
    await send(me, `chats/${chat}`, { message_type: 'image', media_id: media.body.media._id })
    await send(other, `chats/${chat}`)
    return [await call('GET', `/api/chats/${chat}/messages`, bearer(me))]
  },
  'POST /api/chats/{chatId}/messages': async () => {
    const [me, other] = await Promise.all([user(), user()])
    const chat = await chatOf(me, other)
    const body = { content: 'hi', clientId: 'oa-chat-1' }
    return [
      await call('POST', `/api/chats/${chat}/messages`, { ...bearer(me), body }),
      await call('POST', `/api/chats/${chat}/messages`, { ...bearer(me), body }),
    ]
  },
  'POST /api/chats/{chatId}/read': async () => {
    const [me, other] = await Promise.all([user(), user()])
    const chat = await chatOf(me, other)
    await send(other, `chats/${chat}`)
    return [await call('POST', `/api/chats/${chat}/read`, bearer(me))]
  },
  'POST /api/cities/{cityId}/read': async () => {
    const me = await user()
    await send(me, 'cities/mumbai')
    return [await call('POST', '/api/cities/mumbai/read', bearer(me))]
  },
  'GET /api/notification-settings/{roomKind}/{roomId}': async () => {
    const [me, other] = await Promise.all([user(), user()])
    const chat = await chatOf(me, other)
    return [
      await call('GET', '/api/notification-settings/city/mumbai', bearer(me)),
      await call('GET', `/api/notification-settings/chat/${chat}`, bearer(me)),
    ]
  },
  'PUT /api/notification-settings/{roomKind}/{roomId}': async () => {
    const me = await user()
    return [
      await call('PUT', '/api/notification-settings/city/mumbai', {
        ...bearer(me),
        body: { level: 'all', muteUntil: new Date(Date.now() + 60_000).toISOString() },
      }),
    ]
  },
  'GET /api/notifications': async () => {
    const [me, other] = await Promise.all([user(), user()])
    await send(other, 'cities/mumbai', { content: `@${me.user.username} hello` })
    return [
      await until(
        () => call('GET', '/api/notifications', bearer(me)),
        (a) => JSON.parse(a.text).notifications?.length > 0,
        'the mention to reach the feed'
      ),
    ]
  },
  'POST /api/notifications/read': async () => {
    const [me, other] = await Promise.all([user(), user()])
    await send(other, 'cities/mumbai', { content: `@${me.user.username} hello` })
    const feed = await until(
      () => call('GET', '/api/notifications', bearer(me)),
      (a) => JSON.parse(a.text).notifications?.length > 0,
      'the mention to reach the feed'
    )
    const upTo = JSON.parse(feed.text).notifications[0]._id as string
    return [await call('POST', '/api/notifications/read', { ...bearer(me), body: { upTo } })]
  },
  'PATCH /api/messages/{messageId}': async () => {
    const me = await user()
    const message = await send(me, 'cities/mumbai')
    return [
      await call('PATCH', `/api/messages/${message._id}`, {
        ...bearer(me),
        body: { content: 'edited' },
      }),
    ]
  },
  'GET /api/search': async () => {
    const me = await user()
    const word = `oaword${Date.now().toString(36)}`
    await send(me, 'cities/mumbai', { content: `find ${word} here` })
    return [
      await until(
        () => call('GET', `/api/search?q=${word}`, bearer(me)),
        (a) => JSON.parse(a.text).results?.length === 1,
        'the message to be searchable'
      ),
    ]
  },
  'DELETE /api/messages/{messageId}': async () => {
    const me = await user()
    const message = await send(me, 'cities/mumbai')
    return [await call('DELETE', `/api/messages/${message._id}`, bearer(me))]
  },
  'PUT /api/users/me/photo': async () => {
    const me = await user()
    const res = await upload(server.url, me.accessToken, await pngOf(64, 64), 'me.png', {
      path: '/api/users/me/photo',
      method: 'PUT',
      type: 'image/png',
    })
    return [{ status: res.status, type: 'application/json', text: JSON.stringify(res.body) }]
  },
  'POST /api/media': async () => {
    const me = await user()
    const res = await upload(server.url, me.accessToken, await pngOf(32, 32), 'a.png', {
      type: 'image/png',
    })
    return [{ status: res.status, type: 'application/json', text: JSON.stringify(res.body) }]
  },
  'GET /api/media/{id}': async () => {
    const me = await user()
    const media = await upload(server.url, me.accessToken, 'just some text', 'a.txt')
    const path = `/api/media/${media.body.media._id}`
    return [
      await call('GET', path, bearer(me)),
      await call('GET', path, { ...bearer(me), headers: { range: 'bytes=0-3' } }),
      await call('GET', path, { ...bearer(me), headers: { range: 'bytes=9000-9001' } }),
    ]
  },
  'GET /api/media/{id}/thumbnail': async () => {
    const me = await user()
    const media = await upload(server.url, me.accessToken, await pngOf(400, 300), 'big.png', {
      type: 'image/png',
    })
    return [await call('GET', `/api/media/${media.body.media._id}/thumbnail`, bearer(me))]
  },
  'GET /api/media/avatars/{userId}': async () => {
    const me = await user()
    return [await call('GET', `/api/media/avatars/${me.user._id}`)]
  },
  'POST /api/media/session': async () => [
    await call('POST', '/api/media/session', bearer(await user())),
  ],
  'DELETE /api/media/session': async () => [await call('DELETE', '/api/media/session')],
  'GET /api/push/vapid-public-key': async () => [await call('GET', '/api/push/vapid-public-key')],
  'POST /api/push/subscriptions': async () => {
    const me = await user()
    const body = await pushSubscription()
    return [
      await call('POST', '/api/push/subscriptions', { ...bearer(me), body }),
      await call('POST', '/api/push/subscriptions', { ...bearer(me), body }),
    ]
  },
  'DELETE /api/push/subscriptions': async () => {
    const me = await user()
    const body = await pushSubscription()
    await call('POST', '/api/push/subscriptions', { ...bearer(me), body })
    return [
      await call('DELETE', '/api/push/subscriptions', {
        ...bearer(me),
        body: { endpoint: body.endpoint },
      }),
    ]
  },
  'PUT /api/messages/{messageId}/reactions/{emoji}': async () => {
    const me = await user()
    const message = await send(me, 'cities/mumbai')
    return [await call('PUT', `/api/messages/${message._id}/reactions/${THUMBS_UP}`, bearer(me))]
  },
  'DELETE /api/messages/{messageId}/reactions/{emoji}': async () => {
    const me = await user()
    const message = await send(me, 'cities/mumbai')
    const path = `/api/messages/${message._id}/reactions/${THUMBS_UP}`
    await call('PUT', path, bearer(me))
    return [await call('DELETE', path, bearer(me))]
  },
  'GET /api/messages/{messageId}/replies': async () => {
    const [me, other] = await Promise.all([user(), user()])
    const parent = await send(me, 'cities/mumbai')
    await send(other, 'cities/mumbai', { reply_to: parent._id })
    return [await call('GET', `/api/messages/${parent._id}/replies`, bearer(me))]
  },
  'PUT /api/messages/{messageId}/pin': async () => {
    const boss = await admin()
    const message = await send(boss, `cities/${await city(boss)}`)
    await call('PUT', `/api/messages/${message._id}/reactions/${THUMBS_UP}`, bearer(boss))
    return [await call('PUT', `/api/messages/${message._id}/pin`, bearer(boss))]
  },
  'DELETE /api/messages/{messageId}/pin': async () => {
    const boss = await admin()
    const message = await send(boss, `cities/${await city(boss)}`)
    await call('PUT', `/api/messages/${message._id}/pin`, bearer(boss))
    return [await call('DELETE', `/api/messages/${message._id}/pin`, bearer(boss))]
  },
  'GET /api/cities/{cityId}/pins': async () => {
    const boss = await admin()
    const id = await city(boss)
    const message = await send(boss, `cities/${id}`)
    await call('PUT', `/api/messages/${message._id}/pin`, bearer(boss))
    return [await call('GET', `/api/cities/${id}/pins`, bearer(boss))]
  },
  'GET /api/chats/{chatId}/pins': async () => {
    const [me, other] = await Promise.all([user(), user()])
    const chat = await chatOf(me, other)
    const message = await send(other, `chats/${chat}`)
    await call('PUT', `/api/messages/${message._id}/pin`, bearer(me))
    return [await call('GET', `/api/chats/${chat}/pins`, bearer(me))]
  },
}

const THUMBS_UP = encodeURIComponent('👍')

/** A PushSubscription as a browser makes one: a real P-256 public key and a 16-byte secret. */
async function pushSubscription() {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, [
    'deriveBits',
  ])) as CryptoKeyPair
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
  const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')
  return {
    endpoint: `https://push.example.test/${crypto.randomUUID()}`,
    expirationTime: null,
    keys: { p256dh: b64u(raw), auth: b64u(crypto.getRandomValues(new Uint8Array(16))) },
  }
}

/** Routes with no request that can be refused (the probes answer anyone). */
const NEVER_REFUSED = new Set([
  'GET /healthz',
  'GET /readyz',
  'DELETE /api/media/session',
  'GET /api/push/vapid-public-key',
])

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op }))
  )

function check(key: string, responses: Responses, answer: Answer) {
  const where = `${key} → ${answer.status}`
  const documented =
    responses[String(answer.status)] ?? (answer.status >= 400 ? responses.default : undefined)
  expect(documented, `${where}: status not in the document`).toBeDefined()
  const content = documented?.content
  if (!content) {
    expect(answer.text, `${where}: the document promises no body`).toBe('')
    return
  }
  const type = answer.type.split(';')[0]?.trim() ?? ''
  const media = content[type] ?? content['*/*']
  expect(media, `${where}: content type ${type} not in ${Object.keys(content)}`).toBeDefined()
  const schema = media?.schema as { format?: string }
  if (schema.format === 'binary') {
    expect(answer.text.length, `${where}: empty bytes`).toBeGreaterThan(0)
    return
  }
  const parsed = z.fromJSONSchema(schema as never).safeParse(JSON.parse(answer.text))
  expect(
    parsed.success ? [] : parsed.error.issues,
    `${where}: ${answer.text.slice(0, 400)}`
  ).toEqual([])
}

test('every documented operation has a case here, and every case a documented operation', () => {
  expect(
    operations()
      .map((o) => o.key)
      .sort()
  ).toEqual(Object.keys(CASES).sort())
})

test('every operation documents its success bodies and the shared error body', () => {
  for (const { key, op } of operations()) {
    const statuses = Object.keys(op.responses)
    expect(statuses, key).toContain('default')
    expect(op.responses.default?.content?.['application/json']?.schema, key).toMatchObject({
      required: ['error'],
    })
    const success = statuses.filter((s) => s.startsWith('2'))
    expect(success.length, key).toBeGreaterThan(0)
    for (const status of success) {
      const content = op.responses[status]?.content
      // No content: only for answers that carry no body.
      if (!content) {
        expect(['202', '204'], `${key} ${status} has no schema`).toContain(status)
        continue
      }
      for (const [type, { schema }] of Object.entries(content)) {
        const keys = Object.keys(schema)
        expect(keys.length, `${key} ${status} ${type}: empty schema`).toBeGreaterThan(1)
      }
    }
  }
})

describe('real answers match the documented schema', () => {
  for (const [key, run] of Object.entries(CASES)) {
    test(key, async () => {
      const [method, path] = key.split(' ') as [string, string]
      const op = doc.paths[path]?.[method.toLowerCase()]
      expect(op, `${key} is not in the document`).toBeDefined()
      if (!op) return
      const answers = await run()
      expect(answers.length).toBeGreaterThan(0)
      for (const answer of answers) {
        expect(answer.status, `${key}: ${answer.text.slice(0, 300)}`).toBeLessThan(500)
        if (answer.status >= 400)
          expect(
            op.responses[String(answer.status)],
            `${key}: refused ${answer.text}`
          ).toBeDefined()
        check(key, op.responses, answer)
      }
      if (NEVER_REFUSED.has(key)) return
      // A refusal: no token where one is needed, else a body that is not JSON, else an unknown id.
      const concrete = path.replace(/\{(\w+)\}/g, (_, name) =>
        name === 'roomKind' ? 'chat' : '000000000000000000000000'
      )
      const refusal =
        op.security || !op.requestBody
          ? await call(method, concrete)
          : await call(method, concrete, { rawBody: '{"not json' })
      expect(refusal.status, `${key}: ${refusal.text}`).toBeGreaterThanOrEqual(400)
      check(key, op.responses, refusal)
      if (op.security && op.requestBody) {
        const bad = await call(method, concrete, { ...bearer(await user()), rawBody: '{"x' })
        if (bad.status >= 400) check(key, op.responses, bad)
      }
    })
  }
})
