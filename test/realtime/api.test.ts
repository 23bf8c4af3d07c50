/**
 * @module Server API beyond the per-transport suite: namespaces and multiplexing, mixed
 * transports in one room, rooms kept across the upgrade, broadcast acks, room utilities,
 * and listener bugs that must not break the connection.
 */
import { afterEach, expect, test } from 'bun:test'
import { Manager, type Socket } from 'socket.io-client'
import { SILENT_LOGGER } from '../../src/log.ts'
import {
  createBunTopicsAdapter,
  createEngine,
  createIO,
  type IOSocket,
} from '../../src/realtime/index.ts'
import {
  type ClientOptions,
  client,
  connect,
  once,
  settled,
  startIO,
  type TestServer,
  wsConnect,
  wsOpen,
} from '../helpers/realtime.ts'
import { rejectionOf } from '../helpers/rejection.ts'

let srv: TestServer
const clients: Socket[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect()
  await srv?.stop()
})

/** Connects a client and returns both ends, after one round trip (upgrade seen by server). */
async function pair(options: ClientOptions = {}, nsp = '/') {
  const namespace = srv.io.of(nsp)
  const server = once<IOSocket>(namespace, 'connection')
  const c = await connect(`${srv.url}${nsp === '/' ? '' : nsp}`, options)
  clients.push(c)
  await settled(c)
  const socket = await server
  const synced = once(socket, 'sync')
  c.emit('sync')
  await synced
  return { c, socket }
}

/** Everything sent to `peer` before this call has been received once this resolves. */
async function drained(peer: { c: Socket; socket: IOSocket }): Promise<void> {
  const marker = once(peer.c, 'marker')
  peer.socket.emit('marker')
  await marker
}

test('namespaces have their own middleware, sockets and rooms', async () => {
  srv = startIO()
  const admin = srv.io.of('/admin')
  admin.use((socket, next) =>
    socket.handshake.auth.role === 'admin' ? next() : next(new Error('admins only'))
  )
  const refused = client(`${srv.url}/admin`, { auth: { role: 'user' } })
  clients.push(refused)
  expect((await once<Error>(refused, 'connect_error')).message).toBe('admins only')

  const main = await pair()
  const boss = await pair({ auth: { role: 'admin' } }, '/admin')
  main.socket.join('r')
  boss.socket.join('r')
  const seen: string[] = []
  main.c.on('news', (x: string) => seen.push(`main:${x}`))
  boss.c.on('news', (x: string) => seen.push(`admin:${x}`))
  admin.to('r').emit('news', 'a')
  srv.io.to('r').emit('news', 'm')
  await Promise.all([drained(main), drained(boss)])
  expect(seen.sort()).toEqual(['admin:a', 'main:m'])
  expect((await admin.fetchSockets()).map((s) => s.id)).toEqual([boss.socket.id])
})

test('an unknown namespace is refused with "Invalid namespace"', async () => {
  srv = startIO()
  const c = client(`${srv.url}/nowhere`)
  clients.push(c)
  expect((await once<Error>(c, 'connect_error')).message).toBe('Invalid namespace')
})

test('one connection multiplexes two namespaces', async () => {
  srv = startIO()
  srv.io.of('/chat').on('connection', (socket) => {
    socket.on('where', (ack: (n: string) => void) => ack(socket.nsp.name))
  })
  srv.io.on('connection', (socket) => {
    socket.on('where', (ack: (n: string) => void) => ack(socket.nsp.name))
  })
  const manager = new Manager(srv.url, { reconnection: false, transports: ['websocket'] })
  const root = manager.socket('/')
  const chat = manager.socket('/chat')
  clients.push(root, chat)
  root.connect()
  chat.connect()
  expect(await root.timeout(2000).emitWithAck('where')).toBe('/')
  expect(await chat.timeout(2000).emitWithAck('where')).toBe('/chat')
  expect(srv.io.engine.clientsCount).toBe(1)
  chat.disconnect()
  expect(await root.timeout(2000).emitWithAck('where')).toBe('/')
})

test('emitJson publishes pre-encoded JSON as the same event emit would send', async () => {
  srv = startIO()
  const member = await pair({ transports: ['websocket'] })
  const poller = await pair({ transports: ['polling'] })
  const outsider = await pair()
  for (const peer of [member, poller]) peer.socket.join('room')
  const seen = new Map<string, unknown[][]>()
  for (const [name, peer] of Object.entries({ member, poller, outsider })) {
    seen.set(name, [])
    peer.c.on('news', (...args) => seen.get(name)?.push(args))
  }
  srv.io.to('room').emitJson(JSON.stringify(['news', { id: 1, text: 'a "quoted" é' }, '42']))
  member.socket.to('room').emitJson('["news","from member"]')
  await Promise.all([drained(member), drained(poller), drained(outsider)])
  const first = [{ id: 1, text: 'a "quoted" é' }, '42']
  expect(Object.fromEntries(seen)).toEqual({
    member: [first],
    poller: [first, ['from member']],
    outsider: [],
  })
})

test('websocket and polling members of one room get every broadcast exactly once', async () => {
  srv = startIO()
  const ws = await pair({ transports: ['websocket'] })
  const poll = await pair({ transports: ['polling'] })
  const other = await pair({ transports: ['polling'] })
  for (const peer of [ws, poll, other]) peer.socket.join('room')
  const seen: string[] = []
  ws.c.on('m', (x: string) => seen.push(`ws:${x}`))
  poll.c.on('m', (x: string) => seen.push(`poll:${x}`))
  other.c.on('m', (x: string) => seen.push(`other:${x}`))
  srv.io.to('room').emit('m', 'io')
  ws.socket.to('room').emit('m', 'from-ws')
  poll.socket.to('room').emit('m', 'from-poll')
  srv.io.emit('m', 'all')
  await Promise.all([drained(ws), drained(poll), drained(other)])
  expect(seen.sort()).toEqual(
    [
      'ws:io',
      'poll:io',
      'other:io',
      'poll:from-ws',
      'other:from-ws',
      'ws:from-poll',
      'other:from-poll',
      'ws:all',
      'poll:all',
      'other:all',
    ].sort()
  )
})

test('rooms joined while polling still deliver, once, after the upgrade', async () => {
  srv = startIO()
  let joinedOn = ''
  srv.io.on('connection', (socket) => {
    joinedOn = socket.conn.transport.name
    socket.join('early')
  })
  const peer = await pair()
  expect(joinedOn).toBe('polling')
  expect(peer.socket.conn.transport.name).toBe('websocket')
  let count = 0
  peer.c.on('m', () => count++)
  srv.io.to('early').emit('m')
  srv.io.emit('m')
  srv.io.to(peer.socket.id).emit('m')
  await drained(peer)
  expect(count).toBe(3)
  peer.socket.leave('early')
  srv.io.to('early').emit('m')
  await drained(peer)
  expect(count).toBe(3)
})

test('a middleware may join rooms and read headers before the socket connects', async () => {
  srv = startIO()
  srv.io.use((socket, next) => {
    socket.join(`user:${socket.handshake.auth.user}`)
    socket.data.agent = socket.handshake.headers['x-test']
    next()
  })
  const peer = await pair({
    auth: { user: 'u1' },
    extraHeaders: { 'x-test': 'yes' },
    transports: ['polling'],
  })
  expect(peer.socket.rooms).toEqual(new Set([peer.socket.id, 'user:u1']))
  expect(peer.socket.data.agent).toBe('yes')
  const got = once(peer.c, 'hi')
  srv.io.to('user:u1').emit('hi', 1)
  expect(await got).toBe(1)
})

test('handshakeHeaders keeps only the named headers (and origin) over both transports', async () => {
  srv = startIO({ handshakeHeaders: ['x-test'] })
  for (const transports of [['polling'], ['websocket']] as const) {
    const peer = await pair({
      extraHeaders: { 'x-test': 'yes', 'x-other': 'no', origin: 'http://example.test' },
      transports: [...transports],
    })
    expect(peer.socket.handshake.headers).toEqual({
      'x-test': 'yes',
      origin: 'http://example.test',
    })
    expect(peer.socket.handshake.xdomain).toBe(true)
    // A copy: a handler changing it changes no other socket's.
    peer.socket.handshake.headers['x-test'] = 'changed'
  }
  const bare = await pair({ transports: ['websocket'] })
  expect(bare.socket.handshake.headers).toEqual({})
  expect(bare.socket.handshake.xdomain).toBe(false)
  bare.socket.handshake.headers.added = '1'
  expect((await pair({ transports: ['websocket'] })).socket.handshake.headers).toEqual({})
})

test('handshakeAuth: middlewares see the whole auth payload, the accepted socket keeps only the named fields', async () => {
  srv = startIO({ handshakeAuth: ['room'] })
  const seen: Record<string, unknown>[] = []
  srv.io.use((socket, next) => {
    seen.push({ ...socket.handshake.auth })
    return socket.handshake.auth.token === 'good' ? next() : next(new Error('bad token'))
  })
  const kept = await pair({ auth: { token: 'good', room: 'r1' }, transports: ['websocket'] })
  expect(seen.at(-1)).toEqual({ token: 'good', room: 'r1' })
  expect(kept.socket.handshake.auth).toEqual({ room: 'r1' })
  const none = await pair({ auth: { token: 'good' }, transports: ['polling'] })
  expect(none.socket.handshake.auth).toEqual({})
  // The refusal path still reads the token the client sent.
  const error = await rejectionOf(
    connect(srv.url, { auth: { token: 'bad' }, transports: ['websocket'], reconnection: false })
  )
  expect((error as Error).message).toBe('bad token')
  expect(seen.at(-1)).toEqual({ token: 'bad' })
  // Without the option every field stays, as in socket.io.
  await srv.stop()
  srv = startIO()
  const all = await pair({ auth: { token: 'good', room: 'r1' }, transports: ['websocket'] })
  expect(all.socket.handshake.auth).toEqual({ token: 'good', room: 'r1' })
})

test('a socket id is a room: to(id), except(id), and a sender targeting another id', async () => {
  srv = startIO()
  const a = await pair({ transports: ['websocket'] })
  const b = await pair({ transports: ['polling'] })
  const seen: string[] = []
  a.c.on('m', (x: string) => seen.push(`a:${x}`))
  b.c.on('m', (x: string) => seen.push(`b:${x}`))
  srv.io.to(b.socket.id).emit('m', 'to-b')
  srv.io.except(a.socket.id).emit('m', 'not-a')
  a.socket.to(b.socket.id).emit('m', 'a-to-b')
  b.socket.to(a.socket.id).emit('m', 'b-to-a')
  srv.io.to([a.socket.id, b.socket.id]).emit('m', 'both')
  srv.io.except('no-such-room').emit('m', 'ghost') // an except-room with no member: publish path
  await Promise.all([drained(a), drained(b)])
  expect(seen.sort()).toEqual([
    'a:b-to-a',
    'a:both',
    'a:ghost',
    'b:a-to-b',
    'b:both',
    'b:ghost',
    'b:not-a',
    'b:to-b',
  ])
  expect(srv.io.sockets.adapter.rooms.has(a.socket.id)).toBe(false) // own rooms are implied
  expect(a.socket.rooms).toEqual(new Set([a.socket.id]))
})

test('leave, namespace disconnect and connection close unsubscribe the Bun topics', async () => {
  srv = startIO()
  srv.io.of('/chat')
  const subscribers = (topic: string) => srv.server.subscriberCount(topic)
  const ws = await wsOpen(srv.url)
  await ws.next()
  ws.send('40')
  ws.send('40/chat,')
  await ws.next()
  await ws.next()
  const [root] = await srv.io.local.fetchSockets()
  const [chat] = await srv.io.of('/chat').local.fetchSockets()
  if (!root || !chat) throw new Error('both namespaces should be connected')
  root.join(['r', 's'])
  chat.join('r')
  expect([subscribers('/'), subscribers('/#r'), subscribers('/chat#r')]).toEqual([1, 1, 1])
  root.leave('s')
  expect(subscribers('/#s')).toBe(0)

  const gone = once(root, 'disconnect')
  ws.send('41') // the client leaves `/` only; the connection stays for `/chat`
  expect(await gone).toBe('client namespace disconnect')
  expect([subscribers('/'), subscribers('/#r'), subscribers('/chat#r')]).toEqual([0, 0, 1])
  srv.io.to('r').emit('stale')
  chat.emit('marker')
  expect(await ws.next()).toBe('42/chat,["marker"]')

  const closed = once(chat, 'disconnect')
  ws.ws.close()
  expect(await closed).toBe('transport close')
  expect(subscribers('/chat#r')).toBe(0)
  expect(srv.io.of('/chat').adapter.rooms.size).toBe(0)
})

test('a custom adapter receives each broadcast once, already encoded', async () => {
  const seen: { packet: readonly (string | Uint8Array)[]; rooms: string[]; except: string[] }[] = []
  srv = startIO({
    adapter: (host) => {
      const inner = createBunTopicsAdapter(host)
      return {
        ...inner,
        rooms: inner.rooms,
        broadcast(packet, opts) {
          seen.push({ packet, rooms: [...opts.rooms], except: [...opts.except] })
          inner.broadcast(packet, opts)
        },
      }
    },
  })
  const a = await pair()
  const b = await pair()
  a.socket.join('r')
  b.socket.join('r')
  const got = once(b.c, 'bin')
  a.socket.to('r').emit('bin', new Uint8Array([7]))
  expect([...new Uint8Array((await got) as ArrayBuffer)]).toEqual([7])
  expect(seen).toHaveLength(1)
  expect(seen[0]?.packet[0]).toBe('51-["bin",{"_placeholder":true,"num":0}]')
  expect(seen[0]?.rooms).toEqual(['r'])
  expect(seen[0]?.except).toEqual([a.socket.id])
})

test('a broadcast with an ack collects one response per socket', async () => {
  srv = startIO()
  const a = await pair({ transports: ['websocket'] })
  const b = await pair({ transports: ['polling'] })
  a.c.on('vote', (ack: (v: string) => void) => ack('a'))
  b.c.on('vote', (ack: (v: string) => void) => ack('b'))
  const responses = await srv.io.timeout(2000).emitWithAck('vote')
  expect(responses.sort()).toEqual(['a', 'b'])

  b.c.off('vote')
  b.c.on('vote', () => {}) // never answers
  expect((await rejectionOf(srv.io.timeout(50).emitWithAck('vote'))).message).toContain(
    'operation has timed out'
  )
})

test('socketsJoin, socketsLeave, disconnectSockets and fetchSockets', async () => {
  srv = startIO()
  const a = await pair()
  const b = await pair()
  a.socket.data.name = 'a'
  srv.io.socketsJoin('all')
  expect((await srv.io.in('all').fetchSockets()).length).toBe(2)
  srv.io.in(a.socket.id).socketsLeave('all')
  const left = await srv.io.in('all').fetchSockets()
  expect(left.map((s) => s.id)).toEqual([b.socket.id])
  const named = await srv.io.fetchSockets()
  expect(named.find((s) => s.id === a.socket.id)?.data.name).toBe('a')
  const gone = once(b.c, 'disconnect')
  srv.io.in('all').disconnectSockets()
  expect(await gone).toBe('io server disconnect')
  expect((await srv.io.fetchSockets()).map((s) => s.id)).toEqual([a.socket.id])
})

test('reserved event names are refused on emit', async () => {
  srv = startIO()
  const { socket } = await pair()
  expect(() => socket.emit('disconnect')).toThrow('"disconnect" is a reserved event name')
  expect(() => srv.io.emit('connect')).toThrow('reserved')
})

test('shared disconnecting/disconnect handlers run once per leaving socket, never from a client event', async () => {
  srv = startIO()
  const heard: string[] = []
  srv.io.sockets.handle('disconnecting', (socket: IOSocket, reason: string) => {
    heard.push(`disconnecting ${reason} ${socket.rooms.has('kept') ? 'in room' : 'no room'}`)
  })
  srv.io.sockets.handle('disconnect', (socket: IOSocket, reason: string) => {
    heard.push(`disconnect ${reason} ${socket.connected}`)
  })
  expect(() => srv.io.sockets.handle('connect', () => {})).toThrow('reserved')
  const { c, socket } = await pair()
  socket.join('kept')
  const own = once<string>(socket, 'disconnect')
  // A client naming the event itself is a protocol error, not a call of the handler.
  const raw = await wsConnect(srv.url)
  raw.send('42["disconnect","forged"]')
  await raw.closed
  expect(heard).toEqual([
    'disconnecting transport close no room',
    'disconnect transport close false',
  ])
  heard.length = 0
  c.disconnect()
  expect(await own).toBe('client namespace disconnect')
  expect(heard).toEqual([
    'disconnecting client namespace disconnect in room',
    'disconnect client namespace disconnect false',
  ])
})

test('a throwing or rejecting listener or middleware does not break the server', async () => {
  srv = startIO()
  let calls = 0
  srv.io.use(async (socket, next) => {
    calls++
    if (socket.handshake.auth.explode) throw new Error('bug in middleware')
    next()
  })
  const refused = client(srv.url, { auth: { explode: true } })
  clients.push(refused)
  expect((await once<Error>(refused, 'connect_error')).message).toBe('Internal server error')

  const { c, socket } = await pair()
  socket.on('boom', () => {
    throw new Error('sync bug')
  })
  socket.on('async-boom', async () => {
    throw new Error('async bug')
  })
  socket.on('ok', (ack: (v: string) => void) => ack('fine'))
  c.emit('boom')
  c.emit('async-boom')
  expect(await c.timeout(2000).emitWithAck('ok')).toBe('fine')
  expect(calls).toBe(2)
})

test('onAny sees every incoming event with its arguments', async () => {
  srv = startIO()
  const { c, socket } = await pair()
  const seen: unknown[][] = []
  socket.onAny((...args: unknown[]) => seen.push(args))
  const last = once(socket, 'two')
  c.emit('one', 1)
  c.emit('two', { x: 2 })
  await last
  expect(seen).toEqual([
    ['one', 1],
    ['two', { x: 2 }],
  ])
})

test('several engines and IO servers share one Bun.serve and one websocket handler', async () => {
  // A raw Engine.IO endpoint that echoes every message, with a lower limit than the others.
  const echo = createEngine({
    path: '/echo/',
    pingInterval: 25_000,
    pingTimeout: 20_000,
    maxPayload: 100,
    upgradeTimeout: 10_000,
    cors: undefined,
    logger: SILENT_LOGGER,
    onConnection(conn) {
      conn.handler = {
        onmessage: (data) => conn.write([`echo:${data}`]),
        onclose() {},
        onupgrade() {},
      }
    },
  })
  const other = createIO({ path: '/other/' })
  other.on('connection', (socket) =>
    socket.on('ping-me', (ack: (v: string) => void) => ack('other'))
  )
  srv = startIO()
  const serve = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req, server) {
      for (const endpoint of [echo, other, srv.io]) {
        if (endpoint.handles(req)) return endpoint.handleRequest(req, server)
      }
      return new Response('not found', { status: 404 })
    },
    websocket: srv.io.websocket, // the first IO server's handler serves all three
  })
  const base = `127.0.0.1:${serve.port}`
  try {
    const ws = new WebSocket(`ws://${base}/echo/?EIO=4&transport=websocket`)
    const frames: string[] = []
    const closed = new Promise<number>((resolve) => {
      ws.onclose = (event) => resolve(event.code)
    })
    const echoed = new Promise<void>((resolve) => {
      ws.onmessage = (event) => {
        frames.push(String(event.data))
        if (frames.length === 1) ws.send('4hi')
        if (frames.length === 2) resolve()
      }
    })
    await echoed
    expect(frames[0]).toMatch(/^0\{"sid":"[\w-]+","upgrades":\[\],"pingInterval":25000,/)
    expect(frames[1]).toBe('4echo:hi')
    ws.send(`4${'x'.repeat(200)}`) // over this engine's 100, under the handler's 1 MB
    expect(await closed).toBe(1009)

    for (const transports of [['websocket'], ['polling']]) {
      const c = await connect(`http://${base}`, { path: '/other/', transports })
      clients.push(c)
      expect(await c.emitWithAck('ping-me')).toBe('other')
    }
    const main = once<IOSocket>(srv.io, 'connection')
    const c = await connect(`http://${base}`, { transports: ['websocket'] })
    clients.push(c)
    expect((await main).id).toBe(c.id as string)
    expect(other.engine.clientsCount).toBe(2)
  } finally {
    for (const c of clients.splice(0)) c.disconnect()
    await other.close()
    echo.close()
    await serve.stop(true)
  }
})
