/**
 * @module One Engine.IO session seen from Socket.IO: decodes its frames and routes packets
 * to the socket of each namespace it joined.
 *
 * Follows socket.io `lib/client.ts`: CONNECT to an unknown namespace answers CONNECT_ERROR
 * "Invalid namespace"; any other packet for a namespace not joined, or a decoding error,
 * closes the connection; without any namespace joined after `connectTimeout` it is closed.
 */
import type { Logger } from '../../log.ts'
import type { EngineSocket } from '../engine/socket.ts'
import type { Namespace } from './namespace.ts'
import { Decoder, type EncodedPacket, encode, type Packet, PacketType } from './parser.ts'
import type { IOSocket } from './socket.ts'

export interface ClientContext {
  namespace(name: string): Namespace | undefined
  connectTimeout: number
  logger: Logger
}

export class Client {
  private readonly sockets = new Map<string, IOSocket>()
  private readonly decoder = new Decoder()
  private connectTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    readonly conn: EngineSocket,
    private readonly context: ClientContext
  ) {
    conn.onmessage = (data) => this.ondata(data)
    conn.onclose = (reason) => this.onclose(reason)
    conn.onupgrade = () => {
      for (const socket of this.sockets.values()) socket.nsp.adapter.onSubscribed(socket)
    }
    this.connectTimer = setTimeout(() => {
      if (this.sockets.size === 0) this.close()
    }, context.connectTimeout)
  }

  write(packet: EncodedPacket): void {
    this.conn.write(packet)
  }

  /** @internal the namespace accepted `socket`. */
  attach(socket: IOSocket): void {
    this.sockets.set(socket.nsp.name, socket)
    clearTimeout(this.connectTimer)
    this.connectTimer = undefined
  }

  /** @internal */
  remove(socket: IOSocket): void {
    if (this.sockets.get(socket.nsp.name) === socket) this.sockets.delete(socket.nsp.name)
  }

  /** `socket.disconnect(true)`: DISCONNECT every namespace, then close the session. */
  disconnectAll(): void {
    for (const socket of [...this.sockets.values()]) socket.disconnect()
    this.close()
  }

  /** Closes the session from the server side (reason "forced server close"). */
  close(): void {
    if (this.conn.readyState !== 'open') return
    this.conn.onclose = undefined
    this.conn.close()
    this.onclose('forced server close')
  }

  private ondata(data: string | Uint8Array): void {
    const result = this.decoder.add(data)
    if (!result.ok) {
      this.context.logger.debug('invalid socket.io packet', {
        sid: this.conn.id,
        error: result.error,
      })
      for (const socket of this.sockets.values()) socket.onerror(new Error(result.error))
      // socket.io closes the engine connection on a protocol violation (reason "forced close").
      this.conn.close()
      return
    }
    if (result.packet) this.ondecoded(result.packet)
  }

  private ondecoded(packet: Packet): void {
    const socket = this.sockets.get(packet.nsp)
    if (!socket && packet.type === PacketType.CONNECT) {
      this.connect(packet.nsp, (packet.data as Record<string, unknown> | undefined) ?? {})
      return
    }
    if (socket && packet.type !== PacketType.CONNECT && packet.type !== PacketType.CONNECT_ERROR) {
      socket.onpacket(packet)
      return
    }
    this.close()
  }

  private connect(name: string, auth: Record<string, unknown>): void {
    const nsp = this.context.namespace(name)
    if (!nsp) {
      const data = { message: 'Invalid namespace' }
      this.write(encode({ type: PacketType.CONNECT_ERROR, nsp: name, data }))
      return
    }
    void nsp.add(this, auth).catch(() => this.close())
  }

  private onclose(reason: string): void {
    clearTimeout(this.connectTimer)
    this.connectTimer = undefined
    this.decoder.reset()
    for (const socket of [...this.sockets.values()]) socket.onclose(reason)
    this.sockets.clear()
  }
}
