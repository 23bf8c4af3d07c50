/**
 * @module Engine.IO server: request routing, handshake, CORS, sessions by sid, WebSocket upgrade.
 *
 * Spec: https://github.com/socketio/engine.io-protocol (v4) — "Handshake", "Upgrade".
 * Error answers follow engine.io `Server.errors`: `{ code, message }` JSON with status 400
 * (403 for FORBIDDEN), codes 0–5.
 */
import type { Logger } from '../../log.ts'
import { createInterner } from '../intern.ts'
import { safeCall } from '../io/emitter.ts'
import type { Forwarder } from './forward.ts'
import { PollingTransport } from './polling.ts'
import { WebSocketRelay } from './relay.ts'
import { createHeartbeats, EngineSocket, type RequestInfo } from './socket.ts'
import {
  createWebSocketHandler,
  type EngineWebSocket,
  WebSocketTransport,
  type WsData,
} from './websocket.ts'

/** engine.io `Server.errors` and `Server.errorMessages`. */
const ENGINE_ERRORS = {
  UNKNOWN_TRANSPORT: 0,
  UNKNOWN_SID: 1,
  BAD_HANDSHAKE_METHOD: 2,
  BAD_REQUEST: 3,
  FORBIDDEN: 4,
  UNSUPPORTED_PROTOCOL_VERSION: 5,
} as const

const ERROR_MESSAGES = [
  'Transport unknown',
  'Session ID unknown',
  'Bad handshake method',
  'Bad request',
  'Forbidden',
  'Unsupported protocol version',
] as const

type EngineErrorCode = (typeof ENGINE_ERRORS)[keyof typeof ENGINE_ERRORS]

export interface CorsOptions {
  /** Allowed origins; empty means any origin. */
  origins: string[]
  credentials?: boolean
}

/** The part of Bun's `Server` this layer uses (upgrade and publish). */
export interface BunServerLike {
  upgrade(req: Request, options: { data: WsData; headers?: HeadersInit }): boolean
  publish(topic: string, data: string | Uint8Array): number
  requestIP?(req: Request): { address: string } | null
  /** Per-request idle timeout in seconds (Bun ≥ 1.1.26); 0 disables it. */
  timeout?(req: Request, seconds: number): void
}

export interface EngineOptions {
  path: string
  pingInterval: number
  pingTimeout: number
  maxPayload: number
  upgradeTimeout: number
  cors: CorsOptions | undefined
  logger: Logger
  onConnection: (socket: EngineSocket) => void
  /** Prepended to every session id, so any node can tell which node owns a session. */
  sidPrefix?: string
  /**
   * A polling request for a sid this node does not hold: answer it from the owner node (no sticky
   * sessions needed behind a round-robin balancer), or undefined for "Session ID unknown".
   */
  forward?: Forwarder
  /**
   * Request headers a session keeps (lower-case names; `origin` always, for `xdomain`); absent:
   * all of them, as engine.io. A kept `Headers` is the largest per-session object after the
   * WebSocket itself, more so with a browser's cookies.
   */
  keepHeaders?: readonly string[]
}

export interface Engine {
  readonly clients: ReadonlyMap<string, EngineSocket>
  readonly clientsCount: number
  handles(req: Request): boolean
  handleRequest(req: Request, server: BunServerLike): Promise<Response | undefined>
  websocket: Bun.WebSocketHandler<WsData>
  /** engine.io's `connection` event: every new session, once it has sent its open packet. */
  on(event: 'connection', listener: (socket: EngineSocket) => unknown): Engine
  off(event: 'connection', listener: (socket: EngineSocket) => unknown): Engine
  close(): void
}

/** 15 random bytes → 20 url-safe characters, like engine.io's base64id. */
export function generateId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(15))).toString('base64url')
}

export function createEngine(opts: EngineOptions): Engine {
  const { path, logger, cors } = opts
  const clients = new Map<string, EngineSocket>()
  const sessionOptions = {
    ...opts,
    heartbeat: createHeartbeats(opts.pingInterval, opts.pingTimeout, logger),
  }
  const remove = (socket: EngineSocket) => {
    if (clients.get(socket.id) === socket) clients.delete(socket.id)
  }
  const connectionListeners: Array<(socket: EngineSocket) => unknown> = []
  const keepHeaders = opts.keepHeaders && [...new Set(['origin', ...opts.keepHeaders])]
  /** WebSocket handshake URLs are mostly alike, and many clients share a proxy's address. */
  const intern = createInterner(1_024)
  const requestInfo = (req: Request, server: BunServerLike, websocket: boolean): RequestInfo => {
    const address = intern(server.requestIP?.(req)?.address ?? '')
    const headers = keepHeaders ? pickHeaders(req.headers, keepHeaders) : req.headers
    // A polling handshake's URL carries its own `t=`: nothing to share.
    return { headers, url: websocket ? intern(req.url) : req.url, address }
  }

  const openSession = (
    transport: PollingTransport | WebSocketTransport,
    request: RequestInfo
  ): EngineSocket => {
    const sid = `${opts.sidPrefix ?? ''}${generateId()}`
    const socket = new EngineSocket(sid, transport, request, sessionOptions, remove)
    clients.set(socket.id, socket)
    socket.open(transport.name === 'polling' ? ['websocket'] : [])
    opts.onConnection(socket)
    for (const listener of connectionListeners) safeCall(logger, 'connection', listener, [socket])
    return socket
  }

  const corsHeaders = (req: Request): Record<string, string> => {
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' }
    const origin = req.headers.get('origin')
    if (!cors) return headers
    if (cors.origins.length === 0) {
      headers['Access-Control-Allow-Origin'] = cors.credentials && origin ? origin : '*'
    } else if (origin && cors.origins.includes(origin)) {
      headers['Access-Control-Allow-Origin'] = origin
    }
    if (headers['Access-Control-Allow-Origin'] !== '*') headers.Vary = 'Origin'
    if (cors.credentials) headers['Access-Control-Allow-Credentials'] = 'true'
    return headers
  }

  const originRefused = (req: Request): boolean => {
    const origin = req.headers.get('origin')
    return !!cors && cors.origins.length > 0 && !!origin && !cors.origins.includes(origin)
  }

  const fail = (code: EngineErrorCode, headers: Record<string, string>): Response =>
    new Response(JSON.stringify({ code, message: ERROR_MESSAGES[code] }), {
      status: code === ENGINE_ERRORS.FORBIDDEN ? 403 : 400,
      headers: { ...headers, 'Content-Type': 'application/json' },
    })

  const handles = (req: Request): boolean => {
    const start = req.url.indexOf('/', req.url.indexOf('//') + 2)
    return start !== -1 && req.url.startsWith(path, start)
  }

  const handleRequest = async (
    req: Request,
    server: BunServerLike
  ): Promise<Response | undefined> => {
    const headers = corsHeaders(req)
    // Preflight only when CORS is configured; otherwise OPTIONS is a bad handshake (code 2).
    if (req.method === 'OPTIONS' && cors) {
      const requested = req.headers.get('access-control-request-headers')
      return new Response(null, {
        status: 204,
        headers: {
          ...headers,
          'Access-Control-Allow-Methods': 'GET,HEAD,PUT,PATCH,POST,DELETE',
          ...(requested ? { 'Access-Control-Allow-Headers': requested } : {}),
        },
      })
    }
    const query = new URL(req.url).searchParams
    const transportName = query.get('transport')
    if (transportName !== 'polling' && transportName !== 'websocket') {
      return fail(ENGINE_ERRORS.UNKNOWN_TRANSPORT, headers)
    }
    if (originRefused(req)) return fail(ENGINE_ERRORS.FORBIDDEN, headers)
    const isUpgrade = req.headers.get('upgrade')?.toLowerCase() === 'websocket'
    const sid = query.get('sid')
    if (sid !== null) {
      const socket = clients.get(sid)
      if (!socket) {
        if (!opts.forward) return fail(ENGINE_ERRORS.UNKNOWN_SID, headers)
        if (transportName === 'websocket') {
          // Another node's session upgrading: this node carries its frames to the owner.
          const target = isUpgrade ? await opts.forward.websocket(req, sid) : undefined
          if (!target) return fail(ENGINE_ERRORS.UNKNOWN_SID, headers)
          return upgrade(req, server, sid, headers, new WebSocketRelay(target, logger))
        }
        if (req.method === 'GET') holdLonger(req, server)
        return (await opts.forward.poll(req, sid)) ?? fail(ENGINE_ERRORS.UNKNOWN_SID, headers)
      }
      if (query.get('EIO') !== '4') return fail(ENGINE_ERRORS.BAD_REQUEST, headers)
      if (transportName === 'websocket') {
        if (!isUpgrade) return fail(ENGINE_ERRORS.BAD_REQUEST, headers)
        // engine.io accepts a WebSocket for a session already upgraded (or upgrading) and then
        // closes it (`onOpen`); a 400 here makes `ws`-based clients throw an unhandled error.
        return upgrade(req, server, sid, headers)
      }
      if (!(socket.transport instanceof PollingTransport)) {
        return fail(ENGINE_ERRORS.BAD_REQUEST, headers) // TRANSPORT_MISMATCH
      }
      if (req.method === 'GET') {
        holdLonger(req, server)
        return socket.transport.poll(socket, req, headers)
      }
      if (req.method === 'POST') {
        return socket.transport.receive(socket, req, headers, opts.maxPayload)
      }
      return new Response(null, { status: 400, headers })
    }
    if (req.method !== 'GET') return fail(ENGINE_ERRORS.BAD_HANDSHAKE_METHOD, headers)
    if (query.get('EIO') !== '4') return fail(ENGINE_ERRORS.UNSUPPORTED_PROTOCOL_VERSION, headers)
    if (transportName === 'websocket') {
      if (!isUpgrade) return fail(ENGINE_ERRORS.BAD_REQUEST, headers)
      return upgrade(req, server, undefined, headers)
    }
    const transport = new PollingTransport()
    const socket = openSession(transport, requestInfo(req, server, false))
    return transport.poll(socket, req, headers)
  }

  /**
   * A held GET waits up to pingInterval for the next ping; Bun's default idleTimeout (10 s)
   * would cut it first, so give it pingInterval + pingTimeout plus a margin (Bun caps at 255).
   */
  const pollSeconds = Math.min(255, Math.ceil((opts.pingInterval + opts.pingTimeout) / 1000) + 5)
  const holdLonger = (req: Request, server: BunServerLike) => server.timeout?.(req, pollSeconds)

  const upgrade = (
    req: Request,
    server: BunServerLike,
    sid: string | undefined,
    headers: Record<string, string>,
    relay?: WebSocketRelay
  ): Response | undefined => {
    const data: WsData = {
      sid,
      request: requestInfo(req, server, true),
      transport: undefined,
      relay,
      engine: wsEvents,
    }
    if (server.upgrade(req, { data })) return undefined
    return fail(ENGINE_ERRORS.BAD_REQUEST, headers)
  }

  const onOpen = (ws: EngineWebSocket) => {
    if (ws.data.relay) {
      ws.data.relay.open(ws)
      return
    }
    const transport = new WebSocketTransport(ws, logger)
    ws.data.transport = transport
    const { sid } = ws.data
    if (sid === undefined) {
      transport.owner = openSession(transport, ws.data.request)
      return
    }
    const socket = clients.get(sid)
    // Already upgraded or upgrading, or closed since the HTTP upgrade: accepted, then closed.
    if (!socket?.beginUpgrade(transport)) {
      transport.close()
      return
    }
    transport.owner = socket
  }

  const wsEvents = { onOpen, maxPayload: opts.maxPayload }

  const engine: Engine = {
    clients,
    get clientsCount() {
      return clients.size
    },
    on(_event, listener) {
      connectionListeners.push(listener)
      return engine
    },
    off(_event, listener) {
      const index = connectionListeners.indexOf(listener)
      if (index !== -1) connectionListeners.splice(index, 1)
      return engine
    },
    handles,
    handleRequest,
    websocket: createWebSocketHandler(opts.maxPayload, logger),
    close() {
      for (const socket of [...clients.values()]) socket.close(true)
    },
  }
  return engine
}

/** No header kept: one shared empty object, not one per session (the handshake copies it). */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

function pickHeaders(headers: Headers, names: readonly string[]): Readonly<Record<string, string>> {
  let kept: Record<string, string> | undefined
  for (const name of names) {
    const value = headers.get(name)
    if (value === null) continue
    kept ??= {}
    kept[name] = value
  }
  return kept ?? NO_HEADERS
}
