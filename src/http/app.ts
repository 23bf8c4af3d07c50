/** @module HTTP app: Hono with request id, request log, CORS, body limit, error edge, and the /api routes. */
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import type { ChatNotices } from '../chat/notices.ts'
import type { Chat } from '../chat/service.ts'
import type { Logger } from '../log.ts'
import type { AppEnv } from './env.ts'
import { createErrorHandler, notFound, sendError } from './middleware/errors.ts'
import type { LoginThrottleOptions } from './middleware/login-throttle.ts'
import { requestLog } from './middleware/request-log.ts'
import { openApiDocument } from './openapi.ts'
import { accountRoutes } from './routes/account.ts'
import { adminRoutes } from './routes/admin.ts'
import { authRoutes } from './routes/auth.ts'
import { chatRoutes } from './routes/chats.ts'
import { cityRoutes } from './routes/cities.ts'
import { healthRoutes, type ReadinessCheck } from './routes/health.ts'
import { mediaRoutes } from './routes/media.ts'
import { messageRoutes } from './routes/messages.ts'
import { notificationRoutes, notificationSettingRoutes } from './routes/notifications.ts'
import { pushRoutes } from './routes/push.ts'
import { reportRoutes } from './routes/reports.ts'
import { searchRoutes } from './routes/search.ts'
import { userRoutes } from './routes/users.ts'

export interface AppOptions {
  chat: Chat
  notices: ChatNotices
  log: Logger
  readiness: ReadinessCheck[]
  /** Allowed origins; empty allows any. */
  corsOrigins?: readonly string[]
  /** Largest accepted request body; a message is at most 4000 chars, so 64 KiB is generous. */
  maxBodyBytes?: number
  /** Login attempts per account and per address over a window (see login-throttle.ts). */
  loginThrottle: LoginThrottleOptions
  /** The web client's refresh cookie: Secure (all but development) and its lifetime. */
  refreshCookie: { secure: boolean; ttlMs: number }
}

export function createApp({
  chat,
  notices,
  log,
  readiness,
  corsOrigins = [],
  maxBodyBytes = 64 * 1024,
  loginThrottle,
  refreshCookie,
}: AppOptions) {
  const app = new Hono<AppEnv>()
  app.use('*', requestId())
  app.use('*', requestLog(log))
  // nosniff, frame and referrer policies, HSTS, COOP; CORS below still governs cross-origin reads.
  app.use('*', secureHeaders())
  app.use(
    '*',
    cors({
      origin: corsOrigins.length === 0 ? '*' : [...corsOrigins],
      allowHeaders: ['Authorization', 'Content-Type', 'Range'],
      allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      maxAge: 600,
    })
  )
  const limit = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) =>
      sendError(c, {
        code: 'payload_too_large',
        message: `request body is larger than ${maxBodyBytes} bytes`,
      }),
  })
  // Uploads stream past this limit; their own (MEDIA_MAX_BYTES) is counted as they arrive.
  app.use('*', (c, next) => (isUpload(c.req.method, c.req.path) ? next() : limit(c, next)))

  const openApi = openApiDocument()
  app.get('/api/openapi.json', (c) => c.json(openApi))
  app.route('/', healthRoutes(readiness, log))
  app.route(
    '/api/auth',
    authRoutes(chat, {
      throttle: loginThrottle,
      secureCookies: refreshCookie.secure,
      refreshTtlMs: refreshCookie.ttlMs,
    })
  )
  app.route('/api/auth', accountRoutes(chat, notices))
  app.route('/api/users', userRoutes(chat, notices))
  app.route('/api/cities', cityRoutes(chat, notices))
  app.route('/api/notification-settings', notificationSettingRoutes(chat))
  app.route('/api/notifications', notificationRoutes(chat))
  app.route('/api/push', pushRoutes(chat))
  app.route('/api/admin', adminRoutes(chat))
  app.route('/api/reports', reportRoutes(chat))
  app.route('/api/chats', chatRoutes(chat, notices))
  app.route('/api/messages', messageRoutes(chat))
  app.route('/api/search', searchRoutes(chat))
  app.route('/api/media', mediaRoutes(chat))

  app.notFound(notFound)
  app.onError(createErrorHandler(log))
  return app
}

/** The multipart upload routes (http/upload.ts). */
function isUpload(method: string, path: string): boolean {
  return (
    (method === 'POST' && (path === '/api/media' || path === '/api/media/')) ||
    (method === 'PUT' && path === '/api/users/me/photo')
  )
}
