/**
 * @module The stock @socket.io/redis-emitter (with the `redis` client its docs use) emitting into
 * the cluster through a real Redis: rooms, except, the whole namespace, other namespaces, binary,
 * and its requests (socketsJoin, socketsLeave, disconnectSockets, serverSideEmit), first against
 * two realtime-layer nodes, then into a city room of two chat server nodes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { Emitter } from '@socket.io/redis-emitter'
import * as msgpack from 'notepack.io'
import { createClient } from 'redis'
import type { Socket } from 'socket.io-client'
import { cityRoom, topicOf, userTopic } from '../../src/chat/rooms.ts'
import type { IOSocket } from '../../src/realtime/index.ts'
import { ask, barrier, chatUser, joinCity } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { connect, once } from '../helpers/realtime.ts'
import { type Node, type Redis, SKIP_REASON, startRedis, useTwoNodes } from './cluster.ts'
import { type IONode, startIONode } from './io-cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

type RedisClient = Awaited<ReturnType<typeof connectedClient>>

const connectedClient = (url: string) => createClient({ url }).connect()

/** The emitter's Redis client, connected, once every node subscribed to the emitter's channels. */
async function emitterClient(url: string, nodes: number): Promise<RedisClient> {
  const client = await connectedClient(url)
  // A restart of Redis is part of a test: the client reconnects by itself.
  client.on('error', () => {})
  await eventually(async () => {
    const counts = await client.pubSubNumSub('socket.io-request#/#')
    return counts['socket.io-request#/#'] === nodes
  })
  return client
}

describe.skipIf(SKIP_REASON !== undefined)('redis-emitter into two realtime nodes', () => {
  let redis: Redis
  let a: IONode
  let b: IONode
  let client: RedisClient
  let emitter: Emitter
  const sockets: Socket[] = []

  beforeAll(async () => {
    redis = await startRedis()
    a = await startIONode(redis.url, 'em-a')
    b = await startIONode(redis.url, 'em-b')
    for (const node of [a, b]) node.io.of('/admin')
    client = await emitterClient(redis.url, 2)
    emitter = new Emitter(client)
  })
  afterAll(async () => {
    await client?.close()
    await Promise.all([a?.stop(), b?.stop()])
    await redis?.stop()
  })
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.disconnect()
  })

  /** A client on `node` (WebSocket or polling) and its server-side socket. */
  const peer = async (node: IONode, transport: 'websocket' | 'polling', nsp = '/') => {
    const server = once<IOSocket>(node.io.of(nsp), 'connection')
    const c = await connect(`${node.url}${nsp === '/' ? '' : nsp}`, { transports: [transport] })
    sockets.push(c)
    return { c, socket: await server, heard: [] as unknown[][] }
  }

  /** Everything the emitter published before reached these clients once their marker did. */
  const drained = async (...peers: { c: Socket }[]) => {
    const markers = peers.map(({ c }) => once(c, 'marker'))
    emitter.emit('marker')
    emitter.of('/admin').emit('marker')
    await Promise.all(markers)
  }

  test('to(room), except(room), every socket, another namespace, binary: on both nodes', async () => {
    const onA = await peer(a, 'websocket')
    const onB = await peer(b, 'polling')
    const vip = await peer(b, 'websocket')
    const outsider = await peer(a, 'polling')
    const admin = await peer(b, 'websocket', '/admin')
    for (const p of [onA, onB, vip]) p.socket.join('room')
    vip.socket.join('vip')
    const all = [onA, onB, vip, outsider, admin]
    for (const p of all) p.c.on('news', (...args: unknown[]) => p.heard.push(args))

    emitter.to('room').emit('news', 'to room', { n: 1 })
    emitter.to('room').except('vip').emit('news', 'except vip')
    emitter.emit('news', 'everyone', Buffer.from([1, 2, 3]))
    emitter.of('/admin').emit('news', 'admins')
    await drained(...all)

    const shown = (p: (typeof all)[number]) =>
      p.heard.map((args) =>
        args.map((arg) =>
          arg instanceof ArrayBuffer || arg instanceof Uint8Array ? [...new Uint8Array(arg)] : arg
        )
      )
    const roomAll = [['to room', { n: 1 }], ['except vip'], ['everyone', [1, 2, 3]]]
    expect(shown(onA)).toEqual(roomAll)
    expect(shown(onB)).toEqual(roomAll)
    expect(shown(vip)).toEqual([
      ['to room', { n: 1 }],
      ['everyone', [1, 2, 3]],
    ])
    expect(shown(outsider)).toEqual([['everyone', [1, 2, 3]]])
    expect(shown(admin)).toEqual([['admins']])
  })

  test('socketsJoin, then an emit at once: the join is carried out first, on both nodes', async () => {
    const onA = await peer(a, 'websocket')
    const onB = await peer(b, 'polling')
    const other = await peer(b, 'websocket')
    for (const p of [onA, onB]) p.socket.join('team')
    const heard: string[] = []
    for (const [name, p] of Object.entries({ onA, onB, other }))
      p.c.on('late', (text: string) => heard.push(`${name}:${text}`))

    emitter.in('team').socketsJoin(['late-room'])
    emitter.to('late-room').emit('late', 'joined')
    emitter.in('team').except(onB.socket.id).socketsLeave('late-room')
    emitter.to('late-room').emit('late', 'after leave')
    await drained(onA, onB, other)
    expect(heard.sort()).toEqual(['onA:joined', 'onB:after leave', 'onB:joined'])
    expect(onB.socket.rooms.has('late-room')).toBe(true)
    expect(onA.socket.rooms.has('late-room')).toBe(false)
    expect(other.socket.rooms.has('late-room')).toBe(false)
  })

  test('disconnectSockets: the matching sockets on both nodes leave, with close the whole session', async () => {
    const onA = await peer(a, 'websocket')
    const onB = await peer(b, 'polling')
    const stays = await peer(a, 'polling')
    onA.socket.join('gone')
    onB.socket.join('gone')
    const reasons = Promise.all([once(onA.c, 'disconnect'), once(onB.c, 'disconnect')])
    emitter.in('gone').disconnectSockets()
    expect(await reasons).toEqual(['io server disconnect', 'io server disconnect'])
    await drained(stays)
    expect(stays.c.connected).toBe(true)

    const closing = await peer(b, 'websocket')
    closing.socket.join('close-me')
    const closed = once(closing.c, 'disconnect')
    emitter.in('close-me').disconnectSockets(true)
    expect(await closed).toBe('io server disconnect')
    // Not only the namespace left: the Engine.IO session is closed too.
    await eventually(() => closing.socket.conn.readyState === 'closed')
  })

  test("serverSideEmit reaches every node's namespace listeners, never a client", async () => {
    const heard: string[] = []
    for (const node of [a, b])
      node.io.on('reload-config', (version: number, extra: unknown) =>
        heard.push(`${node.nodeId}:${version}:${JSON.stringify(extra)}`)
      )
    const c = await peer(a, 'websocket')
    c.c.onAny((event: string) => heard.push(`client:${event}`))
    emitter.serverSideEmit('reload-config', 7, { why: 'test' })
    // Reserved names are never delivered as events.
    client.publish('socket.io-request#/#', JSON.stringify({ type: 6, data: ['connection', 1] }))
    await eventually(() => heard.length >= 2)
    await drained(c)
    expect(heard.sort()).toEqual([
      'client:marker',
      'em-a:7:{"why":"test"}',
      'em-b:7:{"why":"test"}',
    ])
  })

  test('what is not an emitter message is ignored, and the nodes go on', async () => {
    const c = await peer(b, 'websocket')
    c.socket.join('room')
    const news: unknown[] = []
    c.c.on('news', (text: unknown) => news.push(text))
    await client.publish('socket.io#/#', Buffer.from([0xc1, 0xff, 0x00]))
    await client.publish('socket.io#/#', Buffer.from('not msgpack'))
    await client.publish('socket.io-request#/#', '{"type":2,"opts":{"rooms":[{}]},"rooms":["x"]}')
    await client.publish('socket.io-request#/#', 'not json')
    // An event with a reserved name, and one for another namespace on this one's channel.
    const opts = { rooms: [], except: [], flags: {} }
    await client.publish(
      'socket.io#/#',
      Buffer.from(msgpack.encode(['x', { type: 2, nsp: '/', data: ['connect'] }, opts]))
    )
    await client.publish(
      'socket.io#/#',
      Buffer.from(msgpack.encode(['x', { type: 2, nsp: '/admin', data: ['news', 'x'] }, opts]))
    )
    emitter.to('room').emit('news', 'still here')
    await drained(c)
    expect(news).toEqual(['still here'])
  })

  test('after Redis restarts, the nodes subscribe again and the emitter reaches them', async () => {
    const onA = await peer(a, 'websocket')
    const onB = await peer(b, 'polling')
    await redis.stop()
    await redis.start()
    await eventually(async () => {
      const counts = await client.pubSubNumSub('socket.io-request#/#').catch(() => ({}))
      return (counts as Record<string, number>)['socket.io-request#/#'] === 2
    }, 15_000)
    const heard = Promise.all([once(onA.c, 'back'), once(onB.c, 'back')])
    emitter.emit('back', 'again')
    expect(await heard).toEqual(['again', 'again'])
  })
})

describe.skipIf(SKIP_REASON !== undefined)(
  'redis-emitter into a city room of two chat nodes',
  () => {
    const { nodes, track, redisUrl } = useTwoNodes(['emc-a', 'emc-b'])
    let client: RedisClient
    beforeAll(async () => {
      client = await emitterClient(redisUrl(), 2)
    })
    afterAll(async () => {
      await client?.close()
    })

    test("a service's emit to a city reaches its members on both nodes; to a user, that user", async () => {
      const [a, b] = [nodes[0] as Node, nodes[1] as Node]
      const ana = track(await chatUser(a.url))
      const ben = track(await chatUser(b.url, { transports: ['polling'] }))
      const cleo = track(await chatUser(b.url))
      await joinCity(ana, 'mumbai')
      await joinCity(ben, 'mumbai')
      const emitter = new Emitter(client)
      const city = topicOf(cityRoom('mumbai'))
      emitter.to(city).emit('city-announcement', { cityId: 'mumbai', text: 'festival tonight' })
      emitter.to(userTopic(cleo.user._id)).emit('account-notice', { text: 'for cleo' })
      await eventually(() => ana.got('city-announcement').length === 1)
      await eventually(() => ben.got('city-announcement').length === 1)
      await eventually(() => cleo.got('account-notice').length === 1)
      for (const user of [ana, ben, cleo]) await barrier(user.socket)
      expect(ben.got('city-announcement')).toEqual([{ cityId: 'mumbai', text: 'festival tonight' }])
      expect(cleo.got('city-announcement')).toEqual([])
      expect(ana.got('account-notice')).toEqual([])
      // The chat goes on as before for the members.
      const sent = once(ben.socket, 'new-city-message')
      await ask(ana.socket, 'send-city-message', { cityId: 'mumbai', content: 'see you there' })
      expect((await sent) as { content: string }).toMatchObject({ content: 'see you there' })
    })
  }
)
