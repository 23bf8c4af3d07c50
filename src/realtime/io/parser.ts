/**
 * @module Socket.IO v5 packet codec (pure): string header + binary attachments.
 *
 * Spec: https://github.com/socketio/socket.io-protocol (v5) — "Packet format" and
 * "Binary attachments". Validation follows socket.io-parser `Decoder.isPayloadValid`;
 * errors are returned as values so a malformed frame never throws out of the packet loop.
 */

export const PacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const

type PacketTypeValue = (typeof PacketType)[keyof typeof PacketType]

export interface Packet {
  type: PacketTypeValue
  nsp: string
  id?: number
  data?: unknown
  attachments?: number
}

/** The encoder's output: the header string, then each attachment (socket.io-parser order). */
export type EncodedPacket = readonly (string | Uint8Array)[]

/** Event names the protocol reserves (socket.io-parser RESERVED_EVENTS). */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
])

/** socket.io-parser default `maxAttachments`. */
const MAX_ATTACHMENTS = 10

type Binary = Uint8Array | ArrayBuffer | ArrayBufferView

function isBinary(value: unknown): value is Binary {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value)
}

function toBytes(value: Binary): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
}

function hasBinary(value: unknown, toJSON = false): boolean {
  if (!value || typeof value !== 'object') return false
  if (isBinary(value)) return true
  if (Array.isArray(value)) return value.some((item) => hasBinary(item))
  const maybe = value as { toJSON?: unknown }
  if (typeof maybe.toJSON === 'function' && !toJSON) {
    return hasBinary((maybe.toJSON as () => unknown)(), true)
  }
  return Object.values(value).some((item) => hasBinary(item))
}

/** Replaces each binary with `{ _placeholder: true, num }` (spec: "Binary attachments"). */
function deconstruct(value: unknown, buffers: Uint8Array[], toJSON = false): unknown {
  if (!value || typeof value !== 'object') return value
  if (isBinary(value)) {
    buffers.push(toBytes(value))
    return { _placeholder: true, num: buffers.length - 1 }
  }
  if (Array.isArray(value)) return value.map((item) => deconstruct(item, buffers))
  if (value instanceof Date) return value
  const maybe = value as { toJSON?: unknown }
  if (typeof maybe.toJSON === 'function' && !toJSON) {
    return deconstruct((maybe.toJSON as () => unknown)(), buffers, true)
  }
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) out[key] = deconstruct(item, buffers)
  return out
}

function encodeHeader(packet: Packet): string {
  let str = String(packet.type)
  if (packet.type === PacketType.BINARY_EVENT || packet.type === PacketType.BINARY_ACK) {
    str += `${packet.attachments}-`
  }
  if (packet.nsp && packet.nsp !== '/') str += `${packet.nsp},`
  if (packet.id !== undefined) str += packet.id
  if (packet.data !== undefined) str += JSON.stringify(packet.data)
  return str
}

/**
 * An EVENT whose `[event, ...args]` array is already JSON text (no binary): the header and the
 * text, with nothing encoded again.
 */
export function encodeJsonEvent(nsp: string, json: string): EncodedPacket {
  return [encodeHeader({ type: PacketType.EVENT, nsp }) + json]
}

/** An ACK whose arguments array is already JSON text (no binary), likewise. */
export function encodeJsonAck(nsp: string, id: number, json: string): EncodedPacket {
  return [encodeHeader({ type: PacketType.ACK, nsp, id }) + json]
}

/**
 * An ack's one argument already serialized: the socket sends its text as it is (an ack that
 * repeats what a broadcast already serialized, e.g. a sent message's view, is not serialized
 * again). The text must be JSON without binary.
 * @example ack(new JsonText('{"ok":true}'))
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/** Encodes a packet; EVENT/ACK carrying binary become BINARY_EVENT/BINARY_ACK frames. */
export function encode(packet: Packet): EncodedPacket {
  if (
    (packet.type === PacketType.EVENT || packet.type === PacketType.ACK) &&
    hasBinary(packet.data)
  ) {
    const buffers: Uint8Array[] = []
    const data = deconstruct(packet.data, buffers)
    const type = packet.type === PacketType.EVENT ? PacketType.BINARY_EVENT : PacketType.BINARY_ACK
    const header = encodeHeader({ ...packet, type, data, attachments: buffers.length })
    return [header, ...buffers]
  }
  return [encodeHeader(packet)]
}

export type DecodeResult = { ok: true; packet: Packet | undefined } | { ok: false; error: string }

const bad = (error: string): DecodeResult => ({ ok: false, error })

function isObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === '[object Object]'
}

function isPayloadValid(type: PacketTypeValue, payload: unknown): boolean {
  switch (type) {
    case PacketType.CONNECT:
      return isObject(payload)
    case PacketType.DISCONNECT:
      return payload === undefined
    case PacketType.CONNECT_ERROR:
      return typeof payload === 'string' || isObject(payload)
    case PacketType.EVENT:
    case PacketType.BINARY_EVENT: {
      if (!Array.isArray(payload)) return false
      const name: unknown = payload[0]
      return typeof name === 'number' || (typeof name === 'string' && !RESERVED_EVENTS.has(name))
    }
    case PacketType.ACK:
    case PacketType.BINARY_ACK:
      return Array.isArray(payload)
  }
}

/**
 * A packet object decoded by another parser (the `parser` option, io/codec.ts), checked by the
 * rules the string decoder applies: its type, namespace, ack id and payload. Undefined when bad.
 */
export function validPacket(value: unknown): Packet | undefined {
  if (!isObject(value)) return undefined
  const { type, nsp, id, data } = value
  if (typeof type !== 'number' || !Number.isInteger(type) || type < 0 || type > 6) return undefined
  if (typeof nsp !== 'string' || !nsp.startsWith('/')) return undefined
  if (id !== undefined && (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0))
    return undefined
  const kind = type as PacketTypeValue
  // A CONNECT without auth carries no payload; every other type's payload is checked.
  if (!(data === undefined && kind === PacketType.CONNECT) && !isPayloadValid(kind, data))
    return undefined
  const packet: Packet = { type: kind, nsp }
  if (id !== undefined) packet.id = id
  if (data !== undefined) packet.data = data
  return packet
}

const isDigit = (code: number) => code >= 48 && code <= 57

/** Decodes a header string (socket.io-parser `decodeString`). */
export function decodeString(str: string): DecodeResult {
  const type = str.charCodeAt(0) - 48
  if (!(type >= 0 && type <= 6)) return bad(`unknown packet type ${str.charAt(0)}`)
  const packet: Packet = { type: type as PacketTypeValue, nsp: '/' }
  let i = 1
  if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) {
    const dash = str.indexOf('-', i)
    const count = dash === -1 ? Number.NaN : Number(str.slice(i, dash))
    if (!Number.isInteger(count) || count < 1 || !/^\d+$/.test(str.slice(i, dash))) {
      return bad('illegal attachments')
    }
    if (count > MAX_ATTACHMENTS) return bad('too many attachments')
    packet.attachments = count
    i = dash + 1
  }
  if (str.charAt(i) === '/') {
    const comma = str.indexOf(',', i)
    const end = comma === -1 ? str.length : comma
    packet.nsp = str.slice(i, end)
    i = comma === -1 ? end : end + 1
  }
  const idStart = i
  while (i < str.length && isDigit(str.charCodeAt(i))) i++
  if (i > idStart) {
    const id = Number(str.slice(idStart, i))
    if (!Number.isSafeInteger(id)) return bad('invalid ack id')
    packet.id = id
  }
  if (i < str.length) {
    let payload: unknown
    try {
      payload = JSON.parse(str.slice(i))
    } catch {
      return bad('invalid payload')
    }
    if (!isPayloadValid(packet.type, payload)) return bad('invalid payload')
    packet.data = payload
  }
  return { ok: true, packet }
}

function reconstruct(value: unknown, buffers: Uint8Array[]): unknown {
  if (!value || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reconstruct(value[i], buffers)
    return value
  }
  const record = value as Record<string, unknown>
  if (record._placeholder === true) {
    const num = record.num
    if (typeof num === 'number' && Number.isInteger(num) && num >= 0 && num < buffers.length) {
      return buffers[num]
    }
    throw new RangeError('illegal attachments')
  }
  for (const key of Object.keys(record)) record[key] = reconstruct(record[key], buffers)
  return record
}

/**
 * Stateful decoder for one connection: a BINARY_* header is held until its attachments
 * arrive (spec: "Binary attachments"). A text frame mid-reconstruction, a binary frame
 * outside one, or a placeholder pointing past the attachments is an error.
 */
export class Decoder {
  private pending: Packet | undefined
  private buffers: Uint8Array[] | undefined

  add(frame: string | Uint8Array): DecodeResult {
    if (typeof frame === 'string') {
      if (this.pending) return bad('got plaintext data when reconstructing a packet')
      const result = decodeString(frame)
      if (!result.ok || !result.packet) return result
      const packet = result.packet
      if (packet.type !== PacketType.BINARY_EVENT && packet.type !== PacketType.BINARY_ACK) {
        return result
      }
      this.pending = packet
      return { ok: true, packet: undefined }
    }
    const packet = this.pending
    if (!packet) return bad('got binary data when not reconstructing a packet')
    this.buffers ??= []
    const buffers = this.buffers
    buffers.push(frame)
    if (buffers.length < (packet.attachments ?? 0)) return { ok: true, packet: undefined }
    this.reset()
    try {
      packet.data = reconstruct(packet.data, buffers)
    } catch {
      return bad('illegal attachments')
    }
    packet.type = packet.type === PacketType.BINARY_EVENT ? PacketType.EVENT : PacketType.ACK
    delete packet.attachments
    return { ok: true, packet }
  }

  reset(): void {
    this.pending = undefined
    this.buffers = undefined
  }
}
