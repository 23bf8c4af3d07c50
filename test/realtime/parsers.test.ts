/**
 * @module Table-driven tests of both codecs on real byte strings (the ones socket.io-client
 * 4.x and engine.io-client 6.x put on the wire).
 */
import { describe, expect, test } from 'bun:test'
import {
  decodePacket,
  decodePayload,
  encodePacket,
  encodePayload,
} from '../../src/realtime/engine/parser.ts'
import { Decoder, decodeString, encode, PacketType } from '../../src/realtime/io/parser.ts'

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
