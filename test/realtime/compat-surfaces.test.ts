/**
 * @module The socket.io surfaces tools such as @socket.io/admin-ui read, on the layer alone:
 * `nsp.server`, `io._nsps` and `new_namespace`, the adapter's room events, `socket.client.id`,
 * and the Engine.IO session's `connection`, `packet`, `packetCreate`, `upgrade` and `close`.
 */
import { afterEach, expect, test } from 'bun:test'
import type { Namespace } from '../../src/realtime/index.ts'
import { client, once, startIO, type TestServer } from '../helpers/realtime.ts'

let srv: TestServer
afterEach(() => srv?.stop())

test('nsp.server, io._nsps and new_namespace', () => {
  srv = startIO()
  const created: string[] = []
  srv.io.on('new_namespace', (nsp: Namespace) => created.push(nsp.name))
  const admin = srv.io.of('/admin')
  srv.io.of('admin')
  expect(created).toEqual(['/admin'])
  expect(admin.server).toBe(srv.io)
  expect([...srv.io._nsps.keys()]).toEqual(['/', '/admin'])
})

test('the adapter tells create-room, join-room, leave-room and delete-room once each', async () => {
  srv = startIO()
  const seen: string[] = []
  for (const event of ['create-room', 'join-room', 'leave-room', 'delete-room'] as const) {
    srv.io.sockets.adapter.on(event, (room, id) =>
      seen.push(id === undefined ? `${event} ${room}` : `${event} ${room} ${id}`)
    )
  }
  const connected = once<any>(srv.io, 'connection')
  const socket = client(srv.url, { transports: ['websocket'] })
  const server = await connected
  seen.length = 0
  server.join(['a', 'b'])
  server.join('a')
  server.leave('a')
  server.leave('a')
  socket.disconnect()
  await once(server, 'disconnect')
  const id = server.id
  expect(seen).toEqual([
    'create-room a',
    `join-room a ${id}`,
    'create-room b',
    `join-room b ${id}`,
    `leave-room a ${id}`,
    'delete-room a',
    // At the disconnect: its own room, then b.
    `leave-room ${id} ${id}`,
    `delete-room ${id}`,
    `leave-room b ${id}`,
    'delete-room b',
  ])
})

test('socket.client.id and the session events, over polling and its upgrade', async () => {
  srv = startIO()
  const events: string[] = []
  srv.io.engine.on('connection', (conn) => {
    events.push(`connection ${conn.transport.name}`)
    conn.on('upgrade', (transport: { name: string }) => events.push(`upgrade ${transport.name}`))
    conn.on('packet', ({ type }: { type: string }) => events.push(`in ${type}`))
    conn.once('packetCreate', ({ type }: { type: string }) => events.push(`out ${type}`))
    conn.on('close', (reason: string) => events.push(`close ${reason}`))
  })
  const connected = once<any>(srv.io, 'connection')
  const socket = client(srv.url)
  const server = await connected
  expect(server.client.id).toBe(server.conn.id)
  await once(server.conn, 'upgrade')
  const closed = once(server.conn, 'close')
  socket.disconnect()
  await closed
  expect(events[0]).toBe('connection polling')
  expect(events).toContain('in message')
  expect(events.filter((e) => e.startsWith('out '))).toEqual(['out message'])
  expect(events).toContain('upgrade websocket')
  expect(events.at(-1)).toBe('close transport close')
})
