/**
 * @module The packet codec a server speaks: the built-in Socket.IO v5 parser (io/parser.ts), or a
 * custom one given as the `parser` option, as socket.io takes it: an object with an `Encoder` and
 * a `Decoder` class (the socket.io-parser interface, which socket.io-msgpack-parser implements).
 *
 * The built-in codec keeps the fast paths: an event held as JSON text is framed without being
 * parsed again, and a broadcast's recovery offset is cut off its text for a client that keeps no
 * offsets. A custom codec encodes the packet object instead, and for the offset decodes its own
 * frames, drops the last argument and encodes again (that client alone pays for it). Whatever the
 * codec, a broadcast is encoded once and the same frames go to every receiver.
 */
import {
  type DecodeResult,
  Decoder,
  type EncodedPacket,
  encode,
  encodeJsonAck,
  encodeJsonEvent,
  type Packet,
  PacketType,
  validPacket,
} from './parser.ts'
import { withOffset, withoutOffset } from './recovery.ts'

/** socket.io-parser's `Encoder`: a packet object in, its frames (strings or binary) out. */
export interface ParserEncoder {
  encode(packet: Packet): unknown
}

/** socket.io-parser's `Decoder`: frames in (`add`, which may throw), packets out (`decoded`). */
export interface ParserDecoder {
  add(chunk: any): void
  on(event: 'decoded', listener: (packet: any) => void): unknown
  destroy?(): void
}

/** The `parser` option (socket.io's): e.g. `import * as parser from 'socket.io-msgpack-parser'`. */
export interface Parser {
  Encoder: new () => ParserEncoder
  Decoder: new () => ParserDecoder
}

/** One connection's decoder: one frame in, at most one packet out, errors as values. */
export interface FrameDecoder {
  add(frame: string | Uint8Array): DecodeResult
  reset(): void
}

export interface Codec {
  encode(packet: Packet): EncodedPacket
  /**
   * The EVENT whose `[event, ...args]` is held as JSON text, `offset` (if any) appended as its
   * last argument (io/recovery.ts).
   */
  encodeJson(nsp: string, json: string, offset?: number): EncodedPacket
  /** The ACK for `id` whose arguments array is held as JSON text. */
  encodeJsonAck(nsp: string, id: number, json: string): EncodedPacket
  /** The same broadcast without its trailing offset, for a client that keeps none. */
  withoutOffset(packet: EncodedPacket, offset: number): EncodedPacket
  createDecoder(): FrameDecoder
}

/** The built-in Socket.IO v5 codec. */
export const DEFAULT_CODEC: Codec = {
  encode,
  encodeJson: (nsp, json, offset) =>
    encodeJsonEvent(nsp, offset === undefined ? json : withOffset(json, offset)),
  encodeJsonAck,
  withoutOffset,
  createDecoder: () => new Decoder(),
}

type Frame = string | Uint8Array

/** Buffers and typed arrays as Uint8Array, strings as they are; anything else is refused. */
function toFrames(encoded: unknown): EncodedPacket {
  const list = Array.isArray(encoded) ? encoded : [encoded]
  return list.map((frame): Frame => {
    if (typeof frame === 'string' || frame instanceof Uint8Array) return frame
    if (frame instanceof ArrayBuffer) return new Uint8Array(frame)
    if (ArrayBuffer.isView(frame))
      return new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength)
    throw new TypeError('the parser encoded a frame that is neither text nor binary')
  })
}

class CustomDecoder implements FrameDecoder {
  private inner: ParserDecoder
  private decoded: unknown[] = []

  constructor(private readonly parser: Parser) {
    this.inner = this.create()
  }

  private create(): ParserDecoder {
    const inner = new this.parser.Decoder()
    inner.on('decoded', (packet: unknown) => this.decoded.push(packet))
    return inner
  }

  add(frame: Frame): DecodeResult {
    this.decoded = []
    try {
      this.inner.add(frame)
    } catch (error) {
      // A decoder that threw may hold half a packet: start the next frame afresh.
      this.reset()
      return { ok: false, error: error instanceof Error ? error.message : 'invalid frame' }
    }
    const [first, ...more] = this.decoded
    if (more.length > 0) return { ok: false, error: 'more than one packet in a frame' }
    if (first === undefined) return { ok: true, packet: undefined }
    // The same rules as the built-in decoder (a custom one may check less, or nothing).
    const packet = validPacket(first)
    return packet ? { ok: true, packet } : { ok: false, error: 'invalid packet' }
  }

  reset(): void {
    this.inner.destroy?.()
    this.inner = this.create()
  }
}

/** A codec over a socket.io-parser–style `parser`. */
export function createCodec(parser: Parser): Codec {
  const encoder = new parser.Encoder()
  const codec: Codec = {
    encode: (packet) => toFrames(encoder.encode(packet)),
    encodeJson(nsp, json, offset) {
      const data = JSON.parse(offset === undefined ? json : withOffset(json, offset)) as unknown[]
      return codec.encode({ type: PacketType.EVENT, nsp, data })
    },
    encodeJsonAck: (nsp, id, json) =>
      codec.encode({ type: PacketType.ACK, nsp, id, data: JSON.parse(json) as unknown[] }),
    withoutOffset(frames, offset) {
      const decoder = new CustomDecoder(parser)
      let result: DecodeResult = { ok: true, packet: undefined }
      for (const frame of frames) result = decoder.add(frame)
      const packet = result.ok ? result.packet : undefined
      const data = packet?.data
      if (!packet || !Array.isArray(data) || data.at(-1) !== String(offset)) return frames
      return codec.encode({ ...packet, data: data.slice(0, -1) })
    },
    createDecoder: () => new CustomDecoder(parser),
  }
  return codec
}
