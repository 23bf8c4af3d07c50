/** @module Configuration: one zod schema over the environment, validated once, frozen. */
import { z } from 'zod'

const DURATION = /^(\d+)(ms|s|m|h|d)$/
const DURATION_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** Parses `15m`, `7d`, `500ms` or a bare number of seconds into milliseconds. */
function durationMs(label: string) {
  return z
    .string()
    .trim()
    .transform((value, ctx) => {
      if (/^\d+$/.test(value)) return Number(value) * 1_000
      const match = DURATION.exec(value)
      if (!match) {
        ctx.addIssue({ code: 'custom', message: `${label} must look like 900, 15m, 7d or 500ms` })
        return z.NEVER
      }
      return Number(match[1]) * DURATION_MS[match[2] as keyof typeof DURATION_MS]
    })
}

const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
)

const ENV_SCHEMA = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe('development | production | test. Production requires JWT_SECRET.'),
  PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(3000)
    .describe('TCP port to listen on (0 picks a free one).'),
  HOST: z.string().default('0.0.0.0').describe('Interface to bind.'),
  DATABASE_URL: z
    .string()
    .default('file:./data/chat.db')
    .refine((url) => /^(file:|:memory:$|libsql:\/\/|https?:\/\/)/.test(url), {
      message: 'DATABASE_URL must start with file:, libsql://, http(s):// or be :memory:',
    })
    .describe(
      'file:<path> (embedded SQLite, WAL), :memory:, or libsql:// / http(s):// for a remote libSQL server.'
    ),
  DATABASE_AUTH_TOKEN: z.string().optional().describe('Auth token for a remote libSQL server.'),
  DATABASE_SYNC_URL: z
    .string()
    .url()
    .optional()
    .describe(
      'Remote libSQL URL to sync an embedded replica (DATABASE_URL=file:...) from. Not with the compiled binary (it needs the native libSQL module).'
    ),
  DATABASE_SYNCHRONOUS: z
    .enum(['NORMAL', 'FULL'])
    .default('NORMAL')
    .describe(
      'SQLite synchronous mode for a local file (WAL). NORMAL: an acknowledged message survives a crash of the process; FULL: also an OS crash or power loss (one fsync per group commit, about half the write throughput).'
    ),
  COMMIT_DELAY: durationMs('COMMIT_DELAY')
    .default(1)
    .describe(
      'A busy writer waits this long after one group commit before the next (e.g. 1ms), so each commit takes more messages and costs less per message; an idle writer commits at once. 0 commits on every turn of the event loop.'
    ),
  JWT_SECRET: z
    .string()
    .min(32, 'JWT_SECRET must be at least 32 characters')
    .optional()
    .describe(
      'HS256 secret for access tokens. Unset in development: generated once into the data directory.'
    ),
  JWT_JWKS_URL: z
    .string()
    .url()
    .optional()
    .describe('JWKS URL of an external identity provider whose tokens are also accepted.'),
  JWT_PUBLIC_KEY: z
    .string()
    .optional()
    .describe('PEM (SPKI) public key of an external identity provider whose tokens are accepted.'),
  JWT_ISSUER: z.string().default('mycommunity').describe('iss claim of issued access tokens.'),
  ACCESS_TOKEN_TTL: durationMs('ACCESS_TOKEN_TTL')
    .default(15 * 60_000)
    .describe('Access token lifetime (e.g. 15m).'),
  REFRESH_TOKEN_TTL: durationMs('REFRESH_TOKEN_TTL')
    .default(30 * 86_400_000)
    .describe('Refresh token lifetime (e.g. 30d).'),
  REDIS_URL: z
    .string()
    .url()
    .optional()
    .describe('redis:// URL. Set it to run several nodes that share rooms and presence.'),
  NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, 'NODE_ID must be 1-40 characters of A-Z a-z 0-9 _ -')
    .optional()
    .describe(
      'This node among several (logs, metrics, session ids). Default: random per process start.'
    ),
  NODE_URL: z
    .string()
    .url()
    .optional()
    .describe(
      'URL other nodes reach this one at, to forward long-polling requests. Default: http://127.0.0.1:<port>.'
    ),
  NODE_TTL: durationMs('NODE_TTL')
    .default(10_000)
    .describe(
      "A node silent this long is dead (heartbeat every third): with REDIS_URL its users go offline; another node, or the node's next process, gives its users their last seen from its database heartbeat."
    ),
  PRESENCE_GRACE: durationMs('PRESENCE_GRACE')
    .default(5_000)
    .describe(
      "How long a user whose last socket dropped stays online: back within it (a reconnect, on any node), no one saw them leave. With REDIS_URL, a dead node's users too, after NODE_TTL."
    ),
  PRESENCE_SCOPE: z
    .enum(['all', 'shared'])
    .default('all')
    .describe(
      'Who hears `user-offline`. all: every socket (the guide). shared: only sockets in a city or private chat room the user was in when their last socket dropped (no frame per online user, and strangers do not learn who was online).'
    ),
  WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .default(1)
    .describe(
      'Processes sharing PORT on this machine (reusePort). More than 1 requires REDIS_URL.'
    ),
  CORS_ORIGINS: csv
    .default([])
    .describe(
      'Comma-separated allowed origins for HTTP, polling and WebSocket. Empty: any origin.'
    ),
  LOG_LEVEL: z
    .enum(['debug', 'info', 'warn', 'error', 'silent'])
    .default('info')
    .describe('debug | info | warn | error | silent.'),
  DATA_DIR: z
    .string()
    .default('./data')
    .describe('Directory for the embedded database and the generated development JWT secret.'),
  ARGON2_MEMORY_KIB: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1_048_576)
    .default(65_536)
    .describe('argon2id memory cost in KiB for password hashes. Lower it only to speed up tests.'),
  TYPING_TIMEOUT: durationMs('TYPING_TIMEOUT')
    .default(5_000)
    .describe(
      'A typing indicator not refreshed or stopped for this long stops by itself (e.g. 5s).'
    ),
  MESSAGE_RATE_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(0)
    .default(120)
    .describe(
      'Messages one user may send per minute, sustained (token bucket, REST and sockets together; 0: no limit). With REDIS_URL the count spans all nodes.'
    ),
  MESSAGE_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .describe('Messages one user may send at once before MESSAGE_RATE_PER_MINUTE applies.'),
  MAX_ROOMS_PER_SOCKET: z.coerce
    .number()
    .int()
    .min(1)
    .default(100)
    .describe('City and private chat rooms one socket may have joined at once.'),
  MAX_CONNECTIONS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .describe(
      'Open sockets one user may have (tabs, devices), on all nodes together with REDIS_URL; more are refused.'
    ),
  MAX_PAYLOAD: z.coerce
    .number()
    .int()
    .min(1_024)
    .default(1_000_000)
    .describe(
      'Largest Engine.IO message, WebSocket frame or polling body in bytes (socket.io maxHttpBufferSize).'
    ),
  LOGIN_ATTEMPTS_PER_ACCOUNT: z.coerce
    .number()
    .int()
    .min(1)
    .default(10)
    .describe(
      'Login attempts per account per LOGIN_WINDOW; more answer 429 rate_limited. With REDIS_URL the count spans all nodes.'
    ),
  LOGIN_ATTEMPTS_PER_ADDRESS: z.coerce
    .number()
    .int()
    .min(1)
    .default(100)
    .describe('Login attempts per client address per LOGIN_WINDOW (any accounts).'),
  REGISTER_ATTEMPTS_PER_ADDRESS: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .describe(
      'Registrations per client address per LOGIN_WINDOW; more answer 429 rate_limited with Retry-After. With REDIS_URL the count spans all nodes.'
    ),
  CHATS_PER_HOUR: z.coerce
    .number()
    .int()
    .min(0)
    .default(30)
    .describe('Private chats one user may create per hour (0: no limit).'),
  ADMIN_USERNAMES: csv
    .default([])
    .describe(
      'Comma-separated usernames that are admins: promoted at start-up, and made admins when they register.'
    ),
  LOGIN_WINDOW: durationMs('LOGIN_WINDOW')
    .default(15 * 60_000)
    .describe('Window the login limits refill over (e.g. 15m).'),
  REFRESH_REUSE_GRACE: durationMs('REFRESH_REUSE_GRACE')
    .default(10_000)
    .describe(
      'A refresh token sent again this soon after it was rotated (a page reloaded mid-refresh) gets a fresh token of its session instead of revoking it; later reuse still revokes the session. 0: no grace.'
    ),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'SMTP_URL must start with smtp:// or smtps://')
    .optional()
    .describe(
      'Outgoing mail, e.g. smtp://user:pass@host:587 (STARTTLS when the server offers it) or smtps://host:465. Unset outside production: mails go to the log and DATA_DIR/outbox/; unset in production: mail is off.'
    ),
  MAIL_FROM: z
    .string()
    .default('myCommunity <no-reply@localhost>')
    .describe('From address of every mail the server sends.'),
  PUBLIC_URL: z
    .string()
    .url()
    .optional()
    .describe(
      'Base URL of the web client that mailed links point to. Default: http://localhost:<PORT>.'
    ),
  EMAIL_TOKEN_TTL: durationMs('EMAIL_TOKEN_TTL')
    .default(86_400_000)
    .describe(
      'How long a mailed verification or password reset link works (single use; e.g. 24h).'
    ),
  EXPORT_TTL: durationMs('EXPORT_TTL')
    .default(604_800_000)
    .describe(
      'How long a finished data export (POST /api/users/me/export) can be fetched before it is deleted (e.g. 7d).'
    ),
  USERNAME_HOLD: durationMs('USERNAME_HOLD')
    .default(30 * 86_400_000)
    .describe(
      'How long the username of an erased account stays unregistrable (e.g. 30d); only its hash is kept meanwhile.'
    ),
  REQUIRE_VERIFIED_EMAIL: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .describe(
      'true: users whose email is not verified may read cities but not send in them (code unverified).'
    ),
  PASSWORD_RESET_PER_ACCOUNT: z.coerce
    .number()
    .int()
    .min(1)
    .default(3)
    .describe(
      'Reset mails one address is sent per LOGIN_WINDOW; more requests still answer 202 but send nothing. With REDIS_URL the count spans all nodes.'
    ),
  PASSWORD_RESET_PER_ADDRESS: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .describe('Forgot-password requests per client address per LOGIN_WINDOW; more answer 429.'),
  RECOVERY_WINDOW: durationMs('RECOVERY_WINDOW')
    .default(2 * 60_000)
    .describe(
      'A dropped socket may resume (rooms back, every missed message, edit and delete replayed) within this long; 0 turns recovery off.'
    ),
  RECOVERY_MAX_EVENTS: z.coerce
    .number()
    .int()
    .min(1)
    .default(1_000)
    .describe(
      'Most missed events one resume replays; beyond that the client reconnects fresh and reloads history.'
    ),
  WEBHOOK_URL: z
    .string()
    .url()
    .optional()
    .describe(
      'Where outgoing webhooks are POSTed (message.created/edited/deleted, reaction.added/removed, member.added/removed, notification.created, report.created), signed with WEBHOOK_SECRET. Unset: none (admins may still register hooks).'
    ),
  WEBHOOK_SECRET: z
    .string()
    .min(16, 'WEBHOOK_SECRET must be at least 16 characters')
    .optional()
    .describe(
      'HMAC-SHA256 key of the X-Webhook-Signature header (v1=hex of HMAC over `<X-Webhook-Timestamp>.<body>`). Required with WEBHOOK_URL.'
    ),
  WEBHOOK_MAX_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(8)
    .describe(
      'Attempts per webhook event before it is dead-lettered (kept, counted, no more tries).'
    ),
  WEBHOOK_RETRY_BASE: durationMs('WEBHOOK_RETRY_BASE')
    .default(1_000)
    .describe('First retry delay of a failed webhook; doubled each attempt, at most 64 times it.'),
  WEBHOOK_TIMEOUT: durationMs('WEBHOOK_TIMEOUT')
    .default(5_000)
    .describe('A webhook receiver that has not answered within this long counts as failed.'),
  VAPID_PUBLIC_KEY: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]{87}$/,
      'VAPID_PUBLIC_KEY must be 65 bytes (an uncompressed P-256 point), base64url'
    )
    .optional()
    .describe(
      'Web Push application server key (RFC 8292), base64url of the uncompressed P-256 point. With VAPID_PRIVATE_KEY; both unset: a pair is generated once into DATA_DIR (nodes must then share DATA_DIR).'
    ),
  VAPID_PRIVATE_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'VAPID_PRIVATE_KEY must be 32 bytes, base64url')
    .optional()
    .describe('The private half of VAPID_PUBLIC_KEY (the P-256 scalar d), base64url.'),
  VAPID_SUBJECT: z
    .string()
    .regex(/^(mailto:|https:\/\/)\S+$/, 'VAPID_SUBJECT must be a mailto: or https: URL')
    .default('mailto:postmaster@localhost')
    .describe(
      'The sub claim of VAPID tokens: a contact the push services can reach (mailto: or https:). Set it in production.'
    ),
  PUSH_COLLAPSE: durationMs('PUSH_COLLAPSE')
    .default(30_000)
    .describe(
      'At most one Web Push per room and device this often; later notifications fold into the next push.'
    ),
  PUSH_TTL: durationMs('PUSH_TTL')
    .default(86_400_000)
    .describe(
      'How long a push service keeps a push for a device that is offline (the TTL header).'
    ),
  PUSH_MAX_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(8)
    .describe('Attempts per Web Push (on 429, 5xx or network errors) before it is given up.'),
  PUSH_RETRY_BASE: durationMs('PUSH_RETRY_BASE')
    .default(1_000)
    .describe('First retry delay of a failed Web Push; doubled each attempt, at most 64 times it.'),
  PUSH_TIMEOUT: durationMs('PUSH_TIMEOUT')
    .default(10_000)
    .describe('A push service that has not answered within this long counts as failed.'),
  PUSH_SUBSCRIPTIONS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(10)
    .describe('Web Push subscriptions (browsers, devices) one account may have.'),
  SHUTDOWN_TIMEOUT: durationMs('SHUTDOWN_TIMEOUT')
    .default(10_000)
    .describe(
      'On SIGTERM/SIGINT, how long to wait for in-flight requests and handlers (e.g. 10s).'
    ),
  MEDIA_STORAGE: z
    .enum(['disk', 's3'])
    .default('disk')
    .describe(
      'Where uploads are stored: disk (MEDIA_DIR, by default DATA_DIR/media) or s3 (an S3-compatible bucket, MEDIA_S3_*). Several nodes must share it.'
    ),
  MEDIA_DIR: z
    .string()
    .optional()
    .describe(
      'With MEDIA_STORAGE=disk: the directory uploads are stored in (unset: DATA_DIR/media). Nodes on several machines point it at one shared mount.'
    ),
  MEDIA_S3_BUCKET: z.string().optional().describe('With MEDIA_STORAGE=s3: the bucket.'),
  MEDIA_S3_ENDPOINT: z
    .string()
    .url()
    .optional()
    .describe('With MEDIA_STORAGE=s3: the endpoint URL (unset: AWS for MEDIA_S3_REGION).'),
  MEDIA_S3_REGION: z.string().default('us-east-1').describe('With MEDIA_STORAGE=s3: the region.'),
  MEDIA_S3_ACCESS_KEY_ID: z
    .string()
    .optional()
    .describe('With MEDIA_STORAGE=s3: the access key id.'),
  MEDIA_S3_SECRET_ACCESS_KEY: z
    .string()
    .optional()
    .describe('With MEDIA_STORAGE=s3: the secret access key.'),
  MEDIA_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .default(10 * 1024 * 1024)
    .describe(
      'Largest upload in bytes, enforced while the body streams in (cut with 413, never buffered).'
    ),
  MEDIA_MAX_PIXELS: z.coerce
    .number()
    .int()
    .min(1)
    .default(40_000_000)
    .describe('Largest image (width x height), checked from its header before it is decoded.'),
  MEDIA_TYPES: csv
    .default([
      'image/jpeg',
      'image/png',
      'image/gif',
      'image/webp',
      'image/avif',
      'application/pdf',
      'text/plain',
      'audio/mpeg',
      'audio/ogg',
      'audio/wav',
      'audio/flac',
      'audio/mp4',
      'video/mp4',
      'video/webm',
      'video/quicktime',
      'application/zip',
    ])
    .describe(
      'Comma-separated content types an upload may be, as sniffed from its bytes (type/* allows a family). HTML and SVG are never served inline.'
    ),
  MEDIA_QUOTA_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(1024 * 1024 * 1024)
    .describe('Bytes of uploads (originals and thumbnails) one user may keep stored; 0: no limit.'),
  MEDIA_ORPHAN_TTL: durationMs('MEDIA_ORPHAN_TTL')
    .default(24 * 3_600_000)
    .describe(
      'An upload never attached to a message (or an avatar not in use) is deleted after this long.'
    ),
  MEDIA_SWEEP_INTERVAL: durationMs('MEDIA_SWEEP_INTERVAL')
    .default(60_000)
    .describe('How often each node deletes orphaned and removed media, in small slices (e.g. 1m).'),
  MESSAGE_RETENTION: durationMs('MESSAGE_RETENTION')
    .refine((ms) => ms > 0, 'MESSAGE_RETENTION must be longer than 0')
    .optional()
    .describe(
      'Messages older than this (e.g. 90d) are deleted for good, with their media, in city rooms and private chats alike; a city may set its own (PATCH /api/admin/cities/:cityId { retentionDays }). Unset: kept forever.'
    ),
  RETENTION_INTERVAL: durationMs('RETENTION_INTERVAL')
    .default(10 * 60_000)
    .describe(
      'How often each node purges messages past their retention, in small slices with the event loop served between them (e.g. 10m).'
    ),
  ADMIN_UI: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .describe(
      'Instrument the realtime server for the Socket.IO Admin UI (namespace /admin) and serve its dashboard at /admin-ui/. Needs ADMIN_UI_PASSWORD_HASH.'
    ),
  ADMIN_UI_USERNAME: z
    .string()
    .min(1)
    .default('admin')
    .describe('The username the Admin UI dashboard logs in with.'),
  ADMIN_UI_PASSWORD_HASH: z
    .string()
    .regex(/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/, 'ADMIN_UI_PASSWORD_HASH must be a bcrypt hash')
    .optional()
    .describe(
      "bcrypt hash of the Admin UI password, e.g. from bun -e \"console.log(await Bun.password.hash('secret', 'bcrypt'))\"."
    ),
  SEED_CITIES: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true')
    .describe('Seed the default list of cities at start-up (idempotent).'),
})

export type Env = z.input<typeof ENV_SCHEMA>
export type Config = Readonly<z.output<typeof ENV_SCHEMA>>

/** Every variable with its description, for the README configuration table. */
export const CONFIG_DOC = Object.entries(ENV_SCHEMA.shape).map(([name, schema]) => ({
  name,
  description: schema.description ?? '',
}))

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Validates the environment once. Every problem names its variable and rule.
 * @example const config = loadConfig(process.env)
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const parsed = ENV_SCHEMA.safeParse(cleaned)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`)
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
  }
  const config = parsed.data
  // Our own tokens are always signed with JWT_SECRET; a generated one is for development only.
  if (config.NODE_ENV === 'production' && !config.JWT_SECRET) {
    throw new ConfigError('Invalid configuration:\n  JWT_SECRET: required when NODE_ENV=production')
  }
  // Workers share rooms and presence only through Redis; without it each would be an island.
  if (config.WORKERS > 1 && !config.REDIS_URL) {
    throw new ConfigError('Invalid configuration:\n  WORKERS: more than 1 requires REDIS_URL')
  }
  // Nobody could ever verify, so every user would be locked out of sending.
  if (config.NODE_ENV === 'production' && config.REQUIRE_VERIFIED_EMAIL && !config.SMTP_URL) {
    throw new ConfigError(
      'Invalid configuration:\n  REQUIRE_VERIFIED_EMAIL: requires SMTP_URL when NODE_ENV=production'
    )
  }
  // Half a key pair could sign nothing the browsers subscribed with.
  if (!config.VAPID_PUBLIC_KEY !== !config.VAPID_PRIVATE_KEY) {
    throw new ConfigError(
      'Invalid configuration:\n  VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: set both or neither'
    )
  }
  // S3 needs a bucket; checked here so a node never starts unable to store what it accepts.
  if (config.MEDIA_STORAGE === 's3' && !config.MEDIA_S3_BUCKET) {
    throw new ConfigError(
      'Invalid configuration:\n  MEDIA_S3_BUCKET: required when MEDIA_STORAGE=s3'
    )
  }
  // The dashboard sees every socket's handshake and data: never open without a password.
  if (config.ADMIN_UI && !config.ADMIN_UI_PASSWORD_HASH) {
    throw new ConfigError(
      'Invalid configuration:\n  ADMIN_UI_PASSWORD_HASH: required when ADMIN_UI=true'
    )
  }
  return Object.freeze(config)
}
