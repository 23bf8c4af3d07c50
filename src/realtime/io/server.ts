/**
 * @module The Socket.IO server: options, namespaces, the Engine.IO server under them, and the
 * hooks the app wires into `Bun.serve` (`handles`, `handleRequest`, `websocket`, `attach`).
 */
import { type Logger, SILENT_LOGGER } from '../../log.ts'
import type { AdapterFactory } from '../adapters/adapter.ts'
import { createBunTopicsAdapter } from '../adapters/bun-topics.ts'
import type { Forwarder } from '../engine/forward.ts'
import {
  type BunServerLike,
  type CorsOptions,
  createEngine,
  type Engine,
} from '../engine/server.ts'
import { publishFrames, type WsData } from '../engine/websocket.ts'
import type { BroadcastOperator } from './broadcast.ts'
import { Client, type IOObserver } from './client.ts'
import { createCodec, DEFAULT_CODEC, type Parser } from './codec.ts'
import { Emitter, type Listener } from './emitter.ts'
import { type Middleware, Namespace } from './namespace.ts'
import type { RecoveryHooks } from './recovery.ts'
import type { FetchedSocket } from './remote-socket.ts'
import type { IOSocket } from './socket.ts'

export interface IOOptions {
  /** URL path prefix of the endpoint (socket.io default). */
  path?: string
  pingInterval?: number
  pingTimeout?: number
  /** Largest accepted message or polling body, in bytes (engine.io `maxHttpBufferSize`). */
  maxPayload?: number
  /** A session that joins no namespace within this many ms is closed. */
  connectTimeout?: number
  /** How long a started polling → websocket upgrade may take. */
  upgradeTimeout?: number
  /** CORS for long-polling; absent means no CORS headers (same origin only). */
  cors?: CorsOptions
  logger?: Logger
  /** Room fan-out; defaults to Bun topics. */
  adapter?: AdapterFactory
  /** Connection state recovery (see recovery.ts); absent: off, as in socket.io. */
  recovery?: RecoveryHooks
  /** Prepended to Engine.IO session ids (e.g. `<nodeId>.`) so other nodes can find the owner. */
  sidPrefix?: string
  /** Answers polling requests for sessions held by another node (see engine/forward.ts). */
  forward?: Forwarder
  /** Packet counters for metrics. */
  observer?: IOObserver
  /**
   * The request headers `socket.handshake.headers` keeps (lower-case names, `origin` always);
   * absent: all, as socket.io. Fewer is less memory per idle connection.
   */
  handshakeHeaders?: readonly string[]
  /**
   * The CONNECT payload's fields `socket.handshake.auth` keeps once the middlewares have accepted
   * the socket; absent: all, as socket.io. A bearer token verified at the handshake and held by
   * every socket is a few hundred bytes per idle connection.
   */
  handshakeAuth?: readonly string[]
  /**
   * A custom packet parser, as socket.io's `parser` option: an object with `Encoder` and
   * `Decoder` classes (e.g. socket.io-msgpack-parser). Clients must use the same one.
   */
  parser?: Parser
}

export interface IOServer {
  /** True when the request is for this endpoint (`path`). */
  handles(req: Request): boolean
  /** Answers an endpoint request; undefined when it was upgraded to a WebSocket. */
  handleRequest(req: Request, server: BunServerLike): Promise<Response | undefined>
  /** The Bun `websocket` handler to pass to `Bun.serve`. */
  readonly websocket: Bun.WebSocketHandler<WsData>
  /** Gives the layer the Bun server so broadcasts use `server.publish`. */
  attach(server: BunServerLike): void
  readonly engine: Engine
  /** The main namespace `/`. */
  readonly sockets: Namespace
  /** Every namespace by name (socket.io's `io._nsps`, which tools such as admin-ui read). */
  readonly _nsps: ReadonlyMap<string, Namespace>
  of(name: string): Namespace
  use(fn: Middleware): IOServer
  on(event: 'connection' | 'connect', listener: (socket: IOSocket) => unknown): IOServer
  /** A namespace was created (`io.of(name)` for a new name). */
  on(event: 'new_namespace', listener: (nsp: Namespace) => unknown): IOServer
  /** Any other name: a `serverSideEmit` from another server, `(...args, ack?)`. */
  on(event: string, listener: Listener): IOServer
  once(event: 'connection' | 'connect', listener: (socket: IOSocket) => unknown): IOServer
  once(event: string, listener: Listener): IOServer
  off(event: string, listener?: Listener): IOServer
  to(room: string | string[]): BroadcastOperator
  in(room: string | string[]): BroadcastOperator
  except(room: string | string[]): BroadcastOperator
  timeout(ms: number): BroadcastOperator
  emit(event: string, ...args: unknown[]): boolean
  /** This node only (socket.io's `local` flag): `io.local.fetchSockets()` gives `IOSocket`s. */
  readonly local: BroadcastOperator<IOSocket>
  /** The sockets of every node: `IOSocket`s here, `RemoteSocket`s elsewhere. */
  fetchSockets(): Promise<FetchedSocket[]>
  socketsJoin(room: string | string[]): void
  socketsLeave(room: string | string[]): void
  disconnectSockets(close?: boolean): void
  /** To the namespace listeners of every other node; a trailing callback gets their answers. */
  serverSideEmit(event: string, ...args: unknown[]): boolean
  serverSideEmitWithAck(event: string, ...args: unknown[]): Promise<unknown[]>
  /** Disconnects every socket ("server shutting down") and closes every session. */
  close(): Promise<void>
}

/**
 * Creates the Socket.IO server; wire `handles`/`handleRequest`/`websocket` into `Bun.serve`
 * and call `attach(server)` once it runs.
 *
 * @example
 * const io = createIO({ pingInterval: 25_000, cors: { origins: ['https://app.example'] } })
 * io.use((socket, next) => (verify(socket.handshake.auth.token) ? next() : next(new Error('Authentication error'))))
 * io.on('connection', (socket) => {
 *   socket.on('join-city-chat', ({ cityId }, ack) => { socket.join(`city:${cityId}`); ack?.({ ok: true }) })
 * })
 * const server = Bun.serve({
 *   fetch: (req, server) => (io.handles(req) ? io.handleRequest(req, server) : app.fetch(req)),
 *   websocket: io.websocket,
 * })
 * io.attach(server)
 */
export function createIO({
  path = '/socket.io/',
  pingInterval = 25_000,
  pingTimeout = 20_000,
  maxPayload = 1_000_000,
  connectTimeout = 45_000,
  upgradeTimeout = 10_000,
  cors,
  logger = SILENT_LOGGER,
  adapter = createBunTopicsAdapter,
  recovery,
  sidPrefix,
  forward,
  observer,
  parser,
  handshakeHeaders,
  handshakeAuth,
}: IOOptions = {}): IOServer {
  const log = logger.child('realtime')
  const nsps = new Map<string, Namespace>()
  /** The server's own events (`new_namespace`); every other name is the main namespace's. */
  const own = new ServerEvents(log)
  let bunServer: BunServerLike | undefined

  const codec = parser ? createCodec(parser) : DEFAULT_CODEC
  const context = {
    logger: log.child('io'),
    codec,
    recovery,
    keepAuth: handshakeAuth,
    adapter: observer ? observed(adapter, observer) : adapter,
    publish(topic: string, packet: readonly (string | Uint8Array)[]): boolean {
      if (!bunServer) return false
      publishFrames(bunServer, topic, packet)
      return true
    },
    server: () => io,
  }
  const of = (name: string): Namespace => {
    const normalized = name.startsWith('/') ? name : `/${name}`
    let nsp = nsps.get(normalized)
    if (!nsp) {
      nsp = new Namespace(normalized, context)
      nsps.set(normalized, nsp)
      own.announce(nsp)
    }
    return nsp
  }
  const main = of('/')
  const clientContext = {
    namespace: (name: string) => nsps.get(name),
    connectTimeout,
    codec,
    logger: log,
    observer,
  }

  const engine = createEngine({
    path,
    pingInterval,
    pingTimeout,
    maxPayload,
    upgradeTimeout,
    cors,
    logger: log.child('engine'),
    sidPrefix,
    forward,
    ...(handshakeHeaders ? { keepHeaders: handshakeHeaders } : {}),
    onConnection: (conn) => new Client(conn, clientContext),
  })

  const io: IOServer = {
    handles: engine.handles,
    async handleRequest(req, server) {
      bunServer ??= server
      try {
        return await engine.handleRequest(req, server)
      } catch (error) {
        // Never let a request bug escape into Bun's default error page.
        log.error('realtime request failed', { error })
        return Response.json({ code: 3, message: 'Bad request' }, { status: 400 })
      }
    },
    websocket: engine.websocket,
    attach(server) {
      bunServer = server
    },
    engine,
    sockets: main,
    _nsps: nsps,
    of,
    use(fn) {
      main.use(fn)
      return io
    },
    on(event: string, listener: Listener) {
      ;(event === 'new_namespace' ? own : main).on(event, listener)
      return io
    },
    once(event: string, listener: Listener) {
      ;(event === 'new_namespace' ? own : main).once(event, listener)
      return io
    },
    off(event, listener) {
      ;(event === 'new_namespace' ? own : main).off(event, listener)
      return io
    },
    to: (room) => main.to(room),
    in: (room) => main.in(room),
    except: (room) => main.except(room),
    timeout: (ms) => main.timeout(ms),
    emit: (event, ...args) => main.emit(event, ...args),
    get local() {
      return main.local
    },
    fetchSockets: () => main.fetchSockets(),
    serverSideEmit: (event, ...args) => main.serverSideEmit(event, ...args),
    serverSideEmitWithAck: (event, ...args) => main.serverSideEmitWithAck(event, ...args),
    socketsJoin: (room) => main.socketsJoin(room),
    socketsLeave: (room) => main.socketsLeave(room),
    disconnectSockets: (close) => main.disconnectSockets(close),
    async close() {
      for (const nsp of nsps.values()) {
        for (const socket of [...nsp.sockets.values()]) socket.onclose('server shutting down')
        // Their sessions are saved before the process may close the store behind the hooks.
        await nsp.settleSaves()
        await nsp.adapter.close()
      }
      engine.close()
    },
  }
  return io
}

class ServerEvents extends Emitter {
  announce(nsp: Namespace): void {
    this.emitLocal('new_namespace', [nsp])
  }
}

/** Counts each broadcast once (it is encoded once, whatever the number of receivers). */
function observed(factory: AdapterFactory, observer: IOObserver): AdapterFactory {
  return (host) => {
    const inner = factory(host)
    return {
      get rooms() {
        return inner.rooms
      },
      addAll: (member, rooms) => inner.addAll(member, rooms),
      del: (member, room) => inner.del(member, room),
      delAll: (member) => inner.delAll(member),
      onSubscribed: (member) => inner.onSubscribed(member),
      sockets: (rooms, except) => inner.sockets(rooms, except),
      socketRooms: (id) => inner.socketRooms(id),
      ...(inner.remote ? { remote: inner.remote } : {}),
      deliveredOffset: () => inner.deliveredOffset?.(),
      broadcast(packet, opts) {
        observer.packetOut?.('broadcast')
        const started = performance.now()
        inner.broadcast(packet, opts)
        observer.broadcast?.(performance.now() - started)
      },
      close: () => inner.close(),
    }
  }
}
