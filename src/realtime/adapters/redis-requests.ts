/**
 * @module Requests between Socket.IO servers over Redis, in the protocol of
 * @socket.io/redis-adapter and @socket.io/redis-emitter: JSON on `${key}-request#${nsp}#`, typed
 * by `RequestType`, with `opts: { rooms, except }` naming the sockets they act on. This side
 * carries them out on the sockets of this node: `socketsJoin` (REMOTE_JOIN), `socketsLeave`
 * (REMOTE_LEAVE), `disconnectSockets` (REMOTE_DISCONNECT) and `serverSideEmit`
 * (SERVER_SIDE_EMIT), whether another service's emitter sent them or another node.
 */
import type { Logger } from '../../log.ts'
import type { AdapterHost } from './adapter.ts'

/** socket.io-redis-adapter's request types (the numbers are the wire's). */
const RequestType = {
  SOCKETS: 0,
  ALL_ROOMS: 1,
  REMOTE_JOIN: 2,
  REMOTE_LEAVE: 3,
  REMOTE_DISCONNECT: 4,
  REMOTE_FETCH: 5,
  SERVER_SIDE_EMIT: 6,
} as const

/** The sockets a request acts on: in any of `rooms` (all when empty), in none of `except`. */
export interface Targets {
  rooms: ReadonlySet<string>
  except: ReadonlySet<string>
}

/** Which local sockets match `targets` (the Bun-topics adapter's `sockets`). */
type LocalSockets = (rooms: ReadonlySet<string>, except?: ReadonlySet<string>) => Set<string>

/** Rooms as the wire has them: strings, or numbers (socket.io allows both); anything else: none. */
function roomList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined
  const out: string[] = []
  for (const room of value) {
    if (typeof room === 'string') out.push(room)
    else if (typeof room === 'number') out.push(String(room))
    else return undefined
  }
  return out
}

export function targetsOf(opts: unknown): Targets | undefined {
  if (typeof opts !== 'object' || opts === null) return undefined
  const { rooms, except } = opts as { rooms?: unknown; except?: unknown }
  const r = roomList(rooms ?? [])
  const e = roomList(except ?? [])
  return r && e ? { rooms: new Set(r), except: new Set(e) } : undefined
}

/**
 * Carries out one request read from the request channel; undefined-typed or malformed requests
 * are ignored (logged), as socket.io's adapter ignores them.
 */
export function createRequestHandler({
  host,
  sockets,
  nodeId,
  logger,
}: {
  host: AdapterHost
  sockets: LocalSockets
  nodeId: string
  logger: Logger
}): (message: string) => void {
  const forEach = (targets: Targets, fn: (id: string) => void) => {
    for (const id of sockets(targets.rooms, targets.except)) fn(id)
  }
  return (message) => {
    let request: Record<string, unknown>
    try {
      request = JSON.parse(message) as Record<string, unknown>
    } catch {
      logger.warn('unreadable request ignored')
      return
    }
    if (typeof request !== 'object' || request === null || request.uid === nodeId) return
    const targets = targetsOf(request.opts)
    switch (request.type) {
      case RequestType.REMOTE_JOIN:
      case RequestType.REMOTE_LEAVE: {
        const rooms = roomList(request.rooms)
        if (!targets || !rooms) break
        if (request.type === RequestType.REMOTE_JOIN)
          forEach(targets, (id) => host.member(id)?.join(rooms))
        else
          forEach(targets, (id) => {
            const member = host.member(id)
            if (member) for (const room of rooms) member.leave(room)
          })
        return
      }
      case RequestType.REMOTE_DISCONNECT:
        if (!targets) break
        forEach(targets, (id) => host.member(id)?.disconnect(request.close === true))
        return
      case RequestType.SERVER_SIDE_EMIT:
        if (!Array.isArray(request.data) || typeof request.data[0] !== 'string') break
        host.onServerSideEmit(request.data)
        return
      default:
        // Types this node does not answer (SOCKETS, ALL_ROOMS, broadcasts with acks).
        return
    }
    logger.warn('malformed request ignored', { type: request.type })
  }
}
