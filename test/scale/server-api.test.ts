/**
 * @module The server API across nodes, with socket.io's semantics through the Redis adapter:
 * fetchSockets (remote sockets with id, handshake, rooms, data, and emit/join/leave/disconnect
 * that reach them), socketsJoin, socketsLeave, disconnectSockets and serverSideEmit with and
 * without acks, on three realtime nodes over a real Redis.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import type { Socket } from 'socket.io-client'
import { createIO, type IOSocket } from '../../src/realtime/index.ts'
import { eventually } from '../helpers/eventually.ts'
import { connect, once } from '../helpers/realtime.ts'
import { type Redis, SKIP_REASON, startRedis } from './cluster.ts'
import { type IONode, startIONode } from './io-cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

describe.skipIf(SKIP_REASON !== undefined)('server API across nodes', () => {
  let redis: Redis
  let a: IONode
  let b: IONode
  let c: IONode
  const sockets: Socket[] = []

  beforeAll(async () => {
    redis = await startRedis()
    const nodes: IONode[] = []
    for (const id of ['api-a', 'api-b', 'api-c']) {
      const node = await startIONode(redis.url, id, {}, { requestsTimeout: 1_000 })
      node.io.use((socket, next) => {
        socket.data = { user: socket.handshake.auth.user, node: id }
        next()
      })
      nodes.push(node)
    }
    ;[a, b, c] = nodes as [IONode, IONode, IONode]
    // Every node is subscribed to the request channel (and so answers) before a test asks.
    const probe = new Bun.RedisClient(redis.url)
    await eventually(async () => {
      const reply = (await probe.send('PUBSUB', ['NUMSUB', 'socket.io-request#/#'])) as unknown[]
      return Number(reply[1]) === 3
    })
    probe.close()
  })
  afterAll(async () => {
    await Promise.all([a, b, c].map((node) => node?.stop()))
    await redis?.stop()
  })
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.disconnect()
  })

  const peer = async (node: IONode, user: string, transport: 'websocket' | 'polling') => {
    const server = once<IOSocket>(node.io, 'connection')
    const client = await connect(node.url, { transports: [transport], auth: { user } })
    sockets.push(client)
    return { client, socket: await server }
  }

  /** Every node handled what was sent before: an ack'd server-side emit to all of them. */
  const settled = async () => {
    expect(await a.io.serverSideEmitWithAck('settle')).toHaveLength(2)
  }
  beforeAll(() => {
    for (const node of [a, b, c]) node.io.on('settle', (ack: (x: string) => void) => ack('ok'))
  })

  test('fetchSockets sees the matching sockets of every node, with their handshake, rooms and data', async () => {
    const ana = await peer(a, 'ana', 'websocket')
    const ben = await peer(b, 'ben', 'polling')
    const cleo = await peer(c, 'cleo', 'websocket')
    const dan = await peer(b, 'dan', 'websocket')
    for (const p of [ana, ben, cleo]) p.socket.join('room')
    dan.socket.join('other')

    const found = await a.io.in('room').fetchSockets()
    const byId = new Map(found.map((s) => [s.id, s]))
    expect([...byId.keys()].sort()).toEqual([ana, ben, cleo].map((p) => p.socket.id).sort())
    // This node's own socket is the socket itself; the others are RemoteSockets.
    expect(byId.get(ana.socket.id)).toBe(ana.socket)
    const remote = byId.get(ben.socket.id)
    expect(remote?.data).toEqual({ user: 'ben', node: 'api-b' })
    expect([...(remote?.rooms ?? [])].sort()).toEqual([ben.socket.id, 'room'].sort())
    expect(remote?.handshake.auth).toEqual({ user: 'ben' })
    expect(remote?.handshake.query.transport).toBe('polling')
    expect(typeof remote?.handshake.headers).toBe('object')

    expect((await b.io.except('room').fetchSockets()).map((s) => s.data.user)).toEqual(['dan'])
    expect((await c.io.fetchSockets()).length).toBe(4)
    expect((await a.io.local.fetchSockets()).map((s) => s.data.user)).toEqual(['ana'])
    expect((await a.io.local.in('room').fetchSockets()).map((s) => s.id)).toEqual([ana.socket.id])
  })

  test("a fetched remote socket's emit, join, leave and disconnect reach it on its node", async () => {
    const ana = await peer(a, 'ana', 'websocket')
    const ben = await peer(b, 'ben', 'polling')
    const [remote] = await a.io.in(ben.socket.id).fetchSockets()
    if (!remote) throw new Error('ben should be found from node a')
    const hello = once(ben.client, 'hello')
    remote.emit('hello', { from: 'a' }, new Uint8Array([7]))
    expect(await hello).toEqual({ from: 'a' })
    expect(() => remote.emit('ask', () => {})).toThrow('acknowledgements are not supported')

    remote.join(['club', 'team'])
    await eventually(() => ben.socket.rooms.has('club') && ben.socket.rooms.has('team'))
    remote.leave('club')
    await eventually(() => !ben.socket.rooms.has('club'))
    expect(ben.socket.rooms.has('team')).toBe(true)

    const gone = once(ben.client, 'disconnect')
    remote.disconnect()
    expect(await gone).toBe('io server disconnect')
    expect(ana.client.connected).toBe(true)
  })

  test('socketsJoin then an emit to that room, socketsLeave, disconnectSockets(close): on every node, in order', async () => {
    const ana = await peer(a, 'ana', 'polling')
    const ben = await peer(b, 'ben', 'websocket')
    const cleo = await peer(c, 'cleo', 'polling')
    for (const p of [ana, ben]) p.socket.join('team')
    const heard: string[] = []
    for (const p of [ana, ben, cleo])
      p.client.on('news', (text: string) => heard.push(`${p.socket.data.user}:${text}`))

    c.io.in('team').socketsJoin('late')
    c.io.to('late').emit('news', 'joined')
    c.io.in('late').except(ana.socket.id).socketsLeave('late')
    c.io.to('late').emit('news', 'after leave')
    await eventually(() => heard.length === 3)
    await settled()
    expect(heard.sort()).toEqual(['ana:after leave', 'ana:joined', 'ben:joined'])

    const closed = Promise.all([once(ana.client, 'disconnect'), once(ben.client, 'disconnect')])
    b.io.in('team').disconnectSockets(true)
    expect(await closed).toEqual(['io server disconnect', 'io server disconnect'])
    await eventually(
      () => ana.socket.conn.readyState === 'closed' && ben.socket.conn.readyState === 'closed'
    )
    expect(cleo.client.connected).toBe(true)
    // local: this node's sockets only.
    const cleoGone = once(cleo.client, 'disconnect')
    a.io.local.disconnectSockets()
    c.io.local.in(cleo.socket.id).disconnectSockets()
    expect(await cleoGone).toBe('io server disconnect')
  })

  test('serverSideEmit reaches the other nodes, never this one or a client; with acks, their answers', async () => {
    const heard: string[] = []
    for (const node of [a, b, c]) {
      node.io.on('config', (version: number) => heard.push(`${node.nodeId}:${version}`))
      node.io.on('count', (ack: (n: unknown) => void) => ack({ node: node.nodeId }))
    }
    const ana = await peer(a, 'ana', 'websocket')
    const clientHeard: string[] = []
    ana.client.onAny((event: string) => clientHeard.push(event))

    a.io.serverSideEmit('config', 3)
    await eventually(() => heard.length === 2)
    const answers = await a.io.serverSideEmitWithAck('count')
    expect((answers as { node: string }[]).map((x) => x.node).sort()).toEqual(['api-b', 'api-c'])
    const viaCallback = await new Promise<unknown[]>((resolve, reject) =>
      b.io.serverSideEmit('count', (err: Error | null, responses: unknown[]) =>
        err ? reject(err) : resolve(responses)
      )
    )
    expect(viaCallback).toHaveLength(2)
    await settled()
    expect(heard.sort()).toEqual(['api-b:3', 'api-c:3'])
    expect(clientHeard).toEqual([])
    expect(() => a.io.serverSideEmit('connection', 1)).toThrow('reserved')
  })

  test('a node that does not answer: the ack gets the timeout error and the answers it had', async () => {
    b.io.on('slow', (ack: (x: string) => void) => ack('b answered'))
    c.io.on('slow', () => {}) // never acks
    const error = (await a.io.serverSideEmitWithAck('slow').catch((e: unknown) => e)) as Error & {
      responses: unknown[]
    }
    expect(error.message).toContain('timeout reached: only 1 responses received out of 2')
    expect(error.responses).toEqual(['b answered'])
  })

  test('on a single node: serverSideEmit acks with no answers, fetchSockets is this node', async () => {
    const io = createIO()
    const responses = await io.serverSideEmitWithAck('anything', 1)
    expect(responses).toEqual([])
    expect(await io.fetchSockets()).toEqual([])
    await io.close()
  })
})
