/**
 * @module Server: builds the whole application from a Config — database (migrated, seeded),
 * domain, HTTP app — and exposes `fetch`/`websocket` for Bun.serve. main.ts and tests call it.
 */
import type { Server } from 'bun'
import { startAdminUi } from './admin-ui.ts'
import { loadImaging } from './chat/images.ts'
import type { ChatNotices } from './chat/notices.ts'
import type { RoomPublisher } from './chat/room-stream.ts'
import { createChat } from './chat/service.ts'
import { createTokens } from './chat/tokens.ts'
import { createVapid, generateVapidKeys, type VapidKeys } from './chat/web-push.ts'
import type { Config } from './config.ts'
import { attachChatEvents } from './events/connection.ts'
import { createPresenceAnnouncer } from './events/presence-handlers.ts'
import { createSessionHooks } from './events/session-hooks.ts'
import { createApp } from './http/app.ts'
import { answerConnectionClose } from './http/connection-close.ts'
import { createPages } from './http/pages.ts'
import { createIdleCollector } from './idle-collector.ts'
import { createLogger, type Logger } from './log.ts'
import { createIO } from './realtime/index.ts'
import { createScaleOut } from './scale-out.ts'
import { CHAT_OPERATIONS, createServerMetrics } from './server-metrics.ts'
import { openDatabase } from './store/db.ts'
import { createMailer } from './store/mail.ts'
import { openMediaStorage } from './store/media-storage.ts'
import { migrate } from './store/migrate.ts'
import { loadOrCreateDataFile, loadOrCreateSecret } from './store/secret.ts'
import { seedCities } from './store/seed.ts'
import { promoteAdmins } from './store/users.ts'
import { asyncApiDocument, serviceWorker, webDocs, webIndex } from './web/index.ts'

export interface ServerDeps {
  log?: Logger
  /** Where room events go instead of the socket rooms (tests observe them this way). */
  publisher?: RoomPublisher
  /** Where REST notices go instead of the sockets (tests observe them this way). */
  notices?: ChatNotices
}

/** The database, migrated and seeded. */
async function openStore(config: Config, log: Logger) {
  const database = await openDatabase({
    url: config.DATABASE_URL,
    authToken: config.DATABASE_AUTH_TOKEN,
    syncUrl: config.DATABASE_SYNC_URL,
    synchronous: config.DATABASE_SYNCHRONOUS,
    commitDelayMs: config.COMMIT_DELAY,
  })
  const applied = await migrate(database)
  if (applied.length > 0) log.info('migrations applied', { applied })
  if (config.SEED_CITIES) await seedCities(database.db)
  // ADMIN_USERNAMES at start (registration applies it to new accounts, chat/auth.ts).
  await promoteAdmins(
    database.db,
    config.ADMIN_USERNAMES.map((name) => name.toLowerCase()),
    Date.now()
  )
  return database
}

/**
 * @example
 * const app = await createServer(loadConfig(process.env))
 * Bun.serve({ port: 3000, fetch: app.fetch, websocket: app.websocket })
 */
export async function createServer(config: Config, deps: ServerDeps = {}) {
  const log = deps.log ?? createLogger({ level: config.LOG_LEVEL })
  const metrics = createServerMetrics()
  const database = await openStore(config, log)
  const tokens = createTokens({
    secret: config.JWT_SECRET ?? loadOrCreateSecret(config.DATA_DIR),
    issuer: config.JWT_ISSUER,
    accessTtlMs: config.ACCESS_TOKEN_TTL,
    jwksUrl: config.JWT_JWKS_URL,
    publicKey: config.JWT_PUBLIC_KEY,
  })
  const scale = await createScaleOut(config, log, metrics, database.db)
  const vapid = await createVapid(vapidKeys(config, log), config.VAPID_SUBJECT)
  const mailer = createMailer({
    smtpUrl: config.SMTP_URL,
    from: config.MAIL_FROM,
    production: config.NODE_ENV === 'production',
    dataDir: config.DATA_DIR,
    log: log.child('mail'),
  })
  if (!mailer.enabled) {
    log.warn(
      'mail is off (NODE_ENV=production without SMTP_URL): email verification, password reset and email change are unavailable'
    )
  } else if (!config.SMTP_URL) {
    log.info('no SMTP_URL: mails go to the log and the outbox directory', {
      outbox: `${config.DATA_DIR}/outbox`,
    })
  }
  // Uploads: the storage every node shares, and sharp if it loads here (it logs when it cannot).
  const mediaStorage = await openMediaStorage(config)
  const imaging = await loadImaging(log.child('media'), config.MEDIA_MAX_PIXELS)
  const chat = metrics.instrument(
    createChat({
      db: database.db,
      writer: database.writer,
      tokens,
      log: log.child('chat'),
      refreshTtlMs: config.REFRESH_TOKEN_TTL,
      refreshGraceMs: config.REFRESH_REUSE_GRACE,
      argon2MemoryKib: config.ARGON2_MEMORY_KIB,
      mail: {
        mailer,
        publicUrl: config.PUBLIC_URL ?? `http://localhost:${config.PORT}`,
        tokenTtlMs: config.EMAIL_TOKEN_TTL,
      },
      requireVerifiedEmail: config.REQUIRE_VERIFIED_EMAIL,
      resetLimits: {
        perAccount: config.PASSWORD_RESET_PER_ACCOUNT,
        perAddress: config.PASSWORD_RESET_PER_ADDRESS,
        windowMs: config.LOGIN_WINDOW,
      },
      sharedLimits: scale.sharedLimits,
      messageRate: {
        perMinute: config.MESSAGE_RATE_PER_MINUTE,
        burst: config.MESSAGE_BURST,
        shared: scale.sharedDebits,
      },
      recovery: { windowMs: config.RECOVERY_WINDOW, maxReplay: config.RECOVERY_MAX_EVENTS },
      nodeId: scale.nodeId,
      nodeTtlMs: config.NODE_TTL,
      presence: scale.presence,
      webhooks: {
        url: config.WEBHOOK_URL,
        secret: config.WEBHOOK_SECRET,
        maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
        retryBaseMs: config.WEBHOOK_RETRY_BASE,
        timeoutMs: config.WEBHOOK_TIMEOUT,
        deadLetters: metrics.webhookDeadLetters,
      },
      push: {
        vapid,
        collapseMs: config.PUSH_COLLAPSE,
        ttlMs: config.PUSH_TTL,
        maxAttempts: config.PUSH_MAX_ATTEMPTS,
        retryBaseMs: config.PUSH_RETRY_BASE,
        timeoutMs: config.PUSH_TIMEOUT,
        maxPerUser: config.PUSH_SUBSCRIPTIONS_PER_USER,
        allowHttp: config.NODE_ENV !== 'production',
        counters: metrics.push,
      },
      adminUsernames: config.ADMIN_USERNAMES,
      chatsPerHour: config.CHATS_PER_HOUR,
      feed: scale.feed,
      media: {
        storage: mediaStorage,
        imaging,
        limits: {
          maxBytes: config.MEDIA_MAX_BYTES,
          maxPixels: config.MEDIA_MAX_PIXELS,
          types: config.MEDIA_TYPES,
          quotaBytes: config.MEDIA_QUOTA_BYTES,
        },
        orphanTtlMs: config.MEDIA_ORPHAN_TTL,
        sweepIntervalMs: config.MEDIA_SWEEP_INTERVAL,
      },
      exports: { ttlMs: config.EXPORT_TTL },
      retention: { globalMs: config.MESSAGE_RETENTION, intervalMs: config.RETENTION_INTERVAL },
      usernameHoldMs: config.USERNAME_HOLD,
    }),
    CHAT_OPERATIONS
  )
  metrics.watchMedia(chat.media.sweeper.totals)
  const io = createIO({
    cors: { origins: [...config.CORS_ORIGINS], credentials: true },
    maxPayload: config.MAX_PAYLOAD,
    recovery: chat.stream.enabled ? createSessionHooks(chat, log.child('recovery')) : undefined,
    logger: log.child('realtime'),
    observer: metrics.observer,
    // No chat code reads a handshake header, nor the token once the handshake verified it: sockets
    // keep only `origin` and no `auth`, unless the Admin UI's dashboard is on, which shows them all.
    ...(config.ADMIN_UI ? {} : { handshakeHeaders: [], handshakeAuth: [] }),
    // Offset order across nodes reads back what a node has not heard yet; an embedded replica's
    // reads may lag the other nodes' writes, so there relayed broadcasts go out as they come.
    ...scale.io(chat.stream.enabled && !config.DATABASE_SYNC_URL ? chat.stream.offsets : undefined),
  })
  metrics.watch(io)
  const idleCollector = createIdleCollector({
    connections: () => io.engine.clients.size,
    log: log.child('memory'),
  })
  const realtime = attachChatEvents({
    io,
    chat,
    presence: scale.presence,
    log: log.child('events'),
    typingTimeoutMs: config.TYPING_TIMEOUT,
    maxRoomsPerSocket: config.MAX_ROOMS_PER_SOCKET,
    maxConnectionsPerUser: config.MAX_CONNECTIONS_PER_USER,
    presenceGraceMs: config.PRESENCE_GRACE,
    presenceScope: config.PRESENCE_SCOPE,
  })
  if (deps.publisher) chat.stream.attach(deps.publisher)
  const adminUi = startAdminUi(io, config, log.child('admin-ui'))
  scale.announceTo(
    createPresenceAnnouncer(io, scale.presence, log.child('events'), config.PRESENCE_SCOPE)
  )
  const app = createApp({
    chat,
    notices: deps.notices ?? realtime.notices,
    log: log.child('http'),
    readiness: [{ name: 'database', check: () => database.ping() }, ...scale.readiness],
    corsOrigins: config.CORS_ORIGINS,
    loginThrottle: {
      perAccount: config.LOGIN_ATTEMPTS_PER_ACCOUNT,
      perAddress: config.LOGIN_ATTEMPTS_PER_ADDRESS,
      registerPerAddress: config.REGISTER_ATTEMPTS_PER_ADDRESS,
      windowMs: config.LOGIN_WINDOW,
      ...(scale.sharedLimits ? { shared: scale.sharedLimits } : {}),
    },
    refreshCookie: { secure: config.NODE_ENV !== 'development', ttlMs: config.REFRESH_TOKEN_TTL },
  })

  // `/` and `/docs` with their security headers (Bun's static routes take none).
  const pages = createPages({ '/': webIndex, '/docs': webDocs })
  const route = (req: Request, server: Server<unknown>) => {
    // undefined: the request was upgraded to a WebSocket and Bun has answered it.
    if (io.handles(req)) return io.handleRequest(req, server)
    if (isMetrics(req)) return metricsResponse(metrics.render())
    const page = pages.serve(req) ?? adminUi?.serve(req)
    if (page) return page
    const answer = app.fetch(req, { server })
    if (answer instanceof Promise) {
      return answer.then((res) => {
        metrics.httpResponse(res)
        return res
      })
    }
    metrics.httpResponse(answer)
    return answer
  }

  const asyncApi = JSON.stringify(asyncApiDocument())
  let closingRealtime: Promise<void> | undefined
  return {
    /** The Engine.IO/Socket.IO endpoint goes first; everything else is the Hono app. */
    fetch(req: Request, server: Server<unknown>): Promise<Response | undefined> | Response {
      return answerConnectionClose(req, route(req, server))
    },
    websocket: io.websocket,
    /** For Bun.serve: uploads stream up to MEDIA_MAX_BYTES plus the multipart framing. */
    maxRequestBodySize: Math.max(config.MEDIA_MAX_BYTES, config.MAX_PAYLOAD) + 64 * 1024,
    /** Bun.serve static routes: the pages' bundles (at hidden paths), the socket events document. */
    routes: {
      ...pages.routes,
      // A handler, not a static Response, so `Connection: close` can be answered here too.
      '/api/asyncapi.json': (req: Request) =>
        answerConnectionClose(
          req,
          new Response(asyncApi, { headers: { 'Content-Type': 'application/json' } })
        ),
      // The web client's service worker: from this origin at the root, so its scope is `/`.
      '/sw.js': (req: Request) =>
        answerConnectionClose(
          req,
          new Response(serviceWorker, { headers: SERVICE_WORKER_HEADERS })
        ),
    },
    /**
     * Call with the Bun server once it listens, so room broadcasts use server.publish. With Redis it
     * also registers this node under `nodeUrl` (default NODE_URL, else 127.0.0.1 and the port).
     */
    attach(server: Server<unknown>, nodeUrl?: string): Promise<void> {
      io.attach(server)
      idleCollector.start()
      chat.webhooks.start()
      chat.notifier.start()
      chat.push.start()
      pages.attach(server)
      chat.media.sweeper.start()
      chat.exports.start()
      chat.retention.start()
      void chat.erasure
        .start()
        .catch((error) => log.error('starting the erasure worker failed', { error }))
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
        idleCollector.close()
      })()
      return closingRealtime
    },
    /** Closes everything; the database last, after every pending write. */
    async stop() {
      await this.closeRealtime()
      // Broadcasts that REST requests started after the sockets closed are logged too.
      await realtime.settle()
      await scale.close()
      await chat.mail.settled()
      mailer.close()
      // The feed and the outbox are written before the database closes.
      await chat.notifier.settled()
      await chat.notifier.close()
      await chat.webhooks.close()
      await chat.push.close()
      chat.choosers.close()
      await chat.retention.stop()
      // Every socket is gone by now: their last-seen marks are final.
      await chat.lastSeen.close()
      await chat.media.sweeper.stop()
      await chat.exports.stop()
      await chat.erasure.stop()
      await database.close()
    },
  }
}

export type AppServer = Awaited<ReturnType<typeof createServer>>

/** VAPID_* from the environment, else the pair generated once into DATA_DIR. */
function vapidKeys(config: Config, log: Logger): VapidKeys {
  if (config.VAPID_PUBLIC_KEY && config.VAPID_PRIVATE_KEY) {
    return { publicKey: config.VAPID_PUBLIC_KEY, privateKey: config.VAPID_PRIVATE_KEY }
  }
  // Several nodes must sign with one pair: a browser subscribed with its public key.
  if (config.REDIS_URL) {
    log.warn('VAPID keys generated into DATA_DIR: every node must share it, or set VAPID_*')
  }
  const stored = loadOrCreateDataFile(config.DATA_DIR, 'vapid-keys.json', () =>
    JSON.stringify(generateVapidKeys())
  )
  return JSON.parse(stored) as VapidKeys
}

/** The worker runs under its own CSP: this origin only, no eval. */
const SERVICE_WORKER_HEADERS = {
  'Content-Type': 'text/javascript; charset=utf-8',
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; object-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
}

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
