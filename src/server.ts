/**
 * @module Server: builds the whole application from a Config — database (migrated, seeded),
 * domain, HTTP app — and exposes `fetch`/`websocket` for Bun.serve. main.ts and tests call it.
 */
import type { Server } from 'bun'
import type { ChatEvents, LoggedBroadcast } from './chat/chat-events.ts'
import { createChat } from './chat/service.ts'
import { createTokens } from './chat/tokens.ts'
import type { Config } from './config.ts'
import { newMessageBroadcast } from './events/broadcasts.ts'
import { attachChatEvents } from './events/connection.ts'
import { announceRoomsLeft, announceUsersOffline } from './events/presence.ts'
import { createRecoveryHooks } from './events/recovery.ts'
import { storedRoomOfTopic } from './events/rooms.ts'
import { createApp } from './http/app.ts'
import { createLogger, type Logger } from './log.ts'
import { createIO } from './realtime/index.ts'
import { createScaleOut, type PresenceAnnouncer } from './scale-out.ts'
import { createServerMetrics } from './server-metrics.ts'
import { openDatabase } from './store/db.ts'
import { migrate } from './store/migrate.ts'
import { loadOrCreateSecret } from './store/secret.ts'
import { seedCities } from './store/seed.ts'
import { asyncApiDocument, webDocs, webIndex } from './web/index.ts'

export interface ServerDeps {
  log?: Logger
  /** Where REST writes are broadcast instead of the socket rooms (tests observe them this way). */
  events?: ChatEvents
}

/** Wraps ChatEvents so a failing hook is logged and never fails the request that raised it. */
function guardEvents(events: ChatEvents, log: Logger): ChatEvents {
  const guard =
    <A extends unknown[]>(name: string, call: (events: ChatEvents, ...args: A) => void) =>
    (...args: A) => {
      try {
        call(events, ...args)
      } catch (error) {
        log.error('chat event hook threw', { hook: name, error })
      }
    }
  return {
    messageCreated: guard('messageCreated', (e, message, logged: LoggedBroadcast | undefined) =>
      e.messageCreated(message, logged)
    ),
    messageEdited: guard('messageEdited', (e, message) => e.messageEdited(message)),
    messageDeleted: guard('messageDeleted', (e, message) => e.messageDeleted(message)),
    messagesRead: guard('messagesRead', (e, receipt) => e.messagesRead(receipt)),
    chatMembersAdded: guard('chatMembersAdded', (e, chatId: string, userIds: string[]) =>
      e.chatMembersAdded?.(chatId, userIds)
    ),
    chatMembersRemoved: guard('chatMembersRemoved', (e, chatId: string, userIds: string[]) =>
      e.chatMembersRemoved?.(chatId, userIds)
    ),
    userDeactivated: guard('userDeactivated', (e, userId: string) => e.userDeactivated?.(userId)),
  }
}

/**
 * @example
 * const app = await createServer(loadConfig(process.env))
 * Bun.serve({ port: 3000, fetch: app.fetch, websocket: app.websocket })
 */
export async function createServer(config: Config, deps: ServerDeps = {}) {
  const log = deps.log ?? createLogger({ level: config.LOG_LEVEL })
  const database = await openDatabase({
    url: config.DATABASE_URL,
    authToken: config.DATABASE_AUTH_TOKEN,
    syncUrl: config.DATABASE_SYNC_URL,
    synchronous: config.DATABASE_SYNCHRONOUS,
  })
  const metrics = createServerMetrics()
  const applied = await migrate(database)
  if (applied.length > 0) log.info('migrations applied', { applied })
  if (config.SEED_CITIES) await seedCities(database.db)

  const tokens = createTokens({
    secret: config.JWT_SECRET ?? loadOrCreateSecret(config.DATA_DIR),
    issuer: config.JWT_ISSUER,
    accessTtlMs: config.ACCESS_TOKEN_TTL,
    jwksUrl: config.JWT_JWKS_URL,
    publicKey: config.JWT_PUBLIC_KEY,
  })
  let announcer: PresenceAnnouncer = { roomsLeft() {}, usersLost() {}, resynced() {} }
  const scale = await createScaleOut(config, log, metrics, () => announcer)

  const chat = metrics.instrument(
    createChat({
      db: database.db,
      writer: database.writer,
      tokens,
      log: log.child('chat'),
      refreshTtlMs: config.REFRESH_TOKEN_TTL,
      argon2MemoryKib: config.ARGON2_MEMORY_KIB,
      messageRate: {
        perMinute: config.MESSAGE_RATE_PER_MINUTE,
        burst: config.MESSAGE_BURST,
        shared: scale.sharedDebits,
      },
      recovery: { windowMs: config.RECOVERY_WINDOW, maxReplay: config.RECOVERY_MAX_EVENTS },
      newMessageBroadcast,
      storedRoom: storedRoomOfTopic,
    })
  )

  const io = createIO({
    cors: { origins: [...config.CORS_ORIGINS], credentials: true },
    maxPayload: config.MAX_PAYLOAD,
    recovery: chat.roomLog.enabled ? createRecoveryHooks(chat, log.child('recovery')) : undefined,
    logger: log.child('realtime'),
    observer: metrics.observer,
    // Offset order across nodes reads back what a node has not heard yet; an embedded replica's
    // reads may lag the other nodes' writes, so there relayed broadcasts go out as they come.
    ...scale.io(
      chat.roomLog.enabled && !config.DATABASE_SYNC_URL ? chat.roomLog.offsets : undefined
    ),
  })
  metrics.watch(io)
  const presence = scale.presence
  const lost = (users: Parameters<PresenceAnnouncer['usersLost']>[0], at: Date) =>
    announceUsersOffline(io, presence, users, at).catch((error) =>
      log.error('announcing offline users failed', { error })
    )
  announcer = {
    roomsLeft: (left) => announceRoomsLeft(io, left),
    usersLost: lost,
    resynced: () => void lost([], new Date()),
  }
  const realtime = attachChatEvents({
    io,
    chat,
    presence,
    log: log.child('events'),
    typingTimeoutMs: config.TYPING_TIMEOUT,
    maxRoomsPerSocket: config.MAX_ROOMS_PER_SOCKET,
    maxConnectionsPerUser: config.MAX_CONNECTIONS_PER_USER,
  })
  const app = createApp({
    chat,
    events: guardEvents(deps.events ?? realtime.broadcasts, log.child('events')),
    log: log.child('http'),
    readiness: [{ name: 'database', check: () => database.ping() }, ...scale.readiness],
    corsOrigins: config.CORS_ORIGINS,
    loginThrottle: {
      perAccount: config.LOGIN_ATTEMPTS_PER_ACCOUNT,
      perAddress: config.LOGIN_ATTEMPTS_PER_ADDRESS,
      windowMs: config.LOGIN_WINDOW,
      ...(scale.sharedLimits ? { shared: scale.sharedLimits } : {}),
    },
  })

  let closingRealtime: Promise<void> | undefined
  return {
    /** The Engine.IO/Socket.IO endpoint goes first; everything else is the Hono app. */
    fetch(req: Request, server: Server<unknown>): Promise<Response | undefined> | Response {
      // undefined: the request was upgraded to a WebSocket and Bun has answered it.
      if (io.handles(req)) return io.handleRequest(req, server)
      if (isMetrics(req)) return metricsResponse(metrics.render())
      const answer = app.fetch(req, { server })
      if (answer instanceof Promise) {
        return answer.then((res) => {
          metrics.httpResponse(res)
          return res
        })
      }
      metrics.httpResponse(answer)
      return answer
    },
    websocket: io.websocket,
    /** Bun.serve static routes: the web client, the API docs page, the socket events document. */
    routes: {
      '/': webIndex,
      '/docs': webDocs,
      '/api/asyncapi.json': Response.json(asyncApiDocument()),
    },
    /**
     * Call with the Bun server once it listens, so room broadcasts use server.publish. With Redis it
     * also registers this node under `nodeUrl` (default NODE_URL, else 127.0.0.1 and the port).
     */
    attach(server: Server<unknown>, nodeUrl?: string): Promise<void> {
      io.attach(server)
      const url = nodeUrl ?? config.NODE_URL ?? `http://127.0.0.1:${server.port}`
      return scale.start(url).catch((error) => log.error('node registration failed', { error }))
    },
    nodeId: scale.nodeId,
    metrics,
    io,
    app,
    chat,
    db: database.db,
    database,
    log,
    /**
     * Shutdown, first half: handlers already running finish their writes and acks, then every
     * client is disconnected (transport close, so it reconnects elsewhere or after the restart),
     * then whatever handler started meanwhile finishes. Idempotent.
     */
    closeRealtime() {
      closingRealtime ??= (async () => {
        await realtime.settle()
        await io.close()
        await realtime.settle()
        realtime.close()
      })()
      return closingRealtime
    },
    /** Closes everything; the database last, after every pending write. */
    async stop() {
      await this.closeRealtime()
      // Broadcasts that REST requests started after the sockets closed are logged too.
      await realtime.settle()
      await scale.close()
      await database.close()
    },
  }
}

export type AppServer = Awaited<ReturnType<typeof createServer>>

const METRICS_PATH = '/metrics'

/** GET /metrics without parsing the URL of every request. */
function isMetrics(req: Request): boolean {
  const start = req.url.indexOf('/', req.url.indexOf('//') + 2)
  return (
    req.method === 'GET' &&
    start !== -1 &&
    req.url.startsWith(METRICS_PATH, start) &&
    (req.url.length === start + METRICS_PATH.length || req.url[start + METRICS_PATH.length] === '?')
  )
}

function metricsResponse(text: string): Response {
  return new Response(text, { headers: { 'Content-Type': 'text/plain; version=0.0.4' } })
}
