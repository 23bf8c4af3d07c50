/**
 * @module Socket.IO socket: one client in one namespace — events, acks, rooms, disconnect.
 *
 * Spec: https://github.com/socketio/socket.io-protocol (v5) — "Exchange protocol". Behaviour
 * (ack ids from the namespace counter, reserved names, disconnect reasons) follows socket.io
 * `lib/socket.ts`.
 */
import type { RoomMember } from '../adapters/adapter.ts'
import type { EngineSocket } from '../engine/socket.ts'
import { BroadcastOperator } from './broadcast.ts'
import type { Client } from './client.ts'
import { Emitter, type Listener, safeCall, safeCallWith } from './emitter.ts'
import { SocketHandshake } from './handshake.ts'
import type { Namespace } from './namespace.ts'
import { type EncodedPacket, JsonText, type Packet, PacketType, RESERVED_EVENTS } from './parser.ts'
import { RECOVERABLE_REASONS, type RestoredSession, tracksOffsets } from './recovery.ts'

export type SocketData = Record<string, any>

type AckCallback = (...args: unknown[]) => void

/** socket.io's error for an ack that did not come back in time. */
export const ACK_TIMEOUT_MESSAGE = 'operation has timed out'

export class IOSocket extends Emitter implements RoomMember {
  readonly id: string
  readonly handshake: SocketHandshake
  data: SocketData = {}
  connected = false
  /** With connection state recovery: the private session id sent in CONNECT `{ sid, pid }`. */
  pid: string | undefined = undefined
  /** True when this connection resumed a dropped session (rooms restored, missed events replayed). */
  recovered = false
  /** False when the CONNECT said `offsets: false`: broadcasts reach it without their offset. */
  readonly tracksOffsets: boolean
  /** Set once the socket left (or never entered) its namespace: no more joins. */
  private left = false
  private acks: Map<number, AckCallback> | undefined
  private anyListeners: Listener[] | undefined
  private anyOutgoing: Listener[] | undefined
  private flags: { timeout?: number } | undefined

  constructor(
    readonly nsp: Namespace,
    readonly client: Client,
    auth: Record<string, unknown>,
    id: string
  ) {
    super(nsp.logger)
    this.id = id
    this.handshake = new SocketHandshake(client.conn.request, auth)
    this.tracksOffsets = tracksOffsets(auth)
  }

  /** The Engine.IO session (`socket.conn.transport.name` is 'polling' or 'websocket'). */
  get conn(): EngineSocket {
    return this.client.conn
  }

  get disconnected(): boolean {
    return !this.connected
  }

  get rooms(): Set<string> {
    return new Set(this.nsp.adapter.socketRooms(this.id))
  }

  /** `socket.rooms.has(room)` without copying the set (a per-message check on the hot path). */
  inRoom(room: string): boolean {
    return this.nsp.adapter.socketRooms(this.id)?.includes(room) ?? false
  }

  // RoomMember: how the adapter reaches this socket.
  get subscribed(): boolean {
    // A socket without offsets gets direct writes (stripped), never the topics' shared bytes.
    return this.tracksOffsets && this.conn.transport.name === 'websocket'
  }
  subscribe(topic: string): void {
    this.conn.transport.subscribe(topic)
  }
  unsubscribe(topic: string): void {
    this.conn.transport.unsubscribe(topic)
  }
  publish(topic: string, packet: EncodedPacket): void {
    this.conn.transport.publish(topic, packet)
  }
  write(packet: EncodedPacket, offset?: number): void {
    // Through the client so the observer counts it.
    if (offset === undefined || this.tracksOffsets) this.client.write(packet)
    else this.client.write(this.nsp.codec.withoutOffset(packet, offset))
  }

  /** Sends an event to this client; a trailing function receives the client's ack. */
  emit(event: string, ...args: unknown[]): boolean {
    if (RESERVED_EVENTS.has(event)) throw new Error(`"${event}" is a reserved event name`)
    const flags = this.flags
    this.flags = undefined
    const packet: Packet = { type: PacketType.EVENT, nsp: this.nsp.name, data: [event, ...args] }
    const last = args[args.length - 1]
    if (typeof last === 'function') {
      ;(packet.data as unknown[]).pop()
      packet.id = this.nsp.nextAckId()
      this.registerAck(packet.id, last as AckCallback, flags?.timeout)
    }
    this.client.eventOut(event, args)
    if (this.anyOutgoing) for (const listener of this.anyOutgoing) listener(event, ...args)
    this.packet(packet)
    return true
  }

  /** Resolves with the client's ack; with `timeout(ms)` rejects when it does not come. */
  emitWithAck(event: string, ...args: unknown[]): Promise<unknown> {
    const withTimeout = this.flags?.timeout !== undefined
    return new Promise((resolve, reject) => {
      this.emit(event, ...args, (first: unknown, second: unknown) => {
        if (!withTimeout) resolve(first)
        else if (first) reject(first)
        else resolve(second)
      })
    })
  }

  /** The next emit's ack gets `(err, ...args)` and fails after `ms`. */
  timeout(ms: number): this {
    this.flags = { timeout: ms }
    return this
  }

  send(...args: unknown[]): this {
    this.emit('message', ...args)
    return this
  }

  /** @internal registers an ack expected for `id` (also used by broadcasts with acks). */
  registerAck(id: number, ack: AckCallback, timeout?: number): void {
    this.acks ??= new Map()
    if (timeout === undefined) {
      this.acks.set(id, ack)
      return
    }
    const timer = setTimeout(() => {
      this.acks?.delete(id)
      ack(new Error(ACK_TIMEOUT_MESSAGE))
    }, timeout)
    this.acks.set(id, (...args) => {
      clearTimeout(timer)
      ack(null, ...args)
    })
  }

  /** Every socket in `room` except this one. */
  to(room: string | string[]): BroadcastOperator {
    return this.broadcast.to(room)
  }
  in(room: string | string[]): BroadcastOperator {
    return this.to(room)
  }
  except(room: string | string[]): BroadcastOperator {
    return this.broadcast.except(room)
  }
  /** Every socket of the namespace except this one. */
  get broadcast(): BroadcastOperator {
    return new BroadcastOperator(this.nsp, new Set(), new Set([this.id]), this)
  }

  /** Joins rooms; allowed from a connection middleware too, as in socket.io. */
  join(rooms: string | string[]): void {
    if (this.left) return
    this.nsp.adapter.addAll(this, Array.isArray(rooms) ? rooms : [rooms])
  }

  leave(room: string): void {
    this.nsp.adapter.del(this, room)
  }

  /**
   * Leaves the namespace (DISCONNECT packet) but, with recovery on, keeps the session: for a
   * client that must reconnect with new credentials (an expired token) and then resume.
   */
  suspend(): this {
    if (!this.connected) return this
    this.packet({ type: PacketType.DISCONNECT, nsp: this.nsp.name })
    this.onclose('server namespace disconnect', true)
    return this
  }

  /** Leaves the namespace (DISCONNECT packet), or with `close` ends the whole connection. */
  disconnect(close = false): this {
    if (!this.connected) return this
    if (close) {
      this.client.disconnectAll()
      return this
    }
    this.packet({ type: PacketType.DISCONNECT, nsp: this.nsp.name })
    this.onclose('server namespace disconnect')
    return this
  }

  onAny(listener: Listener): this {
    this.anyListeners ??= []
    this.anyListeners.push(listener)
    return this
  }

  /** socket.io `onAnyOutgoing`: sees every event emitted to this socket (not room broadcasts). */
  onAnyOutgoing(listener: Listener): this {
    this.anyOutgoing ??= []
    this.anyOutgoing.push(listener)
    return this
  }

  offAny(listener?: Listener): this {
    if (!listener) this.anyListeners = undefined
    else this.anyListeners = this.anyListeners?.filter((l) => l !== listener)
    return this
  }

  /** @internal encodes and writes one packet to this client. */
  packet(packet: Packet): void {
    this.client.write(this.nsp.codec.encode(packet))
  }

  /** @internal CONNECT `{ sid }` then the socket is live (socket.io `_onconnect`). */
  onconnect(): void {
    this.connected = true
    this.nsp.adapter.addAll(this, [this.id])
    const data = this.pid === undefined ? { sid: this.id } : { sid: this.id, pid: this.pid }
    this.packet({ type: PacketType.CONNECT, nsp: this.nsp.name, data })
  }

  /**
   * @internal after CONNECT: back into the saved rooms, then the missed events in order. Events
   * stored but not yet delivered on this node (relayed from another one, still on their way) are
   * left out: they reach the rooms, and so this socket, once they arrive. Synchronous from the
   * hooks' last read to here, so nothing is delivered in between.
   */
  resume(session: RestoredSession): void {
    this.join(session.rooms)
    const upTo = this.nsp.adapter.deliveredOffset?.() ?? Number.POSITIVE_INFINITY
    for (const { json, offset } of session.missed) {
      if (offset > upTo) break
      this.client.write(this.nsp.codec.encodeJson(this.nsp.name, json, offset))
    }
  }

  /** @internal flat dispatch of a decoded packet (socket.io `_onpacket`). */
  onpacket(packet: Packet): void {
    switch (packet.type) {
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT:
        this.onevent(packet)
        return
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        this.onack(packet)
        return
      case PacketType.DISCONNECT:
        this.onclose('client namespace disconnect')
        return
      default:
        return
    }
  }

  private onevent(packet: Packet): void {
    // The decoded packet is this call's alone: its array becomes the arguments, not a copy.
    const args: unknown[] = Array.isArray(packet.data) ? packet.data : []
    if (packet.id !== undefined) args.push(this.ackFor(packet.id))
    if (this.anyListeners) {
      for (const listener of [...this.anyListeners]) safeCall(this.logger, 'any', listener, args)
    }
    const event = args.shift()
    if (typeof event === 'string' || typeof event === 'number') {
      const name = String(event)
      const shared = this.nsp.handlerOf(name)
      if (shared) safeCallWith(this.logger, name, shared, this, args)
      this.emitLocal(name, args)
    }
  }

  /**
   * The function handed to listeners; answers once, like socket.io's `ack(id)`. One JsonText
   * argument goes out as its text (parser.ts).
   */
  private ackFor(id: number): (...args: unknown[]) => void {
    let sent = false
    return (...args: unknown[]) => {
      if (sent || !this.connected) return
      sent = true
      const only = args[0]
      if (args.length === 1 && only instanceof JsonText) {
        this.client.write(this.nsp.codec.encodeJsonAck(this.nsp.name, id, `[${only.text}]`))
      } else this.packet({ type: PacketType.ACK, nsp: this.nsp.name, id, data: args })
    }
  }

  private onack(packet: Packet): void {
    if (packet.id === undefined) return
    const ack = this.acks?.get(packet.id)
    if (!ack) return
    this.acks?.delete(packet.id)
    try {
      ack(...(Array.isArray(packet.data) ? packet.data : []))
    } catch (error) {
      this.logger.error('ack callback threw', { error })
    }
  }

  /** @internal the socket leaves its namespace for `reason` (socket.io `_onclose`). */
  onclose(reason: string, resumable = RECOVERABLE_REASONS.has(reason)): void {
    if (!this.connected) return
    // Saved before the rooms go: the client did not choose to leave and will ask for them back.
    if (this.pid !== undefined && resumable) {
      const rooms = [...this.rooms].filter((room) => room !== this.id)
      this.nsp.saveSession({
        pid: this.pid,
        id: this.id,
        nsp: this.nsp.name,
        rooms,
        data: this.data,
      })
    } else if (this.pid !== undefined) {
      this.nsp.forgetSession(this.pid)
    }
    this.left = true
    this.emitClose('disconnecting', reason)
    this.nsp.adapter.delAll(this)
    this.nsp.remove(this)
    this.client.remove(this)
    this.connected = false
    this.emitClose('disconnect', reason)
  }

  /** The namespace's shared handler first, then this socket's own listeners (as for events). */
  private emitClose(event: 'disconnecting' | 'disconnect', reason: string): void {
    const shared = this.nsp.closeHandlerOf(event)
    if (shared) safeCall(this.logger, event, shared, [this, reason])
    this.emitLocal(event, [reason])
  }

  /** @internal the socket never connected (refused, or its client went away). */
  discard(): void {
    this.left = true
    this.nsp.adapter.delAll(this)
  }

  /** @internal CONNECT_ERROR `{ message, data? }` from a refusing middleware. */
  connectError(message: string, data: unknown): void {
    const payload = data === undefined ? { message } : { message, data }
    this.packet({ type: PacketType.CONNECT_ERROR, nsp: this.nsp.name, data: payload })
  }

  /** @internal a connection-level error, surfaced as the `error` event. */
  onerror(error: Error): void {
    this.emitLocal('error', [error])
  }
}
