/**
 * @module Engine.IO v4 packet and payload codec (pure, no I/O).
 *
 * Spec: https://github.com/socketio/engine.io-protocol (v4) — "Packet encoding" and
 * "Packet payload" sections. A packet is one type digit followed by its data; binary
 * data travels raw over WebSocket and as `b<base64>` inside an HTTP long-polling payload,
 * where packets are joined by the record separator `\x1e`.
 */

/** Packet type names, in the order of their wire digit ('0'..'6'). */
const PACKET_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'] as const

type EnginePacketType = (typeof PACKET_TYPES)[number]

export interface EnginePacket {
  type: EnginePacketType
  data?: string | Uint8Array
}

/** Joins packets in a polling payload (spec: "Packet payload"). */
const SEPARATOR = '\x1e'

const TYPE_DIGIT: Record<EnginePacketType, string> = {
  open: '0',
  close: '1',
  ping: '2',
  pong: '3',
  message: '4',
  upgrade: '5',
  noop: '6',
}

/** Encodes one packet for a WebSocket frame: binary message data is sent as-is. */
export function encodePacket(packet: EnginePacket): string | Uint8Array {
  if (packet.data instanceof Uint8Array) return packet.data
  return TYPE_DIGIT[packet.type] + (packet.data ?? '')
}

/** Encodes one packet for a polling payload: binary becomes `b` + base64. */
function encodePacketText(packet: EnginePacket): string {
  if (packet.data instanceof Uint8Array) return `b${toBase64(packet.data)}`
  return TYPE_DIGIT[packet.type] + (packet.data ?? '')
}

export function encodePayload(packets: readonly EnginePacket[]): string {
  let out = ''
  for (let i = 0; i < packets.length; i++) {
    if (i > 0) out += SEPARATOR
    out += encodePacketText(packets[i] as EnginePacket)
  }
  return out
}

/**
 * Decodes one WebSocket frame or one payload segment.
 * Returns undefined for anything the spec does not define (the caller answers with a
 * "parse error" close, as the official server does for its `error` packet).
 */
export function decodePacket(raw: string | Uint8Array): EnginePacket | undefined {
  if (typeof raw !== 'string') return { type: 'message', data: raw }
  if (raw.length === 0) return undefined
  const digit = raw.charCodeAt(0) - 48
  if (raw.charCodeAt(0) === 98 /* 'b' */) {
    const data = fromBase64(raw.slice(1))
    return data ? { type: 'message', data } : undefined
  }
  const type = PACKET_TYPES[digit]
  if (type === undefined || digit < 0) return undefined
  return raw.length > 1 ? { type, data: raw.slice(1) } : { type }
}

/**
 * Decodes a polling payload. Stops at the first undecodable segment and returns what came
 * before it plus `ok: false`, mirroring engine.io-parser which emits an error packet there.
 */
export function decodePayload(payload: string): { packets: EnginePacket[]; ok: boolean } {
  const packets: EnginePacket[] = []
  for (const segment of payload.split(SEPARATOR)) {
    const packet = decodePacket(segment)
    if (!packet) return { packets, ok: false }
    packets.push(packet)
  }
  return { packets, ok: true }
}

function toBase64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64')
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

function fromBase64(text: string): Buffer | undefined {
  // Buffer.from silently skips invalid characters; the protocol gives no meaning to them.
  if (text.length % 4 === 1 || !BASE64.test(text)) return undefined
  return Buffer.from(text, 'base64')
}
