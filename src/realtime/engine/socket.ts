/**
 * @module Engine.IO session: one client across its transports, heartbeat, upgrade, close.
 *
 * Spec: https://github.com/socketio/engine.io-protocol (v4) — "Heartbeat", "Upgrade" and
 * "Handshake". The server sends `ping` every `pingInterval` and closes the session with
 * "ping timeout" when no `pong` comes back within `pingTimeout`.
 */
import type { Logger } from '../../log.ts'
import { Emitter } from '../io/emitter.ts'
import { DelayQueue, type Queued } from './delay-queue.ts'
import type { EnginePacket } from './parser.ts'

/** Reasons a session closes, as the official server names them (engine.io `Socket#onClose`). */
export type CloseReason =
  | 'transport close'
  | 'transport error'
  | 'ping timeout'
  | 'parse error'
  | 'forced close'

/** What a session needs from its current transport. */
export interface Transport {
  readonly name: 'polling' | 'websocket'
  /** True when `send` delivers now (WebSocket always; polling while a GET is held). */
  readonly writable: boolean
  send(packets: EnginePacket[]): void
  /** Ends the transport; `graceful` lets polling deliver a `close` packet first. */
  close(graceful: boolean): void
  /** Bun topic membership; no-ops on polling, whose sockets get broadcasts by direct write. */
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  /** Publishes `message` frames to a topic from this ws (Bun skips the publisher). */
  publish(topic: string, frames: readonly (string | Uint8Array)[]): void
}

/** The request facts kept for the session lifetime (kept small: 10k idle sessions). */
export interface RequestInfo {
  /**
   * Bun's native headers, turned into a plain object only if someone reads them; or, with the
   * engine's `keepHeaders`, a plain object of just those (lower-case names).
   */
  headers: Headers | Readonly<Record<string, string>>
  url: string
  address: string
}

export interface EngineSocketOptions {
  pingInterval: number
  pingTimeout: number
  maxPayload: number
  upgradeTimeout: number
  logger: Logger
  /** The engine's heartbeat timers, shared by its sessions (createHeartbeat). */
  heartbeat: Heartbeats
}

/** One queue per heartbeat delay: every session of an engine waits on the same two timers. */
export interface Heartbeats {
  interval: DelayQueue<EngineSocket>
  timeout: DelayQueue<EngineSocket>
}

/** The heartbeat queues of one engine (pingInterval, pingTimeout). */
export function createHeartbeats(
  pingInterval: number,
  pingTimeout: number,
  logger: Logger
): Heartbeats {
  return {
    interval: new DelayQueue(pingInterval, onTimer, logger),
    timeout: new DelayQueue(pingTimeout, onTimer, logger),
  }
}

enum Heartbeat {
  WaitingToPing = 0,
  WaitingForPong = 1,
  PongRefreshed = 2,
  Closing = 3,
}

/** What the Socket.IO layer implements to hear from its session. */
export interface EngineSocketHandler {
  /** Every `message` packet, text or binary. */
  onmessage(data: string | Uint8Array): void
  /** Once, when the session is gone, with the protocol's reason. */
  onclose(reason: string): void
  /** The transport switched to WebSocket (rooms must subscribe the new ws). */
  onupgrade(): void
}

/**
 * The session inside `batch`, whose flush waits for the batch's end. Module-level, not a field:
 * a batch is synchronous, so one at a time, and 10k idle sessions carry nothing for it.
 */
let batching: EngineSocket | undefined

/** Module-level: one function serves every session's heartbeat. */
function onTimer(socket: EngineSocket): void {
  socket.onTimer()
}

/**
 * Besides its handler, a session emits engine.io's events for whoever listens (`conn.on(...)`):
 * `packet` and `packetCreate` (each packet in and out), `upgrade` (the new transport) and
 * `close` (the reason). With no listener they cost one field check.
 */
export class EngineSocket extends Emitter implements Queued {
  readyState: 'open' | 'closing' | 'closed' = 'open'
  transport: Transport
  upgrading: Transport | undefined
  upgraded = false
  /** Set when the client has sent a probe on the upgrading transport (polling must yield). */
  probed = false
  /** The layer above (one object, not three closures: 10k idle sessions stay small). */
  handler: EngineSocketHandler | undefined
  /** Allocated only while packets wait for a poll. */
  private writeBuffer: EnginePacket[] | undefined
  /** @internal the heartbeat queue this session waits in, and where (delay-queue.ts). */
  queue: Queued['queue'] = undefined
  queueSlot = 0
  private heartbeat = Heartbeat.WaitingToPing
  private upgradeTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    readonly id: string,
    transport: Transport,
    readonly request: RequestInfo,
    private readonly opts: EngineSocketOptions,
    private readonly onremove: (socket: EngineSocket) => void
  ) {
    super(opts.logger)
    this.transport = transport
  }

  /** Sends the `open` packet (spec: "Handshake") and starts the heartbeat. */
  open(upgrades: string[]): void {
    const { pingInterval, pingTimeout, maxPayload } = this.opts
    const data = JSON.stringify({ sid: this.id, upgrades, pingInterval, pingTimeout, maxPayload })
    this.sendPacket({ type: 'open', data })
    this.schedule(Heartbeat.WaitingToPing, 'interval')
  }

  /** Queues Socket.IO frames as `message` packets and flushes when the transport can write. */
  write(frames: readonly (string | Uint8Array)[]): void {
    if (this.readyState !== 'open') return
    this.writeBuffer ??= []
    for (const data of frames) {
      const packet: EnginePacket = { type: 'message', data }
      this.writeBuffer.push(packet)
      if (this.listening) this.emitLocal('packetCreate', [packet])
    }
    this.flush()
  }

  sendPacket(packet: EnginePacket): void {
    if (this.readyState !== 'open') return
    this.writeBuffer ??= []
    this.writeBuffer.push(packet)
    if (this.listening) this.emitLocal('packetCreate', [packet])
    this.flush()
  }

  /**
   * Runs `write` with every packet it queues held back, then hands them to the transport at once,
   * in the order queued: on a WebSocket one corked burst (one syscall for the lot, not one per
   * frame), on polling one payload. A resume's CONNECT and its replay go out this way.
   */
  batch(write: () => void): void {
    const outer = batching
    batching = this
    try {
      write()
    } finally {
      batching = outer
      this.flush()
    }
  }

  /** Hands buffered packets to the transport when it can write (a held poll, or a ws). */
  flush(): void {
    const packets = this.writeBuffer
    if (batching === this) return
    if (this.readyState === 'closed' || !packets || !this.transport.writable) return
    this.writeBuffer = undefined
    this.transport.send(packets)
  }

  /** Packets from the current transport. */
  onPacket(packet: EnginePacket): void {
    // A client `close` also ends a session the server is already closing.
    if (packet.type === 'close' && this.readyState === 'closing') this.onClose('transport close')
    if (this.readyState !== 'open') return
    if (this.listening) this.emitLocal('packet', [packet])
    // engine.io: a packet received while waiting for a pong extends the timeout once.
    if (this.heartbeat === Heartbeat.WaitingForPong && packet.type !== 'pong') {
      this.schedule(Heartbeat.PongRefreshed, 'timeout')
    }
    switch (packet.type) {
      case 'pong':
        this.schedule(Heartbeat.WaitingToPing, 'interval')
        return
      case 'message':
        if (packet.data !== undefined) this.handler?.onmessage(packet.data)
        return
      case 'close':
        this.onClose('transport close')
        return
      case 'ping':
        // v4: the heartbeat is server-driven; a client ping is a protocol error.
        this.onClose('transport error')
        return
      default:
        // open/upgrade/noop have no meaning from the client on the current transport.
        return
    }
  }

  /** Starts the polling → websocket upgrade (spec: "Upgrade"). */
  beginUpgrade(transport: Transport): boolean {
    if (this.readyState !== 'open' || this.upgrading || this.upgraded) return false
    this.upgrading = transport
    this.upgradeTimer = setTimeout(() => this.abortUpgrade(), this.opts.upgradeTimeout)
    return true
  }

  /** Packets from the transport being upgraded to: `2probe`, then `5`. */
  onUpgradePacket(transport: Transport, packet: EnginePacket): void {
    if (transport !== this.upgrading) return
    if (packet.type === 'ping' && packet.data === 'probe') {
      transport.send([{ type: 'pong', data: 'probe' }])
      this.probed = true
      // The client pauses polling after the probe: release its held GET now.
      if (this.transport.writable) this.transport.send([{ type: 'noop' }])
      return
    }
    if (packet.type === 'upgrade' && this.probed && this.readyState === 'open') {
      this.clearUpgrade()
      const previous = this.transport
      this.transport = transport
      this.upgraded = true
      previous.close(false)
      // Buffered packets go out before any publish reaches the new ws (ordering).
      this.flush()
      this.handler?.onupgrade()
      if (this.listening) this.emitLocal('upgrade', [transport])
      return
    }
    this.abortUpgrade()
  }

  /** The upgrading transport closed or misbehaved: keep the session on polling. */
  abortUpgrade(transport?: Transport): void {
    const candidate = this.upgrading
    if (!candidate || (transport && transport !== candidate)) return
    this.clearUpgrade()
    candidate.close(false)
  }

  private clearUpgrade(): void {
    clearTimeout(this.upgradeTimer)
    this.upgradeTimer = undefined
    this.upgrading = undefined
    this.probed = false
  }

  /**
   * Server-initiated close. On polling the `close` packet travels in its own poll response,
   * after any buffered packets (engine.io waits for "drain", then `shouldClose`): the client
   * handles a message and a close in one payload in the wrong order for Socket.IO.
   */
  close(discard = false): void {
    if (this.readyState === 'closing' && discard) this.onClose('forced close')
    if (this.readyState !== 'open') return
    this.readyState = 'closing'
    this.abortUpgrade()
    // `discard` (server shutdown) does not wait for a poll, like engine.io's `close(true)`.
    if (this.transport.name === 'websocket' || this.transport.writable || discard) {
      this.transport.close(true)
      this.onClose('forced close')
      return
    }
    // A client that never polls again is dropped after pingTimeout.
    this.schedule(Heartbeat.Closing, 'timeout')
  }

  /** Called by polling when a GET arrives on a closing session. */
  finishClosing(): void {
    if (this.readyState !== 'closing') return
    const packets = this.writeBuffer
    if (packets) {
      this.writeBuffer = undefined
      this.transport.send(packets)
      return
    }
    this.transport.close(true)
    this.onClose('forced close')
  }

  /** Final state change; idempotent. */
  onClose(reason: CloseReason): void {
    if (this.readyState === 'closed') return
    this.readyState = 'closed'
    this.queue?.cancel(this)
    this.writeBuffer = undefined
    this.abortUpgrade()
    // engine.io: a held poll gets the close packet `1` for every server-side close, and a noop
    // only when the client closed the session itself (its close packet, or the poll went away).
    this.transport.close(reason !== 'transport close')
    this.onremove(this)
    this.opts.logger.debug('session closed', { sid: this.id, reason })
    const handler = this.handler
    this.handler = undefined
    handler?.onclose(reason)
    if (this.listening) this.emitLocal('close', [reason])
  }

  /** The whole heartbeat is one entry in the engine's queue for `delay` (no timer per session). */
  private schedule(state: Heartbeat, delay: 'interval' | 'timeout'): void {
    this.heartbeat = state
    this.opts.heartbeat[delay].add(this)
  }

  /** @internal the heartbeat timer fired. */
  onTimer(): void {
    if (this.heartbeat === Heartbeat.Closing) {
      this.onClose('forced close')
      return
    }
    if (this.readyState !== 'open') return
    if (this.heartbeat === Heartbeat.WaitingToPing) {
      this.sendPacket({ type: 'ping' })
      this.schedule(Heartbeat.WaitingForPong, 'timeout')
      return
    }
    this.onClose('ping timeout')
  }
}
