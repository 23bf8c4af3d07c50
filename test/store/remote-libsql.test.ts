/**
 * @module The server over a real libSQL server (sqld): a remote primary (`DATABASE_URL=http://…`,
 * Hrana over HTTP, or `libsql://…`, over a WebSocket) and an embedded replica (`DATABASE_URL=
 * file:…` with `DATABASE_SYNC_URL`), all with a JWT the libSQL server checks. Migrations, seeding,
 * REST, realtime delivery, edits, deletes, private chats and connection-state recovery go through
 * it, and a second server finds everything. Two nodes on it with Redis deliver in offset order,
 * reading back from it what Redis holds up.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { Env } from '../../src/config.ts'
import { api } from '../helpers/api.ts'
import {
  ask,
  barrier,
  type ChatClient,
  createPrivateChat,
  joinCity,
  once,
  trackClients,
} from '../helpers/chat-client.ts'
import { drop, recover } from '../helpers/recovery.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { SQLD_SKIP_REASON, type Sqld, startSqld } from '../helpers/sqld.ts'
import {
  clusterEnv,
  expectOffsetOrder,
  type Node,
  SKIP_REASON as REDIS_SKIP_REASON,
  startNode,
  startRedis,
} from '../scale/cluster.ts'

if (SQLD_SKIP_REASON) console.warn(SQLD_SKIP_REASON)

const SCHEMES = ['http', 'libsql'] as const
type Scheme = (typeof SCHEMES)[number]

describe.skipIf(Boolean(SQLD_SKIP_REASON))('over a libSQL server (sqld)', () => {
  let sqld: Sqld
  let jwtKey: string
  let token: string
  const servers: TestServer[] = []
  const clients = trackClients()
  const dirs: string[] = []

  beforeAll(async () => {
    // sqld checks every request's JWT against this Ed25519 public key.
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    jwtKey = (await exportJWK(publicKey)).x ?? ''
    token = await new SignJWT({ a: 'rw' }).setProtectedHeader({ alg: 'EdDSA' }).sign(privateKey)
  })

  // Each test gets a database server of its own.
  beforeEach(async () => {
    sqld = await startSqld({ jwtKey })
  })

  afterEach(async () => {
    clients.disconnectAll()
    for (const server of servers.splice(0)) await server.stop()
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
    await sqld.stop()
  })

  const start = async (overrides: Partial<Env>) => {
    // One JWT secret for every server of a test: they share their users.
    const server = await startServer({
      DATABASE_AUTH_TOKEN: token,
      JWT_SECRET: 'remote-libsql-test-secret-0123456789abcdef',
      ...overrides,
    })
    servers.push(server)
    return server
  }
  /**
   * `http://` speaks Hrana over HTTP; `libsql://` (what Turso hands out) over a WebSocket, here
   * without TLS.
   */
  const remote = (scheme: Scheme = 'http') =>
    start({
      DATABASE_URL: scheme === 'http' ? sqld.url : `${sqld.url.replace('http:', 'libsql:')}?tls=0`,
    })
  const replica = () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-replica-'))
    dirs.push(dir)
    return start({ DATABASE_URL: `file:${join(dir, 'replica.db')}`, DATABASE_SYNC_URL: sqld.url })
  }
  const history = async (server: TestServer, reader: ChatClient, path: string) =>
    (await api(server.url, 'GET', path, { token: reader.accessToken })).body.messages as Array<{
      _id: string
      content: string
      is_edited: boolean
      is_deleted: boolean
    }>

  /** Two users in Mumbai (a third name taken): a message, its edit and delete, broadcast and stored. */
  async function cityConversation(server: TestServer) {
    const [alice, bob] = [await clients.user(server.url), await clients.user(server.url)]
    const taken = await api(server.url, 'POST', '/api/auth/register', {
      body: {
        username: alice.user.username,
        email: 'other@example.test',
        full_name: 'X',
        password: 'password123',
      },
    })
    expect(taken.status).toBe(409)
    await Promise.all([joinCity(alice), joinCity(bob)])
    const heard = once<any>(bob.socket, 'new-city-message')
    const first = await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'v1' })
    expect(first.ok).toBe(true)
    expect((await heard)._id).toBe(first.message._id)
    const kept = await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'kept' })
    const edited = once<any>(bob.socket, 'city-message-edited')
    const edit = await ask(alice.socket, 'edit-city-message', {
      messageId: kept.message._id,
      cityId: 'mumbai',
      content: 'kept, edited',
    })
    expect(edit.ok).toBe(true)
    expect(await edited).toMatchObject({ _id: kept.message._id, is_edited: true })
    const deleted = once<any>(bob.socket, 'city-message-deleted')
    await ask(alice.socket, 'delete-city-message', {
      messageId: first.message._id,
      cityId: 'mumbai',
    })
    expect(await deleted).toEqual({ messageId: first.message._id, cityId: 'mumbai' })
    // A duplicate clientId is recognised by the remote unique index, not stored twice.
    const once1 = await ask(bob.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'retry',
      clientId: 'c-1',
    })
    const once2 = await ask(bob.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'retry',
      clientId: 'c-1',
    })
    expect(once2.message._id).toBe(once1.message._id)
    const stored = await history(server, bob, '/api/cities/mumbai/messages')
    expect(stored.map((m) => [m._id, m.content, m.is_edited, m.is_deleted])).toEqual([
      [first.message._id, '', false, true],
      [kept.message._id, 'kept, edited', true, false],
      [once1.message._id, 'retry', false, false],
    ])
    return { alice, bob, ids: stored.map((m) => m._id) }
  }

  test.each(SCHEMES)(
    'remote primary over %s: migrations, seed, REST and realtime; a second server finds it all',
    async (scheme) => {
      const first = await remote(scheme)
      const { alice, bob, ids } = await cityConversation(first)
      const cities = await api(first.url, 'GET', '/api/cities', { token: alice.accessToken })
      expect(cities.body.cities).toContainEqual({
        _id: 'mumbai',
        name: 'Mumbai',
        country: 'India',
        unreadCount: null,
        mentionCount: 0,
        archived: false,
        slowModeSeconds: 0,
        canModerate: false,
        retentionDays: null,
      })

      const chatId = await createPrivateChat(first.url, alice, [bob])
      for (const member of [alice, bob]) {
        expect((await ask(member.socket, 'join-private-chat', { chatId })).ok).toBe(true)
      }
      const got = once<any>(bob.socket, 'new-private-message')
      const sent = await ask(alice.socket, 'send-private-message', { chatId, content: 'psst' })
      expect(sent.ok).toBe(true)
      expect((await got)._id).toBe(sent.message._id)

      // A second server over the same database: migrations are already applied, seeding is a
      // no-op, logins and history are there.
      const second = await remote(scheme)
      const login = await api(second.url, 'POST', '/api/auth/login', {
        body: { login: alice.user.email, password: alice.password },
      })
      expect(login.status).toBe(200)
      expect((await history(second, bob, '/api/cities/mumbai/messages')).map((m) => m._id)).toEqual(
        ids
      )
      const privateHistory = await history(second, bob, `/api/chats/${chatId}/messages`)
      expect(privateHistory.map((m) => m.content)).toEqual(['psst'])
    }
  )

  test('remote primary: a dropped client recovers what it missed, in order', async () => {
    const server = await remote()
    const [alice, bob] = [await clients.user(server.url), await clients.user(server.url)]
    await Promise.all([joinCity(alice), joinCity(bob)])
    await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content: 'before' })
    await barrier(alice.socket)
    await drop(alice, bob)
    const missed = []
    for (const content of ['one', 'two']) {
      missed.push(await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content }))
    }
    const edit = await ask(bob.socket, 'edit-city-message', {
      cityId: 'mumbai',
      messageId: missed[0].message._id,
      content: 'one (edited)',
    })
    expect(await recover(alice)).toEqual([
      ['new-city-message', edit.message],
      ['new-city-message', missed[1].message],
      ['city-message-edited', edit.message],
      ['heartbeat-ack', expect.anything()],
    ])
  })

  test('remote primary: a reply moves its thread in the same write; reactions and the page agree', async () => {
    const server = await remote()
    const [alice, bob] = [await clients.user(server.url), await clients.user(server.url)]
    await Promise.all([joinCity(alice), joinCity(bob)])
    const parent = await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'p' })
    const id = parent.message._id
    const updated = once<any>(alice.socket, 'city-message-thread-updated')
    const reply = await ask(bob.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'r',
      reply_to: id,
    })
    expect(await updated).toEqual({
      messageId: id,
      reply_count: 1,
      last_reply_at: reply.message.created_at,
      cityId: 'mumbai',
    })
    // A retried reply (same clientId) stores nothing and moves nothing.
    for (let i = 0; i < 2; i++) {
      await ask(bob.socket, 'send-city-message', {
        cityId: 'mumbai',
        content: 'again',
        reply_to: id,
        clientId: 'retry-1',
      })
    }
    const react = await ask(bob.socket, 'react-message', {
      messageId: id,
      emoji: '👍',
      cityId: 'mumbai',
    })
    expect(react).toMatchObject({ ok: true, count: 1 })
    const page = await api(server.url, 'GET', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
    })
    const stored = page.body.messages.find((m: { _id: string }) => m._id === id)
    expect(stored).toMatchObject({
      reply_count: 2,
      reactions: [{ emoji: '👍', count: 1, userIds: [bob.user._id] }],
    })
  })

  test('embedded replica: writes reach the primary, reads are local and see them', async () => {
    const server = await replica()
    const { bob, ids } = await cityConversation(server)
    // Another server reading the primary directly sees what went through the replica.
    const direct = await remote()
    expect((await history(direct, bob, '/api/cities/mumbai/messages')).map((m) => m._id)).toEqual(
      ids
    )
  })

  test.skipIf(Boolean(REDIS_SKIP_REASON))(
    'two nodes on one libSQL server and Redis deliver in offset order, once',
    async () => {
      const redis = await startRedis()
      const cluster = clusterEnv(redis.url, { DATABASE_URL: sqld.url, DATABASE_AUTH_TOKEN: token })
      const nodes: Node[] = []
      try {
        nodes.push(await startNode(cluster.env, 'n1'))
        nodes.push(await startNode(cluster.env, 'n2'))
        const [n1, n2] = nodes as [Node, Node]
        await expectOffsetOrder(redis, n1, n2, clients.track)
      } finally {
        clients.disconnectAll()
        await Promise.all(nodes.map((node) => node.kill()))
        await redis.stop()
        cluster.cleanup()
      }
    }
  )

  test('a token the libSQL server refuses stops the start with its error', async () => {
    const refused = startServer({ DATABASE_URL: sqld.url, DATABASE_AUTH_TOKEN: 'not-a-jwt' })
    const error = await refused.then(
      (server) => {
        servers.push(server)
        return null
      },
      (e: unknown) => e
    )
    expect(String(error)).toContain('HTTP status 401')
  })
})
