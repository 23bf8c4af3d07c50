/**
 * @module Room fan-out across nodes: Bun topics locally, one Redis pub/sub channel per namespace
 * between nodes.
 *
 * A broadcast is encoded once, delivered locally through the Bun-topics adapter, and published
 * once to Redis as `{ node, rooms, except, frames }`. Every other node hands the same frames to its
 * own Bun-topics adapter with no sender, so `socket.to(room)` still excludes only the sender: its
 * id is in `except`, and it has no local member elsewhere. One channel per namespace (not per
 * room) because joins and leaves then need no Redis round trip: subscribing per room would make
 * the first broadcast after a join race the SUBSCRIBE, and room churn would be Redis traffic.
 * The price is that every node receives every broadcast of the namespace; a publish to a Bun topic
 * nobody on this node subscribes to is cheap.
 *
 * Other services speak to the cluster as socket.io's do, with the stock @socket.io/redis-emitter:
 * it publishes msgpack `[uid, packet, { rooms, except }]` on `${key}#${nsp}#` (and
 * `${key}#${nsp}#${room}#` for one room), which every node delivers to its own sockets, and JSON
 * requests on `${key}-request#${nsp}#` (redis-requests.ts). Both come through one connection that
 * keeps bytes, so an emitter's `socketsJoin` is carried out before the `emit` it sent next.
 */
import { decode as decodeMsgpack } from 'notepack.io'
import type { Logger } from '../../log.ts'
import { type EncodedPacket, PacketType, validPacket } from '../io/parser.ts'
import type { Adapter, AdapterFactory, BroadcastOptions, Targets } from './adapter.ts'
import { createBunTopicsAdapter } from './bun-topics.ts'
import { createOffsetOrder, type OffsetLog } from './ordered.ts'
import { createRequests, targetsOf } from './redis-requests.ts'

type BytesListener = (message: Uint8Array, channel: string) => void

/** The Redis operations the adapter needs (Bun's RedisClient fits, behind a reconnecting link). */
export interface RedisPubSub {
  publish(channel: string, message: string): Promise<number>
  /** Registers the listener once; the link re-subscribes by itself after a reconnect. */
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  /**
   * Subscriptions whose messages stay bytes (the emitter's msgpack), all on one connection so
   * that they arrive in the order they were published; re-subscribed after a reconnect.
   */
  subscribeBytes(channel: string, listener: BytesListener): void
  psubscribeBytes(pattern: string, listener: BytesListener): void
  unsubscribeBytes(channelOrPattern: string): void
  /** PUBSUB NUMSUB: how many connections subscribe to `channel` (the nodes, for requests). */
  numsub(channel: string): Promise<number>
}

export interface RedisAdapterOptions {
  redis: RedisPubSub
  /** This node's id: a node ignores its own publications. */
  nodeId: string
  /** Channel name prefix, so several deployments may share one Redis. */
  prefix?: string
  /** socket.io's `key`: the prefix of the channels its Redis emitter publishes on. */
  key?: string
  /** How long `fetchSockets` and `serverSideEmit` with an ack wait for the other nodes (ms). */
  requestsTimeout?: number
  logger: Logger
  /** Called for each broadcast received from another node with its age in ms (publish → delivered). */
  onRemoteBroadcast?: (ms: number) => void
  /** A publication could not be sent or decoded. */
  onError?: (reason: 'publish' | 'decode') => void
  /**
   * Where broadcasts carrying an offset can be read back: with it, each node delivers them in
   * offset order, reading any it has not heard yet (adapters/ordered.ts).
   */
  offsets?: OffsetLog
}

/** On the wire: frames are strings, or base64 binary attachments marked `{ b }`; `o` the offset. */
interface Envelope {
  n: string
  t: number
  r: string[]
  e: string[]
  f: (string | { b: string })[]
  o?: number
  /** Set on a `disconnectSockets` (no frames): disconnect the matching sockets, closing if true. */
  d?: boolean
  /** Set on a `socketsJoin` / `socketsLeave` (no frames): the rooms the matching sockets join / leave. */
  j?: string[]
  l?: string[]
}

const NONE: ReadonlySet<string> = new Set()

function toWire(packet: EncodedPacket): Envelope['f'] {
  return packet.map((frame) =>
    typeof frame === 'string' ? frame : { b: Buffer.from(frame).toString('base64') }
  )
}

function fromWire(frames: Envelope['f']): EncodedPacket {
  return frames.map((frame) =>
    typeof frame === 'string' ? frame : new Uint8Array(Buffer.from(frame.b, 'base64'))
  )
}

function isEnvelope(value: unknown): value is Envelope {
  const v = value as Envelope
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.n === 'string' &&
    typeof v.t === 'number' &&
    Array.isArray(v.r) &&
    Array.isArray(v.e) &&
    Array.isArray(v.f)
  )
}

/**
 * @example
 * const io = createIO({ adapter: createRedisAdapter({ redis: link, nodeId: 'a1', logger }) })
 */
export function createRedisAdapter({
  redis,
  nodeId,
  prefix = 'mc',
  key = 'socket.io',
  requestsTimeout = 5_000,
  logger,
  onRemoteBroadcast,
  onError,
  offsets,
}: RedisAdapterOptions): AdapterFactory {
  const log = logger.child('redis-adapter')
  return (host) => {
    const local = createBunTopicsAdapter(host)
    const channel = `${prefix}:io:${host.name}`
    const order =
      offsets &&
      createOffsetOrder(
        offsets,
        (room, { json, offset }) =>
          local.broadcast(host.codec.encodeJson(host.name, json, offset), {
            rooms: new Set([room]),
            except: NONE,
            offset,
          }),
        log
      )
    /** Delivers here: at once, or in offset order when it carries one. */
    const deliver = (packet: EncodedPacket, opts: BroadcastOptions) => {
      if (order && opts.offset !== undefined)
        order.offer(opts.offset, () => local.broadcast(packet, opts))
      else local.broadcast(packet, opts)
    }

    const receive = (message: string) => {
      let envelope: unknown
      try {
        envelope = JSON.parse(message)
      } catch {
        envelope = undefined
      }
      if (!isEnvelope(envelope)) {
        onError?.('decode')
        log.warn('undecodable broadcast ignored', { channel })
        return
      }
      if (envelope.n === nodeId) return
      // Joins, leaves and disconnects ride this channel, so they keep their order with this
      // node's broadcasts (a socketsJoin, then an emit to that room).
      const targets = { rooms: new Set(envelope.r), except: new Set(envelope.e) }
      if (typeof envelope.d === 'boolean') return requests.acts.disconnect(targets, envelope.d)
      if (Array.isArray(envelope.j)) return requests.acts.join(targets, envelope.j.map(String))
      if (Array.isArray(envelope.l)) return requests.acts.leave(targets, envelope.l.map(String))
      deliver(fromWire(envelope.f), {
        rooms: new Set(envelope.r),
        except: new Set(envelope.e),
        offset: typeof envelope.o === 'number' ? envelope.o : undefined,
      })
      onRemoteBroadcast?.(Date.now() - envelope.t)
    }
    redis.subscribe(channel, receive).catch((error) => {
      log.error('subscribe failed', { channel, error })
    })

    // What other services publish with @socket.io/redis-emitter.
    const emitted = `${key}#${host.name}#`
    const requests = createRequests({
      host,
      sockets: local.sockets,
      redis,
      nodeId,
      key,
      timeout: requestsTimeout,
      logger: log,
    })
    redis.psubscribeBytes(`${emitted}*`, (bytes, from) => {
      // `${key}#${nsp}#${room}#`: nothing to do on a node where no socket is in that room.
      const room = from.slice(emitted.length, -1)
      if (room !== '' && local.sockets(new Set([room])).size === 0) return
      const broadcast = emittedBroadcast(bytes, host.name)
      if (!broadcast) {
        onError?.('decode')
        log.warn('undecodable emitter broadcast ignored', { channel: from })
        return
      }
      local.broadcast(host.codec.encode(broadcast.packet), broadcast.targets)
    })
    const utf8 = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')
    // Answers first: once the request channel counts this node, it can hear answers too.
    redis.subscribeBytes(requests.responseChannel, (bytes) => requests.onResponse(utf8(bytes)))
    redis.subscribeBytes(requests.requestChannel, (bytes) => requests.onRequest(utf8(bytes)))

    const send = (envelope: Envelope) =>
      redis.publish(channel, JSON.stringify(envelope)).catch((error) => {
        onError?.('publish')
        log.warn('broadcast not published to other nodes', { channel, error })
      })

    const operation = (targets: Targets, op: Pick<Envelope, 'd' | 'j' | 'l'>): Envelope => ({
      n: nodeId,
      t: Date.now(),
      r: [...targets.rooms],
      e: [...targets.except],
      f: [],
      ...op,
    })

    const adapter: Adapter = {
      get rooms() {
        return local.rooms
      },
      ...(order ? { deliveredOffset: () => order.delivered() } : {}),
      addAll: (member, rooms) => local.addAll(member, rooms),
      del: (member, room) => local.del(member, room),
      delAll: (member) => local.delAll(member),
      onSubscribed: (member) => local.onSubscribed(member),
      sockets: (rooms, except) => local.sockets(rooms, except),
      socketRooms: (id) => local.socketRooms(id),
      broadcast(packet: EncodedPacket, opts: BroadcastOptions) {
        deliver(packet, opts)
        // A socket's own-id room lives on one node; still published: the id may be remote.
        const envelope: Envelope = {
          n: nodeId,
          t: Date.now(),
          r: [...opts.rooms],
          e: [...opts.except],
          f: toWire(packet),
          o: opts.offset,
        }
        send(envelope)
      },
      remote: {
        fetchSockets: (targets) => requests.fetchSockets(targets),
        join: (targets, rooms) => send(operation(targets, { j: rooms })),
        leave: (targets, rooms) => send(operation(targets, { l: rooms })),
        disconnect: (targets, close) => send(operation(targets, { d: close })),
        serverSideEmit: (args, ack) => requests.serverSideEmit(args, ack),
      },
      async close() {
        requests.close()
        await local.close()
        await redis.unsubscribe(channel).catch(() => undefined)
        redis.unsubscribeBytes(`${emitted}*`)
        redis.unsubscribeBytes(requests.requestChannel)
        redis.unsubscribeBytes(requests.responseChannel)
      },
    }
    return adapter
  }
}

/**
 * An emitter's `[uid, packet, opts]` (msgpack): its EVENT for namespace `nsp` and the sockets it
 * is for. Undefined when it is anything else, for another namespace, or breaks the packet rules.
 */
function emittedBroadcast(bytes: Uint8Array, nsp: string) {
  let decoded: unknown
  try {
    decoded = decodeMsgpack(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  } catch {
    return undefined
  }
  if (!Array.isArray(decoded)) return undefined
  const [, raw, opts] = decoded as [unknown, Record<string, unknown> | undefined, unknown]
  const packet = validPacket(raw && { ...raw, nsp: raw.nsp ?? '/' })
  const targets = targetsOf(opts)
  if (!packet || packet.type !== PacketType.EVENT || packet.nsp !== nsp || !targets)
    return undefined
  return { packet, targets }
}
