/**
 * @module Just enough of Engine.IO v4 / Socket.IO v5 text framing for the load generator, plus the
 * latency stamp the generator puts into message content. Pure functions, no I/O.
 */
// Engine.IO packet types: 0 open, 1 close, 2 ping, 3 pong, 4 message. Socket.IO packet types inside a
// message: 0 CONNECT, 1 DISCONNECT, 2 EVENT, 4 CONNECT_ERROR. See socket.io-protocol v5 and engine.io-protocol v4.

export const EIO_PONG = '3'

/** Socket.IO CONNECT to the main namespace with the auth payload. */
export const connectFrame = (token: string) => `40${JSON.stringify({ token })}`

/** Socket.IO EVENT on the main namespace. */
export const eventFrame = (name: string, data: unknown) => `42${JSON.stringify([name, data])}`

export type Frame =
  | { kind: 'open' }
  | { kind: 'ping' }
  | { kind: 'connected' }
  | { kind: 'connect-error'; message: string }
  | { kind: 'event'; name: string; body: string }
  | { kind: 'close' }
  | { kind: 'other' }

const EVENT_NAME = /^42\["([^"]+)"/

/**
 * Classifies a server frame without parsing the event body: the body stays a string because the
 * receive path must be cheap when a worker takes 100,000+ frames a second.
 */
export function classifyFrame(frame: string): Frame {
  switch (frame.charCodeAt(0)) {
    case 48: // '0'
      return { kind: 'open' }
    case 49: // '1'
      return { kind: 'close' }
    case 50: // '2'
      return { kind: 'ping' }
    case 52: {
      // '4': a Socket.IO packet on the main namespace
      const type = frame.charCodeAt(1)
      if (type === 50) {
        const match = EVENT_NAME.exec(frame)
        return match?.[1] ? { kind: 'event', name: match[1], body: frame } : { kind: 'other' }
      }
      if (type === 48) return { kind: 'connected' }
      if (type === 52)
        return { kind: 'connect-error', message: connectErrorMessage(frame.slice(2)) }
      return { kind: 'other' }
    }
    default:
      return { kind: 'other' }
  }
}

function connectErrorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown }
    return typeof parsed.message === 'string' ? parsed.message : body
  } catch {
    return body
  }
}

/**
 * Message content the generator sends: `t:<epoch ms>|<step>|<sender>|<padding>`. The stamp is wall-clock
 * epoch milliseconds with sub-millisecond precision, comparable across processes on one machine.
 */
export function stampContent(
  sentAt: number,
  step: number,
  sender: number,
  padding: string
): string {
  return `t:${sentAt.toFixed(3)}|${step}|${sender}|${padding}`
}

export interface Stamp {
  sentAt: number
  step: number
  sender: number
}

const NEW_MESSAGE_PREFIX = Buffer.from('42["new-city-message"')
const STAMP_KEY = Buffer.from('"content":"t:')
const BAR = 0x7c // '|'

/** True when a text payload is a `new-city-message` event, checked on the bytes. */
export function isNewMessage(payload: Buffer): boolean {
  return (
    payload.length > NEW_MESSAGE_PREFIX.length &&
    payload.compare(
      NEW_MESSAGE_PREFIX,
      0,
      NEW_MESSAGE_PREFIX.length,
      0,
      NEW_MESSAGE_PREFIX.length
    ) === 0
  )
}

/**
 * Reads the stamp out of a raw `new-city-message` payload without decoding the frame: the receive
 * path runs 100,000+ times a second per worker, so only the stamp's few bytes become a string.
 */
export function readStamp(payload: Buffer): Stamp | null {
  const start = payload.indexOf(STAMP_KEY)
  if (start < 0) return null
  const from = start + STAMP_KEY.length
  const bar1 = payload.indexOf(BAR, from)
  const bar2 = bar1 < 0 ? -1 : payload.indexOf(BAR, bar1 + 1)
  const bar3 = bar2 < 0 ? -1 : payload.indexOf(BAR, bar2 + 1)
  if (bar3 < 0) return null
  const parts = payload.toString('latin1', from, bar3).split('|')
  const sentAt = Number(parts[0])
  const step = Number(parts[1])
  const sender = Number(parts[2])
  if (!Number.isFinite(sentAt) || !Number.isInteger(step) || !Number.isInteger(sender)) return null
  return { sentAt, step, sender }
}

/** Epoch milliseconds with sub-millisecond precision, the clock both ends of a stamp use. */
export const epochMs = () => performance.timeOrigin + performance.now()
