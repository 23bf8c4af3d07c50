/**
 * @module Connection state recovery (socket.io v4.6 "connectionStateRecovery"), as hooks: the
 * realtime layer hands out a `pid`, saves a session when a socket drops for a recoverable reason,
 * and on a CONNECT carrying `{ pid, offset }` asks the hooks what to restore and replay. Where the
 * sessions and the missed packets live (memory, a database) is the hooks' business.
 *
 * Protocol: the CONNECT answer is `{ sid, pid }`; the client appends `{ pid, offset }` to its next
 * CONNECT payload, `offset` being the last string argument of the last event it received
 * (socket.io-client `_pid`, `_lastOffset`). So whoever broadcasts must append the offset as the
 * last argument of each event it wants to be replayable.
 */
import type { EncodedPacket } from './parser.ts'
import type { IOSocket, SocketData } from './socket.ts'

/** What is saved when a socket drops: enough to give the same socket back. */
export interface SavedSession {
  pid: string
  /** The socket id, restored on recovery. */
  id: string
  nsp: string
  /** The socket's rooms except its own id room. */
  rooms: string[]
  data: SocketData
}

/** An event as its JSON `[event, ...args]` and its offset: what a broadcast log keeps. */
export interface LoggedEvent {
  json: string
  offset: number
}

/** What the hooks give back for a recoverable CONNECT. */
export interface RestoredSession {
  id: string
  rooms: string[]
  /** The events the session missed, sent after CONNECT in this order, each with its offset. */
  missed: LoggedEvent[]
}

export interface RecoveryHooks {
  /** Persists a dropped socket's session; `io.close()` waits for it. */
  save(session: SavedSession): void | Promise<void>
  /** A socket with a pid left for good (its client chose to): there is nothing to resume. */
  forget?(pid: string): void
  /**
   * Called after the connection middlewares accepted `socket` (so `socket.data` holds the fresh
   * credentials). Returns undefined when the session is unknown, expired, belongs to someone
   * else, or the gap is too large: the socket then connects fresh (`recovered === false`).
   */
  restore(request: {
    pid: string
    offset: string
    nsp: string
    socket: IOSocket
  }): Promise<RestoredSession | undefined> | RestoredSession | undefined
}

/**
 * socket.io's `RECOVERABLE_DISCONNECT_REASONS`: the client did not choose to leave, so it will
 * come back. A namespace disconnect by either side, or a parse error, is final.
 */
export const RECOVERABLE_REASONS: ReadonlySet<string> = new Set([
  'transport error',
  'transport close',
  'forced close',
  'ping timeout',
  'server shutting down',
  'forced server close',
])

/**
 * An event's JSON `[event, ...args]` with its offset appended as the last argument, a string on
 * the wire: socket.io-client keeps the last string argument of each event as `_lastOffset`.
 */
export function withOffset(json: string, offset: number): string {
  return `${json.slice(0, -1)},"${offset}"]`
}

/**
 * False when the CONNECT payload says `offsets: false`: a client that keeps no recovery offset
 * (python-socketio and other non-JS clients pass every argument to the handler, so a trailing
 * offset breaks a one-argument handler). Nothing else on the wire tells such a client apart from
 * socket.io-client, which keeps offsets, so the default stays on.
 */
export function tracksOffsets(auth: Record<string, unknown>): boolean {
  return auth.offsets !== false
}

/**
 * The same frames without the trailing offset `withOffset` appended (for a socket that keeps no
 * offsets); frames that end otherwise come back as they are.
 */
export function withoutOffset(packet: EncodedPacket, offset: number): EncodedPacket {
  const text = packet[0]
  const suffix = `,"${offset}"]`
  if (typeof text !== 'string' || !text.endsWith(suffix)) return packet
  return [`${text.slice(0, -suffix.length)}]`, ...packet.slice(1)]
}

/** The client's `{ pid, offset }` from a CONNECT payload, when both are strings. */
export function recoveryRequest(
  auth: Record<string, unknown>
): { pid: string; offset: string } | undefined {
  const { pid, offset } = auth
  return typeof pid === 'string' && typeof offset === 'string' ? { pid, offset } : undefined
}
