/**
 * @module Public API of the realtime layer (Engine.IO v4 + Socket.IO v5 on Bun.serve).
 *
 * @example
 * import { createIO } from './realtime/index.ts'
 * const io = createIO({ cors: { origins: [] } })
 * io.use((socket, next) => (socket.handshake.auth.token ? next() : next(new Error('Authentication error'))))
 * io.on('connection', (socket) => {
 *   socket.on('join', (room: string, ack?: (r: unknown) => void) => { socket.join(room); ack?.({ ok: true }) })
 * })
 * const server = Bun.serve({
 *   port: 3000,
 *   fetch: (req, server) => (io.handles(req) ? io.handleRequest(req, server) : new Response('hi')),
 *   websocket: io.websocket,
 * })
 * io.attach(server)
 */
export type {
  Adapter,
  AdapterFactory,
  AdapterHost,
  BroadcastOptions,
  RemoteOperations,
  RoomMember,
  ServerSideAck,
  SocketDetails,
  Targets,
} from './adapters/adapter.ts'
export { createBunTopicsAdapter } from './adapters/bun-topics.ts'
export type { OffsetLog } from './adapters/ordered.ts'
export {
  createRedisAdapter,
  type RedisAdapterOptions,
  type RedisPubSub,
} from './adapters/redis.ts'
export {
  createForwarder,
  type Forwarder,
  type ForwarderOptions,
  ownerOf,
} from './engine/forward.ts'
export {
  type BunServerLike,
  type CorsOptions,
  createEngine,
  type Engine,
  type EngineOptions,
} from './engine/server.ts'
export type { EngineSocket, EngineSocketHandler } from './engine/socket.ts'
export type { WsData } from './engine/websocket.ts'
export type { BroadcastOperator } from './io/broadcast.ts'
export type { IOObserver } from './io/client.ts'
export type { Parser, ParserDecoder, ParserEncoder } from './io/codec.ts'
export type { Handshake } from './io/handshake.ts'
export type { Middleware, MiddlewareError, Namespace } from './io/namespace.ts'
export { type EncodedPacket, JsonText } from './io/parser.ts'
export type {
  LoggedEvent,
  RecoveryHooks,
  RestoredSession,
  SavedSession,
} from './io/recovery.ts'
export type { FetchedSocket, RemoteSocket } from './io/remote-socket.ts'
export { createIO, type IOOptions, type IOServer } from './io/server.ts'
export type { IOSocket, SocketData } from './io/socket.ts'
