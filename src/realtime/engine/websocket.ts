/**
 * @module Engine.IO WebSocket transport over Bun's ServerWebSocket (one packet per frame).
 *
 * Spec: https://github.com/socketio/engine.io-protocol (v4) — "WebSocket": each packet is its
 * own frame; binary `message` data is a binary frame with no type prefix.
 */
import type { ServerWebSocket } from 'bun'
import type { Logger } from '../../log.ts'
import { decodePacket, type EnginePacket, encodePacket } from './parser.ts'
import type { WebSocketRelay } from './relay.ts'
import type { EngineSocket, RequestInfo, Transport } from './socket.ts'

/** `ws.data` for every socket upgraded by this layer. */
export interface WsData {
  /** Set when the ws upgrades an existing polling session. */
  sid: string | undefined
  request: RequestInfo
  transport: WebSocketTransport | undefined
  /** Set when this node only carries the frames of another node's session (relay.ts). */
  relay?: WebSocketRelay
  /** The engine that upgraded this ws: any engine's handler serves it (several per Bun.serve). */
  engine: WebSocketEvents
}

export type EngineWebSocket = ServerWebSocket<WsData>

export class WebSocketTransport implements Transport {
  readonly name = 'websocket'
  writable = true
  owner: EngineSocket | undefined

  constructor(
    readonly ws: EngineWebSocket,
    private readonly logger: Logger
  ) {}

  send(packets: EnginePacket[]): void {
    if (!this.writable) return
    if (packets.length === 1) {
      this.check(this.ws.send(encodePacket(packets[0] as EnginePacket)))
      return
    }
    this.ws.cork((ws) => {
      for (const packet of packets) this.check(ws.send(encodePacket(packet)))
    })
  }

  /**
   * Bun: -1 queued under backpressure (fine, delivered later), 0 dropped because the client
   * is over `backpressureLimit`. A dropped frame would leave the client with a gap (or half a
   * binary packet), so the session is closed and the client reconnects with fresh state.
   */
  check(status: number): void {
    if (status !== 0 || !this.writable) return
    this.logger.warn('websocket frame dropped (backpressure); closing', { sid: this.owner?.id })
    this.owner?.onClose('transport error')
  }

  subscribe(topic: string): void {
    if (this.writable) this.ws.subscribe(topic)
  }

  unsubscribe(topic: string): void {
    if (this.writable) this.ws.unsubscribe(topic)
  }

  publish(topic: string, frames: readonly (string | Uint8Array)[]): void {
    if (!this.writable) return
    publishFrames(this.ws, topic, frames)
  }

  close(): void {
    if (!this.writable) return
    this.writable = false
    // An empty close frame, as `ws`'s close() sends for engine.io (uWS writes no status for 1005).
    this.ws.close(1005)
  }
}

/**
 * Publishes Socket.IO frames as Engine.IO `message` packets, text first then attachments, so
 * every subscriber sees them in order. `target` is a Bun Server or a ServerWebSocket.
 */
export function publishFrames(
  target: { publish(topic: string, data: string | Uint8Array): number },
  topic: string,
  frames: readonly (string | Uint8Array)[]
): void {
  for (const data of frames) target.publish(topic, encodePacket({ type: 'message', data }))
}

interface WebSocketEvents {
  onOpen(ws: EngineWebSocket): void
  /** This engine's limit; Bun's handler has one limit for all the engines it serves. */
  maxPayload: number
}

/**
 * The Bun `websocket` handler: routes frames to the session that owns the ws. It holds no
 * engine of its own (`ws.data.engine` says which one upgraded the ws), so one handler serves
 * every engine sharing a Bun.serve.
 */
export function createWebSocketHandler(
  maxPayload: number,
  logger: Logger
): Bun.WebSocketHandler<WsData> {
  return {
    // Frames over maxPayload close the ws with 1009, as `ws`'s maxPayload does.
    maxPayloadLength: maxPayload,
    // Liveness is Engine.IO's own ping/pong; Bun's idle timer and pings would double it.
    idleTimeout: 0,
    sendPings: false,
    perMessageDeflate: false,
    open(ws) {
      ws.data.engine.onOpen(ws)
    },
    message(ws, message) {
      if (ws.data.relay) return ws.data.relay.toOwner(message)
      const transport = ws.data.transport
      const owner = transport?.owner
      if (!transport || !owner) return
      const limit = ws.data.engine.maxPayload
      // Only an engine sharing a handler made with a larger limit needs its own check.
      if (limit < maxPayload && byteLength(message) > limit) {
        ws.close(1009)
        return
      }
      const packet = decodePacket(message)
      if (owner.upgrading === transport) {
        if (packet) owner.onUpgradePacket(transport, packet)
        else owner.abortUpgrade(transport)
        return
      }
      if (owner.transport !== transport) return
      if (packet) owner.onPacket(packet)
      else owner.onClose('parse error')
    },
    close(ws, code) {
      ws.data.relay?.close()
      const transport = ws.data.transport
      const owner = transport?.owner
      if (!transport || !owner) return
      transport.writable = false
      if (owner.upgrading === transport) owner.abortUpgrade(transport)
      else if (owner.transport === transport) {
        owner.onClose(code === 1009 ? 'transport error' : 'transport close')
      }
    },
    error(error, ws) {
      // A handler bug must not take the process down; drop that session instead.
      logger.error('websocket handler failed', { error, sid: ws.data.transport?.owner?.id })
      ws.data.transport?.owner?.onClose('transport error')
    },
  }
}

function byteLength(message: string | Buffer): number {
  return typeof message === 'string' ? Buffer.byteLength(message) : message.byteLength
}
