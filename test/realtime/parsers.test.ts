/**
 * @module Table-driven tests of both codecs on real byte strings (the ones socket.io-client
 * 4.x and engine.io-client 6.x put on the wire), and the `parser` option with the official client
 * speaking socket.io-msgpack-parser or socket.io-parser over every transport.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import type { Socket } from 'socket.io-client'
import * as msgpackParser from 'socket.io-msgpack-parser'
import * as officialParser from 'socket.io-parser'
import {
  decodePacket,
  decodePayload,
  encodePacket,
  encodePayload,
} from '../../src/realtime/engine/parser.ts'
import {
  type IOServer,
  type IOSocket,
  JsonText,
  type LoggedEvent,
  type Parser,
  type SavedSession,
} from '../../src/realtime/index.ts'
import { createCodec, DEFAULT_CODEC } from '../../src/realtime/io/codec.ts'
import { Decoder, decodeString, encode, PacketType } from '../../src/realtime/io/parser.ts'
import { eventually } from '../helpers/eventually.ts'
import {
  type ClientOptions,
  client,
  connect,
  once,
  settled,
  startIO,
  type TestServer,
  TRANSPORTS,
  wsOpen,
} from '../helpers/realtime.ts'

describe('engine.io parser', () => {
  test.each([
    ['0{"sid":"x"}', { type: 'open', data: '{"sid":"x"}' }],
    ['1', { type: 'close' }],
    ['2', { type: 'ping' }],
    ['2probe', { type: 'ping', data: 'probe' }],
    ['3probe', { type: 'pong', data: 'probe' }],
    ['42["a",1]', { type: 'message', data: '2["a",1]' }],
    ['5', { type: 'upgrade' }],
    ['6', { type: 'noop' }],
  ] as const)('decodes %p', (raw, packet) => {
    expect(decodePacket(raw)).toEqual(packet)
    expect(encodePacket(packet)).toBe(raw)
  })

  test.each(['', '7', '9x', 'x', '/', 'b!!!', 'bA'])('refuses %p', (raw) => {
    expect(decodePacket(raw)).toBeUndefined()
  })

  test('binary: raw bytes on websocket, b+base64 in a payload', () => {
    const bytes = new Uint8Array([1, 2, 3])
    expect(decodePacket(bytes)).toEqual({ type: 'message', data: bytes })
    expect(encodePacket({ type: 'message', data: bytes })).toBe(bytes)
    const decoded = decodePacket('bAQID')
    expect(decoded?.type).toBe('message')
    expect([...((decoded?.data ?? []) as Uint8Array)]).toEqual([1, 2, 3])
  })

  test.each([
    ['4hello\x1e2\x1ebAQID', ['message', 'ping', 'message'], true],
    ['6', ['noop'], true],
    ['4a\x1e9\x1e4b', ['message'], false],
    ['', [], false],
  ] as const)('payload %p', (payload, types, ok) => {
    const result = decodePayload(payload)
    expect(result.ok).toBe(ok)
    expect(result.packets.map((p) => p.type)).toEqual([...types])
  })

  test('encodes a payload with the record separator', () => {
    const payload = encodePayload([
      { type: 'message', data: '2["x"]' },
      { type: 'message', data: new Uint8Array([255]) },
      { type: 'ping' },
    ])
    expect(payload).toBe('42["x"]\x1eb/w==\x1e2')
  })
})

describe('socket.io parser', () => {
  test.each([
    ['0', { type: PacketType.CONNECT, nsp: '/' }],
    ['0{"token":"t"}', { type: PacketType.CONNECT, nsp: '/', data: { token: 't' } }],
    ['0/admin,', { type: PacketType.CONNECT, nsp: '/admin' }],
    ['0/admin,{"a":1}', { type: PacketType.CONNECT, nsp: '/admin', data: { a: 1 } }],
    ['1', { type: PacketType.DISCONNECT, nsp: '/' }],
    ['1/admin,', { type: PacketType.DISCONNECT, nsp: '/admin' }],
    ['2["hello",1]', { type: PacketType.EVENT, nsp: '/', data: ['hello', 1] }],
    ['2/admin,12["q"]', { type: PacketType.EVENT, nsp: '/admin', id: 12, data: ['q'] }],
    ['212["q",{"x":[1]}]', { type: PacketType.EVENT, nsp: '/', id: 12, data: ['q', { x: [1] }] }],
    ['31["ok"]', { type: PacketType.ACK, nsp: '/', id: 1, data: ['ok'] }],
    ['4{"message":"no"}', { type: PacketType.CONNECT_ERROR, nsp: '/', data: { message: 'no' } }],
  ] as const)('decodes %p', (raw, packet) => {
    expect(decodeString(raw)).toEqual({ ok: true, packet })
  })

  test.each([
    ['9', 'unknown packet type'],
    ['x', 'unknown packet type'],
    ['2["a"', 'invalid payload'],
    ['2{"a":1}', 'invalid payload'],
    ['2[]', 'invalid payload'],
    ['2[{}]', 'invalid payload'],
    ['2["connect"]', 'invalid payload'],
    ['2["disconnect"]', 'invalid payload'],
    ['0"token"', 'invalid payload'],
    ['1{}', 'invalid payload'],
    ['3{"a":1}', 'invalid payload'],
    ['5["a",{"_placeholder":true,"num":0}]', 'illegal attachments'],
    ['5x-["a"]', 'illegal attachments'],
    ['50-["a"]', 'illegal attachments'],
    ['511-["a"]', 'too many attachments'],
    ['299999999999999999999["a"]', 'invalid ack id'],
  ])('refuses %p', (raw, error) => {
    const result = decodeString(raw)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error).toContain(error)
  })

  test.each([
    [{ type: PacketType.CONNECT, nsp: '/', data: { sid: 'abc' } }, ['0{"sid":"abc"}']],
    [
      { type: PacketType.CONNECT_ERROR, nsp: '/x', data: { message: 'm' } },
      ['4/x,{"message":"m"}'],
    ],
    [{ type: PacketType.EVENT, nsp: '/', data: ['e', 'v'] }, ['2["e","v"]']],
    [{ type: PacketType.EVENT, nsp: '/', id: 7, data: ['e'] }, ['27["e"]']],
    [{ type: PacketType.ACK, nsp: '/admin', id: 3, data: [] }, ['3/admin,3[]']],
    [{ type: PacketType.DISCONNECT, nsp: '/' }, ['1']],
  ] as const)('encodes %j', (packet, frames) => {
    expect(encode(packet)).toEqual([...frames])
  })

  test('encodes nested binary as BINARY_EVENT / BINARY_ACK with placeholders', () => {
    const a = new Uint8Array([1])
    const b = new Uint8Array([2, 3]).buffer
    const frames = encode({ type: PacketType.EVENT, nsp: '/', data: ['up', { a, list: [b] }] })
    expect(frames[0]).toBe(
      '52-["up",{"a":{"_placeholder":true,"num":0},"list":[{"_placeholder":true,"num":1}]}]'
    )
    expect(frames.slice(1).map((f) => [...(f as Uint8Array)])).toEqual([[1], [2, 3]])
    const ack = encode({ type: PacketType.ACK, nsp: '/', id: 4, data: [a] })
    expect(ack[0]).toBe('61-4[{"_placeholder":true,"num":0}]')
  })

  test('the decoder reassembles attachments, in order', () => {
    const decoder = new Decoder()
    expect(
      decoder.add('52-["up",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]')
    ).toEqual({
      ok: true,
      packet: undefined,
    })
    expect(decoder.add(new Uint8Array([10]))).toEqual({ ok: true, packet: undefined })
    const result = decoder.add(new Uint8Array([20]))
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.packet?.type).toBe(PacketType.EVENT)
    const [name, first, second] = (result.packet?.data ?? []) as [string, Uint8Array, Uint8Array]
    expect(name).toBe('up')
    expect([...first]).toEqual([20])
    expect([...second]).toEqual([10])
  })

  test.each([
    ['text while waiting for attachments', ['51-["x",{"_placeholder":true,"num":0}]', '2["y"]']],
    ['binary without a header', [new Uint8Array([1])]],
    [
      'placeholder past the attachments',
      ['51-["x",{"_placeholder":true,"num":3}]', new Uint8Array([1])],
    ],
    [
      'placeholder with a bad num',
      ['51-["x",{"_placeholder":true,"num":"0"}]', new Uint8Array([1])],
    ],
  ] as const)('the decoder refuses %s', (_label, frames) => {
    const decoder = new Decoder()
    const results = frames.map((frame) => decoder.add(frame))
    expect(results.at(-1)?.ok).toBe(false)
  })
})

/**
 * The `parser` option, as socket.io takes it, against the official client using the same parser:
 * socket.io-msgpack-parser (one binary frame per packet, so polling carries it as base64) and the
 * official socket.io-parser itself (binary attachments as frames of their own).
 */
describe.each([
  ['socket.io-msgpack-parser', msgpackParser as unknown as Parser],
  ['socket.io-parser', officialParser as unknown as Parser],
])('custom parser %s', (_name, parser) => {
  let srv: TestServer | undefined
  const clients: Socket[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect()
    await srv?.stop()
    srv = undefined
  })

  const join = async (options: ClientOptions) => {
    const server = once<IOSocket>(srv?.io as IOServer, 'connection')
    const c = await connect(srv?.url ?? '', { parser, ...options })
    clients.push(c)
    await settled(c)
    return { c, socket: await server }
  }

  describe.each(TRANSPORTS)('over $name', ({ options }) => {
    test('CONNECT with auth, acks both ways, binary both ways', async () => {
      srv = startIO({ parser })
      srv.io.use((socket, next) =>
        socket.handshake.auth.token === 't' ? next() : next(new Error('no token'))
      )
      const refused = client(srv.url, { parser, ...options, auth: { token: 'x' } })
      clients.push(refused)
      expect((await once<Error>(refused, 'connect_error')).message).toBe('no token')

      const { c, socket } = await join({ ...options, auth: { token: 't' } })
      expect(c.connected).toBe(true)
      socket.on('echo', (value: unknown, ack: (v: unknown) => void) => ack(value))
      const bytes = new Uint8Array([0, 1, 2, 253, 254, 255])
      expect(await c.timeout(2000).emitWithAck('echo', { a: [1, 'b'] })).toEqual({ a: [1, 'b'] })
      const echoed = (await c.timeout(2000).emitWithAck('echo', bytes)) as ArrayBuffer
      expect([...new Uint8Array(echoed)]).toEqual([...bytes])

      c.on('ask', (n: number, ack: (v: unknown) => void) => ack({ n: n + 1, bin: bytes }))
      const answer = (await socket.timeout(2000).emitWithAck('ask', 41)) as {
        n: number
        bin: Uint8Array
      }
      expect(answer.n).toBe(42)
      expect([...new Uint8Array(answer.bin)]).toEqual([...bytes])
    })
  })

  test('an ack given as JSON text reaches the client as the value it encodes', async () => {
    srv = startIO({ parser })
    const { c, socket } = await join({ transports: ['websocket'] })
    socket.on('view', (ack: (v: unknown) => void) =>
      ack(new JsonText('{"ok":true,"message":{"_id":"m1","mentions":[]},"duplicate":false}'))
    )
    expect(await c.timeout(2000).emitWithAck('view')).toEqual({
      ok: true,
      message: { _id: 'm1', mentions: [] },
      duplicate: false,
    })
  })

  test('a room broadcast reaches WebSocket and polling members once each, binary included', async () => {
    srv = startIO({ parser })
    const ws = await join({ transports: ['websocket'] })
    const poll = await join({ transports: ['polling'] })
    const outsider = await join({})
    ws.socket.join('room')
    poll.socket.join('room')
    const seen: string[] = []
    for (const [name, peer] of Object.entries({ ws, poll, outsider })) {
      peer.c.on('news', (text: string, bin: ArrayBuffer) =>
        seen.push(`${name}:${text}:${[...new Uint8Array(bin)].join(',')}`)
      )
    }
    srv.io.to('room').emit('news', 'io', new Uint8Array([1, 2]))
    ws.socket.to('room').emit('news', 'from ws', new Uint8Array([3]))
    srv.io.to('room').emitJson('["news","json",null]')
    const done = Promise.all([ws, poll].map((peer) => once(peer.c, 'done')))
    srv.io.to('room').emit('done')
    await done
    expect(seen.sort()).toEqual([
      'poll:from ws:3',
      'poll:io:1,2',
      'poll:json:',
      'ws:io:1,2',
      'ws:json:',
    ])
  })

  test('recovery: offsets ride as the last argument, a reconnect replays what was missed', async () => {
    const saved = new Map<string, SavedSession>()
    const log: LoggedEvent[] = []
    srv = startIO({
      parser,
      recovery: {
        save: (session) => void saved.set(session.pid, session),
        restore({ pid, offset }) {
          const session = saved.get(pid)
          if (!session) return undefined
          const missed = log.filter((event) => event.offset > Number(offset))
          return { id: session.id, rooms: session.rooms, missed }
        },
      },
    })
    const broadcast = (offset: number, text: string) => {
      const json = JSON.stringify(['news', text])
      log.push({ json, offset })
      srv?.io.to('room').emitJson(json, offset)
    }
    const member = await join({ transports: ['websocket'] })
    const plain = await join({ transports: ['polling'], auth: { offsets: false } })
    member.socket.join('room')
    plain.socket.join('room')
    const heard: unknown[][] = []
    const plainHeard: unknown[][] = []
    member.c.on('news', (...args: unknown[]) => heard.push(args))
    plain.c.on('news', (...args: unknown[]) => plainHeard.push(args))
    const both = Promise.all([once(member.c, 'news'), once(plain.c, 'news')])
    broadcast(1, 'one')
    await both
    expect(heard).toEqual([['one', '1']])
    expect(plainHeard).toEqual([['one']])

    const gone = once(member.c, 'disconnect')
    member.c.io.engine.close()
    await gone
    await eventually(() => saved.size === 1)
    broadcast(2, 'two')
    broadcast(3, 'three')
    const back = once(member.c, 'connect')
    member.c.connect()
    await back
    expect(member.c.recovered).toBe(true)
    await eventually(() => heard.length === 3)
    broadcast(4, 'four')
    await eventually(() => heard.length === 4)
    expect(heard).toEqual([
      ['one', '1'],
      ['two', '2'],
      ['three', '3'],
      ['four', '4'],
    ])
    await eventually(() => plainHeard.length === 4)
    expect(plainHeard).toEqual([['one'], ['two'], ['three'], ['four']])
  })

  test('a frame the parser cannot read closes that session only', async () => {
    srv = startIO({ parser })
    const ws = await wsOpen(srv.url)
    expect(String(await ws.next())).toStartWith('0{')
    // A msgpack map with an unknown packet type, or a text frame the msgpack decoder cannot read.
    ws.send(new Uint8Array([0x4, 0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0x09]))
    ws.send('4not a packet')
    expect(await ws.closed).toBeGreaterThan(0)
    const { c } = await join({})
    expect(c.connected).toBe(true)
  })
})

describe('the built-in codec', () => {
  let srv: TestServer | undefined
  afterEach(async () => {
    await srv?.stop()
    srv = undefined
  })

  test('an ack given as JSON text goes out as its text, one given as values is serialized', async () => {
    expect(DEFAULT_CODEC.encodeJsonAck('/', 7, '[{"ok":true}]')).toEqual(['37[{"ok":true}]'])
    expect(DEFAULT_CODEC.encodeJsonAck('/chat', 0, '[1]')).toEqual(['3/chat,0[1]'])
    srv = startIO()
    const server = once<IOSocket>(srv.io, 'connection')
    const c = await connect(srv.url, { transports: ['polling'] })
    await settled(c)
    const socket = await server
    socket.on('text', (ack: (v: unknown) => void) => ack(new JsonText('{"a":[1,"b"],"n":null}')))
    socket.on('values', (ack: (...v: unknown[]) => void) => ack(new JsonText('{"a":1}'), 2))
    expect(await c.timeout(2000).emitWithAck('text')).toEqual({ a: [1, 'b'], n: null })
    // More than one argument: each serialized as it is (a JsonText then as its fields).
    const both = await new Promise<unknown[]>((resolve) =>
      c.emit('values', (...args: unknown[]) => resolve(args))
    )
    expect(both).toEqual([{ text: '{"a":1}' }, 2])
    c.disconnect()
  })
})

describe('custom decoder checks what it decoded, as the built-in decoder does', () => {
  const encoder = new msgpackParser.Encoder()
  const frame = (packet: unknown) => (encoder.encode(packet) as unknown as Uint8Array[])[0]
  test.each([
    ['an unknown type', { type: 9, nsp: '/', data: [] }],
    ['a reserved event name', { type: 2, nsp: '/', data: ['connect'] }],
    ['an event that is no array', { type: 2, nsp: '/', data: { a: 1 } }],
    ['a negative ack id', { type: 3, nsp: '/', id: -1, data: [] }],
    ['a namespace without its slash', { type: 2, nsp: 'admin', data: ['a'] }],
    ['a CONNECT whose auth is no object', { type: 0, nsp: '/', data: 'token' }],
  ])('refuses %s', (_label, packet) => {
    const decoder = createCodec(msgpackParser as unknown as Parser).createDecoder()
    expect(decoder.add(frame(packet) as Uint8Array).ok).toBe(false)
  })

  test.each([
    [{ type: 0, nsp: '/' }],
    [{ type: 0, nsp: '/admin', data: { token: 't' } }],
    [{ type: 2, nsp: '/', id: 3, data: ['hello', 1] }],
    [{ type: 1, nsp: '/' }],
  ])('accepts %j', (packet) => {
    const decoder = createCodec(msgpackParser as unknown as Parser).createDecoder()
    expect(decoder.add(frame(packet) as Uint8Array)).toEqual({ ok: true, packet } as never)
  })
})
