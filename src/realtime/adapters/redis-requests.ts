/**
 * @module Requests between Socket.IO servers over Redis, in the protocol of
 * @socket.io/redis-adapter and @socket.io/redis-emitter: JSON on `${key}-request#${nsp}#`, typed
 * by `RequestType`, with `opts: { rooms, except }` naming the sockets they act on. Each node
 * carries them out on its own sockets, whether another service's emitter sent them or another
 * node: `socketsJoin` (REMOTE_JOIN), `socketsLeave` (REMOTE_LEAVE), `disconnectSockets`
 * (REMOTE_DISCONNECT), `fetchSockets` (REMOTE_FETCH, answered) and `serverSideEmit`
 * (SERVER_SIDE_EMIT, answered when it asks for acks).
 */
import type { Logger } from '../../log.ts'
import type { AdapterHost, RoomMember, ServerSideAck, SocketDetails, Targets } from './adapter.ts'

/** What the requests need of the Redis link. */
interface RequestLink {
  publish(channel: string, message: string): Promise<number>
  /** PUBSUB NUMSUB: how many connections subscribe to `channel` (one per node). */
  numsub(channel: string): Promise<number>
}

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

/** This node's part of a join, leave or disconnect (from a request, or another node's envelope). */
function createLocalActs(host: AdapterHost, sockets: LocalSockets) {
  const each = (targets: Targets, fn: (member: RoomMember) => void) => {
    for (const id of sockets(targets.rooms, targets.except)) {
      const member = host.member(id)
      if (member) fn(member)
    }
  }
  return {
    join: (targets: Targets, rooms: string[]) => each(targets, (m) => m.join(rooms)),
    leave: (targets: Targets, rooms: string[]) =>
      each(targets, (m) => {
        for (const room of rooms) m.leave(room)
      }),
    disconnect: (targets: Targets, close: boolean) => each(targets, (m) => m.disconnect(close)),
  }
}

interface Pending {
  /** Answers awaited (one per other node) and received so far. */
  expected: number
  received: number
  /** Each node's answer (serverSideEmit), or all the sockets they listed (fetchSockets). */
  answers: unknown[]
  timer: ReturnType<typeof setTimeout>
  settle(err: Error | null, answers: unknown[]): void
}

/**
 * The request side and the answering side for one namespace. Requests go out on
 * `${key}-request#${nsp}#` with this node's id as `uid` and a `requestId`; answers come back on
 * `${key}-response#${nsp}#${uid}#` (socket.io's `publishOnSpecificResponseChannel`). A request
 * waits for one answer from every other node, counted as socket.io counts them: the subscribers
 * of the request channel (PUBSUB NUMSUB), less this node.
 */
export function createRequests({
  host,
  sockets,
  redis,
  nodeId,
  key,
  timeout,
  logger,
}: {
  host: AdapterHost
  sockets: LocalSockets
  redis: RequestLink
  nodeId: string
  key: string
  /** How long a request waits for the answers (socket.io's `requestsTimeout`). */
  timeout: number
  logger: Logger
}) {
  const requestChannel = `${key}-request#${host.name}#`
  const responseChannel = (uid: string) => `${key}-response#${host.name}#${uid}#`
  const acts = createLocalActs(host, sockets)
  const pending = new Map<string, Pending>()

  const publish = (channel: string, body: unknown) => {
    let text: string
    try {
      text = JSON.stringify(body)
    } catch (error) {
      logger.error('request or answer not serializable', { error })
      return
    }
    redis.publish(channel, text).catch((error: unknown) => {
      logger.warn('request or answer not published', { channel, error })
    })
  }

  /** Sends `body` and collects one answer per other node; `settle` runs once. */
  const ask = async (body: Record<string, unknown>, settle: Pending['settle'], what: string) => {
    let others: number
    try {
      others = (await redis.numsub(requestChannel)) - 1
    } catch (error) {
      settle(error instanceof Error ? error : new Error(String(error)), [])
      return
    }
    if (others <= 0) {
      settle(null, [])
      return
    }
    const requestId = crypto.randomUUID()
    const timer = setTimeout(() => {
      const entry = pending.get(requestId)
      if (!entry) return
      pending.delete(requestId)
      const error = new Error(
        `timeout reached: only ${entry.received} responses received out of ${entry.expected} (${what})`
      )
      entry.settle(error, entry.answers)
    }, timeout)
    pending.set(requestId, { expected: others, received: 0, answers: [], timer, settle })
    publish(requestChannel, { ...body, uid: nodeId, requestId })
  }

  const onResponse = (message: string) => {
    let response: { requestId?: unknown; sockets?: unknown; data?: unknown; type?: unknown }
    try {
      response = JSON.parse(message)
    } catch {
      logger.warn('unreadable answer ignored')
      return
    }
    const entry = typeof response.requestId === 'string' && pending.get(response.requestId)
    if (!entry) return
    if (response.type === RequestType.SERVER_SIDE_EMIT) entry.answers.push(response.data)
    else if (Array.isArray(response.sockets)) entry.answers.push(...response.sockets)
    else return
    entry.received++
    if (entry.received < entry.expected) return
    clearTimeout(entry.timer)
    pending.delete(response.requestId as string)
    entry.settle(null, entry.answers)
  }

  const onRequest = (message: string) => {
    let request: Record<string, unknown>
    try {
      request = JSON.parse(message) as Record<string, unknown>
    } catch {
      logger.warn('unreadable request ignored')
      return
    }
    if (typeof request !== 'object' || request === null || request.uid === nodeId) return
    const targets = targetsOf(request.opts)
    const replyTo = typeof request.uid === 'string' ? responseChannel(request.uid) : undefined
    switch (request.type) {
      case RequestType.REMOTE_JOIN:
      case RequestType.REMOTE_LEAVE: {
        const rooms = roomList(request.rooms)
        if (!targets || !rooms) break
        if (request.type === RequestType.REMOTE_JOIN) acts.join(targets, rooms)
        else acts.leave(targets, rooms)
        return
      }
      case RequestType.REMOTE_DISCONNECT:
        if (!targets) break
        acts.disconnect(targets, request.close === true)
        return
      case RequestType.REMOTE_FETCH: {
        if (!targets || !replyTo) break
        const found = []
        for (const id of sockets(targets.rooms, targets.except)) {
          const details = host.describe(id)
          if (details) found.push(details)
        }
        publish(replyTo, { requestId: request.requestId, sockets: found })
        return
      }
      case RequestType.SERVER_SIDE_EMIT: {
        if (!Array.isArray(request.data) || typeof request.data[0] !== 'string') break
        const { requestId } = request
        if (requestId === undefined || !replyTo) {
          host.onServerSideEmit(request.data)
          return
        }
        // With an ack: the listener's first answer goes back, once (socket.io's).
        let answered = false
        const ack = (answer: unknown) => {
          if (answered) return
          answered = true
          publish(replyTo, { type: RequestType.SERVER_SIDE_EMIT, requestId, data: answer })
        }
        host.onServerSideEmit([...request.data, ack])
        return
      }
      default:
        // Types this node does not answer (SOCKETS, ALL_ROOMS, broadcasts with acks).
        return
    }
    logger.warn('malformed request ignored', { type: request.type })
  }

  const wire = (targets: Targets) => ({ rooms: [...targets.rooms], except: [...targets.except] })

  return {
    requestChannel,
    responseChannel: responseChannel(nodeId),
    acts,
    onRequest,
    onResponse,
    fetchSockets: (targets: Targets) =>
      new Promise<SocketDetails[]>((resolve, reject) => {
        void ask(
          { type: RequestType.REMOTE_FETCH, opts: wire(targets) },
          (err, answers) => (err ? reject(err) : resolve(answers.filter(isDetails))),
          'fetchSockets'
        )
      }),
    serverSideEmit(args: unknown[], ack?: ServerSideAck) {
      const body = { type: RequestType.SERVER_SIDE_EMIT, data: args }
      if (!ack) publish(requestChannel, { ...body, uid: nodeId })
      else void ask(body, ack, 'serverSideEmit')
    },
    /** Rejects what is still waiting (the adapter closes). */
    close() {
      for (const [id, entry] of pending) {
        clearTimeout(entry.timer)
        pending.delete(id)
        entry.settle(new Error('adapter closed'), entry.answers)
      }
    },
  }
}

function isDetails(value: unknown): value is SocketDetails {
  const v = value as SocketDetails
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.id === 'string' &&
    typeof v.handshake === 'object' &&
    v.handshake !== null &&
    Array.isArray(v.rooms)
  )
}
