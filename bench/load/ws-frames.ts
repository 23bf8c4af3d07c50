/**
 * @module RFC 6455 framing for the generator's own WebSocket client: an incremental reader that hands
 * out text payloads as byte views (no string per frame) and a masked text/close frame writer.
 */

const OP_CONTINUATION = 0x0
const OP_TEXT = 0x1
const OP_CLOSE = 0x8
const OP_PING = 0x9
const OP_PONG = 0xa

export interface FrameSink {
  /** A complete text message. The view is only valid during the call. */
  text(payload: Buffer): void
  /** A WebSocket-level ping (RFC 6455 §5.5.2), to be answered with a pong carrying the same bytes. */
  ping(payload: Buffer): void
  close(): void
  /** A protocol violation by the peer; the reader stops. */
  error(message: string): void
}

/** Returns a function to feed TCP chunks to; frames may span chunks and a chunk may hold many frames. */
export function createFrameReader(sink: FrameSink): (chunk: Buffer) => void {
  let leftover: Buffer | null = null
  let fragments: Buffer[] | null = null
  let failed = false

  return (chunk) => {
    if (failed) return
    const buf = leftover ? Buffer.concat([leftover, chunk]) : chunk
    leftover = null
    let off = 0
    while (buf.length - off >= 2) {
      const b0 = buf[off] as number
      const b1 = buf[off + 1] as number
      let length = b1 & 0x7f
      let header = 2
      if (length === 126) {
        if (buf.length - off < 4) break
        length = buf.readUInt16BE(off + 2)
        header = 4
      } else if (length === 127) {
        if (buf.length - off < 10) break
        length = buf.readUInt32BE(off + 2) * 2 ** 32 + buf.readUInt32BE(off + 6)
        header = 10
      }
      // §5.1: a server must not mask frames it sends to a client.
      if (b1 & 0x80) {
        failed = true
        sink.error('masked frame from server')
        return
      }
      if (buf.length - off < header + length) break
      const payload = buf.subarray(off + header, off + header + length)
      off += header + length
      const fin = (b0 & 0x80) !== 0
      const opcode = b0 & 0x0f
      switch (opcode) {
        case OP_TEXT:
          if (fin) sink.text(payload)
          else fragments = [Buffer.from(payload)]
          break
        case OP_CONTINUATION:
          if (!fragments) break
          fragments.push(Buffer.from(payload))
          if (fin) {
            sink.text(Buffer.concat(fragments))
            fragments = null
          }
          break
        case OP_PING:
          sink.ping(payload)
          break
        case OP_CLOSE:
          sink.close()
          return
        default:
          // Binary and pong frames carry nothing the generator needs.
          break
      }
    }
    // The chunk's memory belongs to the socket, so an incomplete frame is copied out.
    if (off < buf.length) leftover = Buffer.from(buf.subarray(off))
  }
}

let maskState = (Math.random() * 0xffffffff) >>> 0 || 1

/** xorshift32: client masks (§5.3) only need to vary, not to be secret, on a loopback bench. */
function nextMask(): number {
  maskState ^= maskState << 13
  maskState ^= maskState >>> 17
  maskState ^= maskState << 5
  maskState >>>= 0
  return maskState
}

function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10
  const frame = Buffer.allocUnsafe(header + 4 + length)
  frame[0] = 0x80 | opcode
  if (header === 2) {
    frame[1] = 0x80 | length
  } else if (header === 4) {
    frame[1] = 0x80 | 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 0x80 | 127
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2)
    frame.writeUInt32BE(length >>> 0, 6)
  }
  const mask = nextMask()
  frame.writeUInt32BE(mask, header)
  const key = frame.subarray(header, header + 4)
  const start = header + 4
  for (let i = 0; i < length; i++)
    frame[start + i] = (payload[i] as number) ^ (key[i & 3] as number)
  return frame
}

export const textFrame = (text: string) => encodeFrame(OP_TEXT, Buffer.from(text, 'utf8'))
export const pongFrame = (payload: Buffer) => encodeFrame(OP_PONG, Buffer.from(payload))
/** Close with status 1000 (normal closure, §7.4.1). */
export const closeFrame = () => encodeFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]))
