/**
 * @module One Engine.IO session seen from Socket.IO: decodes its frames and routes packets
 * to the socket of each namespace it joined.
 *
 * Follows socket.io `lib/client.ts`: CONNECT to an unknown namespace answers CONNECT_ERROR
 * "Invalid namespace"; any other packet for a namespace not joined, or a decoding error,
 * closes the connection; without any namespace joined after `connectTimeout` it is closed.
 */
import type { Logger } from '../../log.ts'
import type { EngineSocket, EngineSocketHandler } from '../engine/socket.ts'
import type { Codec, FrameDecoder } from './codec.ts'
import type { Namespace } from './namespace.ts'
import { type EncodedPacket, type Packet, PacketType } from './parser.ts'
import type { IOSocket } from './socket.ts'

/** Counts packets for metrics; optional, called synchronously on the hot path. */
export interface IOObserver {
  packetIn?(): void
  packetOut?(kind: 'direct' | 'broadcast'): void
  /** A broadcast left this node: how long the adapter took to hand it out, in ms. */
  broadcast?(ms: number): void
  /** `socket.emit(event, ...args)` to one socket (not room broadcasts), before it is sent. */
  eventOut?(event: string, args: readonly unknown[]): void
}

export interface ClientContext {
  namespace(name: string): Namespace | undefined
  connectTimeout: number
  codec: Codec
  logger: Logger
  observer?: IOObserver
}

export class Client implements EngineSocketHandler {
  /** The socket of the first namespace joined: almost always the only one (no array per client). */
  private socket: IOSocket | undefined
  /** Sockets of further namespaces, when one connection multiplexes several. */
  private more: IOSocket[] | undefined
  private readonly decoder: FrameDecoder
  private connectTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    readonly conn: EngineSocket,
    private readonly context: ClientContext
  ) {
    conn.handler = this
    this.decoder = context.codec.createDecoder()
    this.connectTimer = setTimeout(closeIfIdle, context.connectTimeout, this)
  }

  /** The Engine.IO session id (socket.io's `socket.client.id`). */
  get id(): string {
    return this.conn.id
  }

  /** @internal EngineSocketHandler */
  onupgrade(): void {
    for (const socket of this.sockets()) socket.nsp.adapter.onSubscribed(socket)
  }

  /** Every joined socket, as a new array (callers may remove sockets while iterating). */
  private sockets(): IOSocket[] {
    const first = this.socket ? [this.socket] : []
    return this.more ? [...first, ...this.more] : first
  }

  /** @internal connectTimeout elapsed. */
  closeIfIdle(): void {
    if (!this.socket && !this.more) this.close()
  }

  write(packet: EncodedPacket): void {
    this.context.observer?.packetOut?.('direct')
    this.conn.write(packet)
  }

  /** @internal the observer hears an event emitted to one socket of this client. */
  eventOut(event: string, args: readonly unknown[]): void {
    this.context.observer?.eventOut?.(event, args)
  }

  /** @internal the namespace accepted `socket`. */
  attach(socket: IOSocket): void {
    if (!this.socket) this.socket = socket
    else (this.more ??= []).push(socket)
    clearTimeout(this.connectTimer)
    this.connectTimer = undefined
  }

  /** @internal */
  remove(socket: IOSocket): void {
    if (this.socket === socket) this.socket = this.more?.shift()
    else this.more = this.more?.filter((s) => s !== socket)
    if (this.more?.length === 0) this.more = undefined
  }

  /** `socket.disconnect(true)`: DISCONNECT every namespace, then close the session. */
  disconnectAll(): void {
    for (const socket of this.sockets()) socket.disconnect()
    this.close()
  }

  /** Closes the session from the server side (reason "forced server close"). */
  close(): void {
    if (this.conn.readyState !== 'open') return
    this.conn.handler = undefined
    this.conn.close()
    this.onclose('forced server close')
  }

  /** @internal EngineSocketHandler */
  onmessage(data: string | Uint8Array): void {
    const result = this.decoder.add(data)
    if (!result.ok) {
      this.context.logger.debug('invalid socket.io packet', {
        sid: this.conn.id,
        error: result.error,
      })
      for (const socket of this.sockets()) socket.onerror(new Error(result.error))
      // socket.io closes the engine connection on a protocol violation (reason "forced close").
      this.conn.close()
      return
    }
    if (result.packet) this.ondecoded(result.packet)
  }

  private ondecoded(packet: Packet): void {
    const socket =
      this.socket?.nsp.name === packet.nsp
        ? this.socket
        : this.more?.find((s) => s.nsp.name === packet.nsp)
    if (!socket && packet.type === PacketType.CONNECT) {
      this.connect(packet.nsp, (packet.data as Record<string, unknown> | undefined) ?? {})
      return
    }
    if (socket && packet.type !== PacketType.CONNECT && packet.type !== PacketType.CONNECT_ERROR) {
      this.context.observer?.packetIn?.()
      socket.onpacket(packet)
      return
    }
    this.close()
  }

  private connect(name: string, auth: Record<string, unknown>): void {
    const nsp = this.context.namespace(name)
    if (!nsp) {
      const data = { message: 'Invalid namespace' }
      this.write(this.context.codec.encode({ type: PacketType.CONNECT_ERROR, nsp: name, data }))
      return
    }
    void nsp.add(this, auth).catch(() => this.close())
  }

  /** @internal EngineSocketHandler */
  onclose(reason: string): void {
    clearTimeout(this.connectTimer)
    this.connectTimer = undefined
    this.decoder.reset()
    for (const socket of this.sockets()) socket.onclose(reason)
    this.socket = undefined
    this.more = undefined
  }
}

/** Module-level so each client's connect timer allocates no closure. */
function closeIfIdle(client: Client): void {
  client.closeIfIdle()
}
