/**
 * @module The room fan-out interface: one per namespace; Bun topics today, Redis next.
 *
 * Mirrors socket.io-adapter's contract (addAll/del/delAll/broadcast/sockets/socketRooms), but
 * `broadcast` takes a packet that is already encoded, so every implementation sends the same
 * bytes to every receiver (encode once, publish many).
 */
import type { Codec } from '../io/codec.ts'
import type { Handshake } from '../io/handshake.ts'
import type { EncodedPacket } from '../io/parser.ts'

/** A connected socket as the adapter sees it. */
export interface RoomMember {
  readonly id: string
  /** True while the socket is on WebSocket and so receives what is published on its topics. */
  readonly subscribed: boolean
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  /**
   * Delivers the packet to this socket only (polling, or a targeted multi-room send). `offset`:
   * the broadcast's, for a socket that takes its broadcasts without it (io/recovery.ts).
   */
  write(packet: EncodedPacket, offset?: number): void
  /** Publishes from this socket's WebSocket: every topic subscriber except this socket. */
  publish(topic: string, packet: EncodedPacket): void
  /** The socket joins / leaves rooms, or leaves its namespace: a request from another server. */
  join(rooms: string[]): void
  leave(room: string): void
  disconnect(close: boolean): unknown
}

/** What the namespace offers its adapter. */
export interface AdapterHost {
  readonly name: string
  /** How this server encodes packets (the built-in parser or the `parser` option). */
  readonly codec: Codec
  member(id: string): RoomMember | undefined
  /** `server.publish` of each frame in order; false when no Bun server is attached yet. */
  publish(topic: string, packet: EncodedPacket): boolean
  /**
   * A `serverSideEmit` from another server: `[event, ...args]` for the namespace's own listeners
   * (`io.on(event, …)`), never sent to a client.
   */
  onServerSideEmit(args: unknown[]): void
  /** What another node's `fetchSockets` learns of a local socket. */
  describe(id: string): SocketDetails | undefined
}

/** A socket as another node sees it (socket.io's `RemoteSocket` data), JSON on the wire. */
export interface SocketDetails {
  id: string
  handshake: Handshake
  rooms: string[]
  data: unknown
}

/** The sockets an operation is for: in any of `rooms` (all when empty), in none of `except`. */
export interface Targets {
  rooms: ReadonlySet<string>
  except: ReadonlySet<string>
}

/** A `serverSideEmit` acknowledgement: every other node's answer, or an error after the timeout. */
export type ServerSideAck = (err: Error | null, responses: unknown[]) => void

/**
 * The other nodes' part of the server API (socket.io-adapter's `fetchSockets`, `addSockets`,
 * `delSockets`, `disconnectSockets`, `serverSideEmit`); the caller does this node's part.
 */
export interface RemoteOperations {
  /** Resolves once every other node answered; rejects after the adapter's request timeout. */
  fetchSockets(targets: Targets): Promise<SocketDetails[]>
  join(targets: Targets, rooms: string[]): void
  leave(targets: Targets, rooms: string[]): void
  disconnect(targets: Targets, close: boolean): void
  /** `[event, ...args]` to every other node; with `ack`, their answers (one each). */
  serverSideEmit(args: unknown[], ack?: ServerSideAck): void
}

export interface BroadcastOptions {
  /** Target rooms; empty means every socket of the namespace. */
  rooms: ReadonlySet<string>
  /** Rooms (socket ids included) whose sockets must not receive the packet. */
  except: ReadonlySet<string>
  /** The emitting socket for `socket.to(...)`; its id is also in `except`. */
  sender?: RoomMember
  /**
   * The broadcast's place in one order every node shares (its recovery offset). Across nodes an
   * adapter given an offset log delivers such broadcasts in that order (adapters/ordered.ts).
   */
  offset?: number
}

export interface Adapter {
  addAll(member: RoomMember, rooms: Iterable<string>): void
  del(member: RoomMember, room: string): void
  delAll(member: RoomMember): void
  /** The member moved from polling to WebSocket: subscribe it to its rooms' topics. */
  onSubscribed(member: RoomMember): void
  broadcast(packet: EncodedPacket, opts: BroadcastOptions): void
  /** Ids of the local sockets in any of `rooms` (all when empty) and in none of `except`. */
  sockets(rooms: ReadonlySet<string>, except?: ReadonlySet<string>): Set<string>
  /**
   * The rooms of a local socket, its own id included (a list: a few rooms each, and a `Set` per
   * idle socket would cost far more than its members).
   */
  socketRooms(id: string): readonly string[] | undefined
  /** The other nodes, for a cross-node adapter; absent on a single node. */
  readonly remote?: RemoteOperations
  /** Every room with its local members (socket.io `adapter.rooms`). */
  readonly rooms: ReadonlyMap<string, ReadonlySet<string>>
  /**
   * For an adapter that delivers in offset order: the newest offset delivered here so far
   * (undefined while unknown). A restored session is replayed only up to it; what comes after
   * arrives live, once, after the socket rejoined its rooms (io/socket.ts `resume`).
   */
  deliveredOffset?(): number | undefined
  close(): void | Promise<void>
}

export type AdapterFactory = (host: AdapterHost) => Adapter
