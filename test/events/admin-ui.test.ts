/**
 * @module The Socket.IO Admin UI end to end: the real `@socket.io/admin-ui` instrumenting the
 * real chat server (ADMIN_UI=true), its `/admin` namespace read with the official client the way
 * the dashboard reads it, while real chat sockets connect, join, talk and leave.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import type { Socket } from 'socket.io-client'
import { loadConfig } from '../../src/config.ts'
import { ask, type ChatClient, chatUser } from '../helpers/chat-client.ts'
import { client, TRANSPORTS } from '../helpers/realtime.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const PASSWORD = 'correct horse battery staple'
const HASH = await Bun.password.hash(PASSWORD, { algorithm: 'bcrypt', cost: 4 })

let server: TestServer | undefined
const open: Socket[] = []
const users: ChatClient[] = []

/** Retries `check` (expectations) until it passes; its last failure after `ms`. */
async function eventually(check: () => void, ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      return check()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await Bun.sleep(50)
    }
  }
}

afterEach(async () => {
  for (const socket of open.splice(0)) socket.disconnect()
  for (const user of users.splice(0)) user.socket.disconnect()
  await server?.stop()
  server = undefined
})

const withAdminUi = () =>
  startServer({ ADMIN_UI: 'true', ADMIN_UI_USERNAME: 'ops', ADMIN_UI_PASSWORD_HASH: HASH })

/** An admin connection that records every event it gets, as the dashboard does. */
async function admin(url: string, auth: Record<string, unknown>, options = {}) {
  const socket = client(`${url}/admin`, { auth, ...options })
  open.push(socket)
  const received: unknown[][] = []
  socket.onAny((event: string, ...args: unknown[]) => received.push([event, ...args]))
  const outcome = await new Promise<'connected' | Error>((resolve) => {
    socket.once('connect', () => resolve('connected'))
    socket.once('connect_error', (err) => resolve(err))
  })
  const events = (name: string) => received.filter(([event]) => event === name).map(([, ...a]) => a)
  return { socket, outcome, received, events }
}

describe('off by default', () => {
  test('without ADMIN_UI there is no /admin namespace and no dashboard', async () => {
    server = await startServer()
    const { outcome } = await admin(server.url, { username: 'ops', password: PASSWORD })
    expect(outcome).toBeInstanceOf(Error)
    expect((outcome as Error).message).toBe('Invalid namespace')
    const page = await fetch(`${server.url}/admin-ui/`)
    expect(page.status).toBe(404)
  })

  test('ADMIN_UI=true needs a bcrypt password hash', () => {
    expect(() => loadConfig({ ADMIN_UI: 'true' })).toThrow(/ADMIN_UI_PASSWORD_HASH: required/)
    expect(() => loadConfig({ ADMIN_UI: 'true', ADMIN_UI_PASSWORD_HASH: PASSWORD })).toThrow(
      /must be a bcrypt hash/
    )
  })
})

describe('credentials', () => {
  test('a wrong password, a wrong username and no credentials are refused', async () => {
    server = await withAdminUi()
    for (const auth of [
      { username: 'ops', password: 'wrong' },
      { username: 'root', password: PASSWORD },
      {},
      { sessionId: 'made-up' },
    ]) {
      const { outcome, received } = await admin(server.url, auth)
      expect(outcome).toBeInstanceOf(Error)
      expect((outcome as Error).message).toBe('invalid credentials')
      expect(received).toEqual([])
    }
  })

  test('the session id it hands out logs in again without the password', async () => {
    server = await withAdminUi()
    const first = await admin(server.url, { username: 'ops', password: PASSWORD })
    expect(first.outcome).toBe('connected')
    await eventually(() => expect(first.events('session')).toHaveLength(1))
    const [sessionId] = first.events('session')[0] as [string]
    const again = await admin(server.url, { sessionId })
    expect(again.outcome).toBe('connected')
  })
})

describe.each(TRANSPORTS)('the dashboard feed, chat sockets over $name', ({ options }) => {
  test('all_sockets, socket_connected, room_joined, events, room_left, socket_disconnected', async () => {
    server = await withAdminUi()
    const url = server.url
    const early = await chatUser(url, options)
    users.push(early)
    const feed = await admin(url, { username: 'ops', password: PASSWORD })
    expect(feed.outcome).toBe('connected')

    // The sockets already there, with their transport, rooms and data.
    await eventually(() => expect(feed.events('all_sockets')).toHaveLength(1))
    const [all] = feed.events('all_sockets')[0] as [any[]]
    const listed = all.find((s) => s.id === early.socket.id)
    expect(listed).toMatchObject({ nsp: '/', clientId: expect.any(String) })
    expect(listed.rooms).toContain(early.socket.id)
    expect(listed.data.user.username).toBe(early.user.username)
    expect(['polling', 'websocket']).toContain(listed.transport)
    expect(feed.events('config')[0]?.[0]).toMatchObject({ supportedFeatures: expect.any(Array) })

    // A new chat socket, its room and its events.
    const late = await chatUser(url, options)
    users.push(late)
    await eventually(() =>
      expect(feed.events('socket_connected').map(([s]: any) => s.id)).toContain(late.socket.id)
    )
    const ack = await ask(late.socket, 'join-city-chat', { cityId: 'mumbai' })
    expect(ack).toMatchObject({ ok: true })
    await eventually(() =>
      expect(feed.events('room_joined')).toContainEqual([
        '/',
        'city:mumbai',
        late.socket.id,
        expect.any(String),
      ])
    )
    await ask(late.socket, 'send-city-message', { cityId: 'mumbai', content: 'seen by ops' })
    await eventually(() => {
      const received = feed.events('event_received').filter(([, id]) => id === late.socket.id)
      expect(received.map(([, , args]: any) => args[0])).toContain('send-city-message')
    })
    await eventually(() =>
      expect(feed.events('event_sent').map(([, , args]: any) => args[0])).toContain(
        'joined-city-chat'
      )
    )
    await ask(late.socket, 'leave-city-chat', { cityId: 'mumbai' })
    await eventually(() =>
      expect(feed.events('room_left')).toContainEqual([
        '/',
        'city:mumbai',
        late.socket.id,
        expect.any(String),
      ])
    )

    const lateId = late.socket.id
    late.socket.disconnect()
    await eventually(() =>
      expect(feed.events('socket_disconnected')).toContainEqual([
        '/',
        lateId,
        'client namespace disconnect',
        expect.any(String),
      ])
    )
    // The counters of the dashboard's home page come every 2 s.
    await eventually(() => {
      const stats = feed.events('server_stats').at(-1)?.[0] as any
      expect(stats?.namespaces).toContainEqual({ name: '/', socketsCount: 1 })
      expect(stats?.clientsCount).toBeGreaterThanOrEqual(2)
    }, 6000)
  })
})

test('an upgrade from polling to WebSocket reaches the dashboard as socket_updated', async () => {
  server = await withAdminUi()
  const feed = await admin(server.url, { username: 'ops', password: PASSWORD })
  expect(feed.outcome).toBe('connected')
  const user = await chatUser(server.url, { transports: ['polling', 'websocket'] })
  users.push(user)
  const upgraded = [{ id: user.socket.id, nsp: '/', transport: 'websocket' }]
  await eventually(() => {
    const connected = feed.events('socket_connected').find(([s]: any) => s.id === user.socket.id)
    const transport = (connected?.[0] as any)?.transport
    // The upgrade's probe races the CONNECT's token check: when it finished first, the socket
    // reaches the dashboard already on WebSocket and there is nothing to update (socket.io's
    // instrument listens for the upgrade only once the socket is connected). Otherwise the
    // dashboard saw it on polling and must hear the upgrade.
    expect(['polling', 'websocket']).toContain(transport)
    if (transport === 'polling') expect(feed.events('socket_updated')).toContainEqual(upgraded)
  })
})

test('the dashboard can make a chat socket leave a room, as socket.io would', async () => {
  server = await withAdminUi()
  const feed = await admin(server.url, { username: 'ops', password: PASSWORD })
  const user = await chatUser(server.url)
  users.push(user)
  await ask(user.socket, 'join-city-chat', { cityId: 'delhi' })
  feed.socket.emit('leave', '/', 'city:delhi', user.socket.id)
  await eventually(() =>
    expect(feed.events('room_left').map(([, room, id]) => [room, id])).toContainEqual([
      'city:delhi',
      user.socket.id,
    ])
  )
})
