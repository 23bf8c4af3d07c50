/**
 * @module The behaviour suite, run with the official socket.io-client over every transport
 * (websocket only, polling only, polling then upgrade). `transports.test.ts` points it at our
 * layer; `official.test.ts` points it at the official socket.io server, so every expectation
 * here is the reference behaviour, not our own guess.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import type { Socket } from 'socket.io-client'
import type { IOSocket } from '../../src/realtime/index.ts'
import {
  type ClientOptions,
  client,
  connect,
  once,
  onceAll,
  settled,
  type TestServer,
  TRANSPORTS,
} from '../helpers/realtime.ts'
import { rejectionOf } from '../helpers/rejection.ts'

export type StartServer = (options?: { pingInterval?: number; pingTimeout?: number }) => TestServer

export function transportSuite(startIO: StartServer): void {
  let srv: TestServer | undefined
  const clients: Socket[] = []

  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect()
    await srv?.stop()
    srv = undefined
  })

  function track(socket: Socket): Socket {
    clients.push(socket)
    return socket
  }

  /** Resolves with the server-side socket of the next connection. */
  function nextConnection(s: TestServer): Promise<IOSocket> {
    return new Promise((resolve) => {
      const listener = (socket: IOSocket) => {
        s.io.off('connection', listener)
        resolve(socket)
      }
      s.io.on('connection', listener)
    })
  }

  describe.each(TRANSPORTS)('over $name', ({ name, options }) => {
    const open = async (extra: ClientOptions = {}) => {
      const s = srv ?? startIO()
      srv = s
      const server = nextConnection(s)
      const c = track(await connect(s.url, { ...options, ...extra }))
      await settled(c)
      const socket = await server
      // One round trip: the server has seen everything the client sent (incl. `upgrade`).
      const synced = once(socket, 'sync')
      c.emit('sync')
      await synced
      return { c, socket }
    }

    test('connects with auth; middleware sees it and sets socket.data', async () => {
      srv = startIO()
      srv.io.use((socket, next) => {
        socket.data.token = socket.handshake.auth.token
        next()
      })
      const { c, socket } = await open({ auth: { token: 'abc' } })
      expect(c.id).toBe(socket.id)
      expect(socket.data.token).toBe('abc')
      expect(socket.handshake.auth).toEqual({ token: 'abc' })
      expect(socket.rooms).toEqual(new Set([socket.id]))
      expect(socket.conn.transport.name).toBe(name === 'polling' ? 'polling' : 'websocket')
      expect(srv.io.engine.clientsCount).toBe(1)
    })

    test('a middleware next(err) refuses with CONNECT_ERROR { message, data }', async () => {
      srv = startIO()
      srv.io.use((_socket, next) => {
        const err = Object.assign(new Error('Authentication error'), {
          data: { code: 'unauthorized' },
        })
        next(err)
      })
      const c = track(client(srv.url, options))
      const err = await once<Error & { data?: unknown }>(c, 'connect_error')
      expect(err.message).toBe('Authentication error')
      expect(err.data).toEqual({ code: 'unauthorized' })
      expect(c.connected).toBe(false)
    })

    test('events flow both ways', async () => {
      const { c, socket } = await open()
      const received = once(socket, 'hello')
      c.emit('hello', { text: 'hi', n: 1 })
      expect(await received).toEqual({ text: 'hi', n: 1 })
      const back = onceAll(c, 'welcome')
      socket.emit('welcome', 'a', 2, [3])
      expect(await back).toEqual(['a', 2, [3]])
    })

    test('acks both ways, and an unanswered server ack times out', async () => {
      const { c, socket } = await open()
      socket.on('sum', (a: number, b: number, ack: (n: number) => void) => ack(a + b))
      expect(await c.timeout(2000).emitWithAck('sum', 2, 3)).toBe(5)

      c.on('ask', (q: string, ack: (a: string) => void) => ack(`${q}!`))
      expect(await socket.timeout(2000).emitWithAck('ask', 'why')).toBe('why!')

      c.on('ignored', () => {})
      expect((await rejectionOf(socket.timeout(50).emitWithAck('ignored'))).message).toContain(
        'operation has timed out'
      )
    })

    test('binary round trip with nested Buffer, Uint8Array and ArrayBuffer', async () => {
      const { c, socket } = await open()
      socket.on('bin', (payload: unknown, ack: (p: unknown) => void) => ack(payload))
      const payload = {
        a: Buffer.from([1, 2, 3]),
        nested: { list: [new Uint8Array([4, 5]), 'text', new Uint8Array([6]).buffer] },
      }
      const echoed = (await c.timeout(2000).emitWithAck('bin', payload)) as {
        a: Uint8Array
        nested: { list: [Uint8Array, string, Uint8Array] }
      }
      expect([...echoed.a]).toEqual([1, 2, 3])
      expect([...echoed.nested.list[0]]).toEqual([4, 5])
      expect(echoed.nested.list[1]).toBe('text')
      expect([...new Uint8Array(echoed.nested.list[2])]).toEqual([6])

      const pushed = onceAll(c, 'file')
      socket.emit('file', 'name.bin', new Uint8Array([9, 8, 7]))
      const [fileName, bytes] = (await pushed) as [string, Uint8Array]
      expect(fileName).toBe('name.bin')
      expect([...new Uint8Array(bytes)]).toEqual([9, 8, 7])
    })

    test('rooms: io.to reaches members, socket.to excludes the sender, leave stops delivery', async () => {
      const a = await open()
      const b = await open()
      const outsider = await open()
      a.socket.join('r')
      b.socket.join(['r', 'other'])
      const seen: string[] = []
      for (const [label, peer] of [
        ['a', a],
        ['b', b],
        ['outsider', outsider],
      ] as const) {
        peer.c.on('news', (text: string) => seen.push(`${label}:${text}`))
      }
      const marker = (peer: { c: Socket; socket: IOSocket }) => {
        const p = once(peer.c, 'marker')
        peer.socket.emit('marker')
        return p
      }
      srv?.io.to('r').emit('news', 'all')
      await Promise.all([marker(a), marker(b), marker(outsider)])
      expect(seen.sort()).toEqual(['a:all', 'b:all'])

      seen.length = 0
      a.socket.to('r').emit('news', 'from-a')
      await Promise.all([marker(a), marker(b), marker(outsider)])
      expect(seen).toEqual(['b:from-a'])

      seen.length = 0
      b.socket.leave('r')
      srv?.io.to('r').emit('news', 'after-leave')
      srv?.io.to(['r', 'other']).emit('news', 'union')
      srv?.io.except('other').emit('news', 'except')
      await Promise.all([marker(a), marker(b), marker(outsider)])
      expect(seen.sort()).toEqual([
        'a:after-leave',
        'a:except',
        'a:union',
        'b:union',
        'outsider:except',
      ])
      const inRoom = await srv?.io.in('r').fetchSockets()
      expect(inRoom?.map((s) => s.id)).toEqual([a.socket.id])
    })

    test('binary broadcast keeps frame order for every member', async () => {
      const a = await open()
      const b = await open()
      a.socket.join('bin')
      b.socket.join('bin')
      const got = [once<Uint8Array>(a.c, 'blob'), once<Uint8Array>(b.c, 'blob')]
      srv?.io.to('bin').emit('blob', new Uint8Array([1, 2, 3, 4]))
      for (const bytes of await Promise.all(got))
        expect([...new Uint8Array(bytes)]).toEqual([1, 2, 3, 4])
    })

    test('client disconnect reaches the server', async () => {
      const { c, socket } = await open()
      const reason = once(socket, 'disconnect')
      c.disconnect()
      expect(await reason).toBe('client namespace disconnect')
      expect(await srv?.io.fetchSockets()).toEqual([])
    })

    test('server disconnect reaches the client, with and without closing the connection', async () => {
      const first = await open()
      const clientReason = once(first.c, 'disconnect')
      const serverReason = once(first.socket, 'disconnect')
      first.socket.disconnect()
      expect(await clientReason).toBe('io server disconnect')
      expect(await serverReason).toBe('server namespace disconnect')

      const second = await open()
      const closed = once(second.c, 'disconnect')
      second.socket.disconnect(true)
      expect(await closed).toBe('io server disconnect')
    })

    test('the client reconnects after a server-side close of the connection', async () => {
      const first = await open({
        reconnection: true,
        reconnectionDelay: 10,
        reconnectionDelayMax: 20,
      })
      const reason = once(first.c, 'disconnect')
      const again = nextConnection(srv as TestServer)
      first.socket.conn.close()
      expect(await reason).toBe('transport close')
      const socket = await again
      if (!first.c.connected) await once(first.c, 'connect')
      expect(first.c.id).toBe(socket.id)
      expect(socket.id).not.toBe(first.socket.id)
    })

    test('a client that stops answering pings is dropped with "ping timeout"', async () => {
      srv = startIO({ pingInterval: 40, pingTimeout: 60 })
      const { c, socket } = await open()
      // Mute the client's engine (private `_sendPacket`): it still sees pings, never pongs.
      ;(c.io.engine as unknown as { _sendPacket: () => void })._sendPacket = () => {}
      expect(await once(socket, 'disconnect')).toBe('ping timeout')
      expect(srv.io.engine.clientsCount).toBe(0)
    })

    test('io.close() disconnects every socket with "server shutting down"', async () => {
      const { c, socket } = await open()
      const serverReason = once(socket, 'disconnect')
      const clientReason = once(c, 'disconnect')
      await srv?.io.close()
      expect(await serverReason).toBe('server shutting down')
      expect(await clientReason).toBe('transport close')
    })
  })
}
