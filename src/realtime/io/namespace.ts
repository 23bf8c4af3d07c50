/**
 * @module Namespace: its sockets, its connection middlewares, its adapter and its broadcasts.
 *
 * Follows socket.io `lib/namespace.ts`: a CONNECT runs the middlewares in order; `next(err)`
 * answers CONNECT_ERROR `{ message, data? }`; otherwise the socket joins its own room, gets
 * CONNECT `{ sid }`, and `connection` fires.
 */
import type { Logger } from '../../log.ts'
import type {
  AdapterFactory,
  AdapterHost,
  ServerSideAck,
  SocketDetails,
} from '../adapters/adapter.ts'
import { RoomEventsAdapter } from '../adapters/room-events.ts'
import { generateId } from '../engine/server.ts'
import { BroadcastOperator } from './broadcast.ts'
import type { Client } from './client.ts'
import type { Codec } from './codec.ts'
import { Emitter } from './emitter.ts'
import { type EncodedPacket, RESERVED_EVENTS } from './parser.ts'
import {
  type RecoveryHooks,
  type RestoredSession,
  recoveryRequest,
  type SavedSession,
} from './recovery.ts'
import type { FetchedSocket } from './remote-socket.ts'
import type { IOServer } from './server.ts'
import { IOSocket } from './socket.ts'

/** Events of the namespace itself that a server-side emit may not name (socket.io's). */
const SERVER_RESERVED: ReadonlySet<string> = new Set(['connect', 'connection', 'new_namespace'])

/** An error passed to `next()`; `data` is sent to the client as CONNECT_ERROR `data`. */
export type MiddlewareError = Error & { data?: unknown }
export type Middleware = (
  socket: IOSocket,
  next: (err?: MiddlewareError) => void
) => void | Promise<void>

/** A namespace-wide event handler: the socket, then the event's arguments (the ack last, if asked). */
export type SharedHandler = (socket: IOSocket, ...args: any[]) => unknown

/** The socket lifecycle events a shared handler may take (with the reason). */
type CloseEvent = 'disconnecting' | 'disconnect'

/** What a namespace needs from the server that owns it. */
export interface NamespaceContext {
  logger: Logger
  adapter: AdapterFactory
  /** `server.publish` of each frame; false before `io.attach(server)`. */
  publish(topic: string, packet: EncodedPacket): boolean
  /** Connection state recovery; absent: CONNECT answers `{ sid }` only. */
  recovery?: RecoveryHooks | undefined
  /** The `auth` fields an accepted socket keeps (`handshakeAuth`); absent: all. */
  keepAuth?: readonly string[] | undefined
  /** The packet codec every socket of the server speaks (io/codec.ts). */
  codec: Codec
  /** The server that owns the namespace (`nsp.server`, as in socket.io). */
  server(): IOServer
}

export class Namespace extends Emitter implements AdapterHost {
  readonly sockets = new Map<string, IOSocket>()
  /** The room fan-out; `adapter.on('join-room', (room, id) => …)` and the other room events. */
  readonly adapter: RoomEventsAdapter
  private readonly middlewares: Middleware[] = []
  private ackId = 0
  /** Event handlers shared by every socket (see `handle`). */
  private readonly handlers = new Map<string, SharedHandler>()
  /** The shared `disconnecting` and `disconnect` handlers: never reachable from a client event. */
  private readonly closeHandlers = new Map<CloseEvent, SharedHandler>()
  /** Session saves still writing; `io.close()` waits for them. */
  private readonly saving = new Set<Promise<void>>()

  readonly codec: Codec

  constructor(
    readonly name: string,
    private readonly context: NamespaceContext
  ) {
    super(context.logger)
    this.codec = context.codec
    this.adapter = new RoomEventsAdapter(context.adapter(this), context.logger)
  }

  /** The server that owns this namespace. */
  get server(): IOServer {
    return this.context.server()
  }

  /** Registers a connection middleware (`io.use`). */
  use(fn: Middleware): this {
    this.middlewares.push(fn)
    return this
  }

  /**
   * Handles `event` for every socket of the namespace with one function taking the socket first:
   * it runs before the socket's own `on` listeners. One table instead of a listener per event
   * per socket keeps idle connections small (10k sockets × 40 events is 400k closures).
   * `disconnecting` and `disconnect` take `(socket, reason)` when the socket leaves, like a
   * socket's own listeners of those events but with no listener, closure or array per socket.
   * @example io.sockets.handle('ping-me', (socket, payload, ack) => ack?.(payload))
   */
  handle(event: string, handler: SharedHandler): this {
    if (event === 'disconnecting' || event === 'disconnect') this.closeHandlers.set(event, handler)
    else if (RESERVED_EVENTS.has(event)) throw new Error(`"${event}" is a reserved event name`)
    else this.handlers.set(event, handler)
    return this
  }

  /** @internal the shared handler of a client's `event`, if any. */
  handlerOf(event: string): SharedHandler | undefined {
    return this.handlers.get(event)
  }

  /** @internal the shared handler of `disconnecting` or `disconnect`, if any. */
  closeHandlerOf(event: CloseEvent): SharedHandler | undefined {
    return this.closeHandlers.get(event)
  }

  to(room: string | string[]): BroadcastOperator {
    // One operator, not an empty one and then its `to` (every room publish comes through here).
    return typeof room === 'string'
      ? new BroadcastOperator(this, new Set([room]))
      : new BroadcastOperator(this).to(room)
  }
  in(room: string | string[]): BroadcastOperator {
    return this.to(room)
  }
  except(room: string | string[]): BroadcastOperator {
    return new BroadcastOperator(this).except(room)
  }
  timeout(ms: number): BroadcastOperator {
    return new BroadcastOperator(this).timeout(ms)
  }
  /** Sends to every socket of the namespace. */
  emit(event: string, ...args: unknown[]): boolean {
    return new BroadcastOperator(this).emit(event, ...args)
  }
  /** This node only: `io.local.fetchSockets()` gives this node's `IOSocket`s. */
  get local(): BroadcastOperator<IOSocket> {
    return new BroadcastOperator(this).local
  }
  /** The sockets of every node (see BroadcastOperator.fetchSockets). */
  fetchSockets(): Promise<FetchedSocket[]> {
    return new BroadcastOperator(this).fetchSockets()
  }

  /**
   * Sends `[event, ...args]` to the namespace's listeners (`io.on(event, …)`) on every other node,
   * never to a client (socket.io `serverSideEmit`). A trailing callback gets
   * `(err, responses)`: one answer from each other node, or an error with the answers so far
   * after the adapter's request timeout; `(null, [])` on a single node.
   * @example io.serverSideEmit('reload', 2, (err, answers) => log.info('reloaded', { answers }))
   */
  serverSideEmit(event: string, ...args: unknown[]): boolean {
    if (SERVER_RESERVED.has(event)) throw new Error(`"${event}" is a reserved event name`)
    const last = args[args.length - 1]
    const ack = typeof last === 'function' ? (args.pop() as ServerSideAck) : undefined
    const remote = this.adapter.remote
    if (remote) remote.serverSideEmit([event, ...args], ack)
    else ack?.(null, [])
    return true
  }

  /** Resolves with the other nodes' answers; rejects after the timeout (`err.responses` set). */
  serverSideEmitWithAck(event: string, ...args: unknown[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.serverSideEmit(event, ...args, (err: Error | null, responses: unknown[]) => {
        if (!err) return resolve(responses)
        Object.assign(err, { responses })
        reject(err)
      })
    })
  }
  socketsJoin(room: string | string[]): void {
    new BroadcastOperator(this).socketsJoin(room)
  }
  socketsLeave(room: string | string[]): void {
    new BroadcastOperator(this).socketsLeave(room)
  }
  disconnectSockets(close = false): void {
    new BroadcastOperator(this).disconnectSockets(close)
  }

  /** @internal ack ids come from one counter per namespace, as in socket.io. */
  nextAckId(): number {
    return this.ackId++
  }

  // AdapterHost
  member(id: string): IOSocket | undefined {
    return this.sockets.get(id)
  }
  publish(topic: string, packet: EncodedPacket): boolean {
    return this.context.publish(topic, packet)
  }
  describe(id: string): SocketDetails | undefined {
    const socket = this.sockets.get(id)
    if (!socket) return undefined
    const h = socket.handshake
    const handshake = {
      headers: h.headers,
      time: h.time,
      address: h.address,
      xdomain: h.xdomain,
      secure: h.secure,
      issued: h.issued,
      url: h.url,
      query: h.query,
      auth: h.auth,
    }
    return { id, handshake, rooms: [...socket.rooms], data: socket.data }
  }
  onServerSideEmit(args: unknown[]): void {
    const [event, ...rest] = args
    if (typeof event !== 'string' || SERVER_RESERVED.has(event)) return
    this.emitLocal(event, rest)
  }

  /** @internal a CONNECT for this namespace: middlewares, then CONNECT or CONNECT_ERROR. */
  async add(client: Client, auth: Record<string, unknown>): Promise<IOSocket | undefined> {
    let socket = new IOSocket(this, client, auth, generateId())
    const error = await this.runMiddlewares(socket)
    // The client may have gone while an async middleware ran.
    if (client.conn.readyState !== 'open' || error) {
      socket.discard()
      if (error && client.conn.readyState === 'open') socket.connectError(error.message, error.data)
      return undefined
    }
    const recovered = this.context.recovery ? await this.recover(socket, auth) : undefined
    if (recovered) socket = recovered.socket
    if (this.context.keepAuth) socket.handshake.keepAuth(this.context.keepAuth)
    if (client.conn.readyState !== 'open') {
      socket.discard()
      return undefined
    }
    this.sockets.set(socket.id, socket)
    client.attach(socket)
    // CONNECT goes out before `connection` listeners can emit (socket.io ordering); a resume's
    // replay follows it in the same write.
    if (recovered) {
      const { session } = recovered
      client.conn.batch(() => {
        socket.onconnect()
        socket.resume(session)
      })
    } else socket.onconnect()
    this.emitLocal('connect', [socket])
    this.emitLocal('connection', [socket])
    return socket
  }

  /** @internal */
  remove(socket: IOSocket): void {
    if (this.sockets.get(socket.id) === socket) this.sockets.delete(socket.id)
  }

  /**
   * With recovery on, every socket gets a pid; a CONNECT with `{ pid, offset }` that the hooks
   * accept comes back as the old socket id, its rooms and the events it missed.
   */
  private async recover(
    socket: IOSocket,
    auth: Record<string, unknown>
  ): Promise<{ socket: IOSocket; session: RestoredSession } | undefined> {
    const request = recoveryRequest(auth)
    let session: RestoredSession | undefined
    if (request && this.context.recovery) {
      try {
        session = await this.context.recovery.restore({ ...request, nsp: this.name, socket })
      } catch (error) {
        this.logger.error('session restore failed', { nsp: this.name, error })
      }
    }
    // Never two live sockets with one id: a session still connected here is not restored.
    if (!request || !session || this.sockets.has(session.id)) {
      socket.pid = generateId()
      return undefined
    }
    const restored = new IOSocket(this, socket.client, auth, session.id)
    restored.data = socket.data
    restored.pid = request.pid
    restored.recovered = true
    socket.discard()
    return { socket: restored, session }
  }

  /** @internal a dropped socket's session goes to the recovery hooks. */
  saveSession(session: SavedSession): void {
    const hooks = this.context.recovery
    if (!hooks) return
    const saving = (async () => {
      try {
        await hooks.save(session)
      } catch (error) {
        this.logger.error('session save failed', { nsp: this.name, error })
      }
    })()
    this.saving.add(saving)
    void saving.finally(() => this.saving.delete(saving))
  }

  /** @internal a socket with a pid left for good. */
  forgetSession(pid: string): void {
    try {
      this.context.recovery?.forget?.(pid)
    } catch (error) {
      this.logger.error('session forget failed', { nsp: this.name, error })
    }
  }

  /** @internal resolves once every session save under way has finished. */
  async settleSaves(): Promise<void> {
    await Promise.all([...this.saving])
  }

  private async runMiddlewares(socket: IOSocket): Promise<MiddlewareError | undefined> {
    for (const fn of this.middlewares) {
      const error = await new Promise<MiddlewareError | undefined>((resolve) => {
        const failed = (thrown: unknown) => {
          // A bug in a middleware is logged; the client gets a generic refusal.
          this.logger.error('connection middleware failed', { nsp: this.name, error: thrown })
          resolve(new Error('Internal server error'))
        }
        try {
          const result = fn(socket, (err) => resolve(err ? toMiddlewareError(err) : undefined))
          if (result instanceof Promise) result.catch(failed)
        } catch (thrown) {
          failed(thrown)
        }
      })
      if (error) return error
    }
    return undefined
  }
}

function toMiddlewareError(err: unknown): MiddlewareError {
  if (err instanceof Error) return err
  const error: MiddlewareError = new Error(String(err))
  return error
}
