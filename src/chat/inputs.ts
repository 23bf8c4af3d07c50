/**
 * @module Inputs: the zod schema of every REST body/query/param and every socket payload of the
 * guide, plus the limits. Exported for the socket handlers and the OpenAPI generator.
 */
import { z } from 'zod'
import { type AppError, fail, ok, type Result } from '../errors.ts'
import { emojiOf } from './emoji.ts'

const LIMITS = {
  contentMaxChars: 4000,
  fullNameMaxChars: 100,
  chatNameMaxChars: 100,
  passwordMinChars: 8,
  /** argon2 work is bounded by the input too; nobody types more than this. */
  passwordMaxChars: 128,
  historyDefault: 50,
  historyMax: 100,
  searchDefault: 20,
  searchMax: 50,
  /** Message search: `q` longer than this is refused (a query, not a document). */
  messageSearchMaxChars: 200,
  chatMembersMax: 100,
  clientIdMaxChars: 64,
  urlMaxChars: 2048,
} as const

// C0 controls and DEL except \t (0x09) and \n (0x0A); \r goes too, so line ends are \n only.
const CONTROL_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F]/g

/** Removes control characters except newline and tab. Content is otherwise stored as sent. */
const stripControlChars = (value: string): string => value.replace(CONTROL_CHARS, '')

const idSchema = z.string().regex(/^[0-9a-f]{24}$/, 'must be a 24-character hex id')
const citySlugSchema = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be a city slug like mumbai')
  .max(64)

const httpUrl = z
  .string()
  .max(LIMITS.urlMaxChars)
  .refine((value) => {
    if (!URL.canParse(value)) return false
    const { protocol } = new URL(value)
    return protocol === 'http:' || protocol === 'https:'
  }, 'must be an http(s) URL')

const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(3)
  .max(30)
  .regex(/^[a-z0-9_.]+$/, 'may contain only letters, digits, _ and .')
const emailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email())
const fullNameSchema = z
  .string()
  .transform(stripControlChars)
  .pipe(z.string().trim().min(1).max(LIMITS.fullNameMaxChars))
const passwordSchema = z.string().min(LIMITS.passwordMinChars).max(LIMITS.passwordMaxChars)

// ---- REST bodies -------------------------------------------------------------------------

export const registerBody = z.object({
  username: usernameSchema,
  email: emailSchema,
  full_name: fullNameSchema,
  password: passwordSchema,
})
export const loginBody = z.object({
  login: z.string().trim().toLowerCase().min(1).max(254),
  password: z.string().min(1).max(LIMITS.passwordMaxChars),
})
/** The web client's refresh token travels in a cookie instead (http/routes/auth.ts). */
export const refreshOrCookieBody = z.object({ refreshToken: z.string().min(1).max(200).optional() })
const mailedToken = z.string().min(1).max(200)
export const emailTokenBody = z.object({ token: mailedToken })
export const forgotPasswordBody = z.object({ email: emailSchema })
export const resetPasswordBody = z.object({ token: mailedToken, password: passwordSchema })
export const changePasswordBody = z.object({
  currentPassword: z.string().min(1).max(LIMITS.passwordMaxChars),
  newPassword: passwordSchema,
})
export const changeEmailBody = z.object({
  password: z.string().min(1).max(LIMITS.passwordMaxChars),
  email: emailSchema,
})
export const sessionIdParam = z.object({ id: idSchema })
export const exportIdParam = z.object({ exportId: idSchema })
export const updateMeBody = z
  .object({
    full_name: fullNameSchema.optional(),
    profile_photo_url: httpUrl.nullable().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'nothing to update')

/** A search's page size: above the cap it is clamped rather than refused, as for history. */
const searchLimit = z.coerce
  .number()
  .int()
  .min(1)
  .default(LIMITS.searchDefault)
  .transform((n) => Math.min(n, LIMITS.searchMax))

export const userSearchQuery = z.object({
  search: z.string().trim().max(100).default(''),
  limit: searchLimit,
})

/**
 * GET /api/search: `q` (chat/search-query.ts reads it), one room at most, a sender, the cursor.
 * `limit` above the cap is clamped rather than refused, as for history.
 */
export const messageSearchQuery = z
  .object({
    q: z.string().trim().min(1, 'q is empty').max(LIMITS.messageSearchMaxChars),
    cityId: citySlugSchema.optional(),
    chatId: idSchema.optional(),
    from: idSchema.optional(),
    before: idSchema.optional(),
    limit: searchLimit,
  })
  .refine((query) => !(query.cityId && query.chatId), 'name cityId or chatId, not both')

/**
 * `limit` above the cap is clamped rather than refused. `around` (a message id) is the page
 * centred on that message: up to half the limit before it, the message, the rest after it.
 */
export const historyQuery = z.object({
  before: idSchema.optional(),
  after: idSchema.optional(),
  around: idSchema.optional(),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .default(LIMITS.historyDefault)
    .transform((n) => Math.min(n, LIMITS.historyMax)),
})

/**
 * Every message send parses these (the hot path): `.nullable().default(null)` and `.overwrite`
 * give the same output as `.nullish().transform(v => v ?? null)` and `.transform(strip)` without
 * a pipe and its intermediate results per field per parse (issue 20: the send path's garbage).
 */
const messageFields = {
  content: z.string().max(LIMITS.contentMaxChars).overwrite(stripControlChars).default(''),
  message_type: z.enum(['text', 'image', 'file']).default('text'),
  media_url: httpUrl.nullable().default(null),
  /** An upload's id (POST /api/media), instead of an external media_url. */
  media_id: idSchema.nullable().default(null),
  reply_to: idSchema.nullable().default(null),
  clientId: z.string().min(1).max(LIMITS.clientIdMaxChars).nullable().default(null),
}

type MessageFields = {
  content: string
  message_type: string
  media_url: string | null
  media_id: string | null
}

/** A text message needs text; an image or file needs its URL. */
function messageIsComplete(message: MessageFields, ctx: z.RefinementCtx): void {
  if (message.message_type === 'text' && message.content.trim() === '') {
    ctx.addIssue({ code: 'custom', path: ['content'], message: 'a text message needs content' })
  }
  if (message.message_type !== 'text' && !message.media_url && !message.media_id) {
    ctx.addIssue({
      code: 'custom',
      path: ['media_url'],
      message: `a ${message.message_type} message needs media_url or media_id`,
    })
  }
  if (message.media_id && (message.message_type === 'text' || message.media_url)) {
    ctx.addIssue({
      code: 'custom',
      path: ['media_id'],
      message: 'media_id goes with message_type image or file, and without media_url',
    })
  }
}

export const messageBody = z.object(messageFields).superRefine(messageIsComplete)
export const editMessageBody = z.object({
  content: z
    .string()
    .max(LIMITS.contentMaxChars)
    .transform(stripControlChars)
    .refine((s) => s.trim() !== '', 'content must not be empty'),
})
export const createChatBody = z.object({
  name: z
    .string()
    .transform(stripControlChars)
    .pipe(z.string().trim().min(1).max(LIMITS.chatNameMaxChars))
    .nullish(),
  memberIds: z.array(idSchema).max(LIMITS.chatMembersMax),
})
export const addMembersBody = z.object({
  userIds: z.array(idSchema).min(1).max(LIMITS.chatMembersMax),
})
/** `PUT /api/chats/:chatId/members/:userId/role`: the owner makes a member an admin, or not. */
export const memberRoleBody = z.object({ role: z.enum(['admin', 'member']) })

// ---- Moderation bodies --------------------------------------------------------------------

const reasonSchema = z.string().transform(stripControlChars).pipe(z.string().trim().min(1).max(500))
const nameSchema = z.string().transform(stripControlChars).pipe(z.string().trim().min(1).max(100))

export const setRoleBody = z.object({ role: z.enum(['user', 'moderator', 'admin']) })
export const createCityBody = z.object({
  id: citySlugSchema,
  name: nameSchema,
  country: nameSchema,
})
export const updateCityBody = z
  .object({
    name: nameSchema.optional(),
    archived: z.boolean().optional(),
    /** Days messages here are kept (beats MESSAGE_RETENTION); null: back to MESSAGE_RETENTION. */
    retentionDays: z.number().int().min(1).max(36_500).nullable().optional(),
  })
  .refine(
    (body) =>
      body.name !== undefined || body.archived !== undefined || body.retentionDays !== undefined,
    'name, archived or retentionDays'
  )
export const slowModeBody = z.object({ slowModeSeconds: z.number().int().min(0).max(3600) })
export const restrictionBody = z.object({
  userId: idSchema,
  kind: z.enum(['ban', 'mute', 'shadow']),
  /** ISO 8601 time the restriction ends by itself; absent: until lifted. */
  until: z.iso
    .datetime({ offset: true })
    .transform((value) => Date.parse(value))
    .optional(),
  reason: reasonSchema.optional(),
})
export const wordFilterBody = z.object({
  terms: z
    .array(
      z.object({
        term: z
          .string()
          .trim()
          .min(1)
          .max(100)
          .refine((term) => !/\s/.test(term), 'a term is one word'),
        action: z.enum(['block', 'flag']),
      })
    )
    .max(1000),
})
export const reportBody = z.object({ reason: reasonSchema })

/**
 * `DELETE /api/users/me`: no body (or `erase` false) deactivates, as before; `erase: true` erases
 * for real and needs the password.
 */
export const deleteMeBody = z
  .object({
    password: z.string().min(1).max(LIMITS.passwordMaxChars).optional(),
    erase: z.boolean().optional(),
  })
  .refine((body) => body.erase !== true || body.password !== undefined, {
    message: 'erase needs your password',
    path: ['password'],
  })

/** `POST /api/admin/users/:userId/erase`: why (audited). */
export const eraseUserBody = z.object({ reason: reasonSchema.optional() })
export const reportsQuery = z.object({
  status: z.enum(['open', 'dismissed', 'actioned']).default('open'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
})
export const resolveReportBody = z.object({
  status: z.enum(['dismissed', 'actioned']),
  action: z.enum(['delete', 'ban', 'mute']).optional(),
})
/** Every webhook event type (chat/webhooks.ts sends them). */
export const WEBHOOK_EVENTS = [
  'message.created',
  'message.edited',
  'message.deleted',
  'reaction.added',
  'reaction.removed',
  'member.added',
  'member.removed',
  'notification.created',
  'report.created',
] as const

/** `POST /api/admin/webhooks`: where, and which events (at least one). */
export const createWebhookBody = z.object({
  url: httpUrl,
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length),
})
/** A registered hook's id, or `env` for WEBHOOK_URL's. */
export const webhookIdParam = z.object({ id: z.union([z.literal('env'), idSchema]) })
export const webhookDeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().min(1).optional(),
})

export const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().min(1).optional(),
})

// ---- Reactions ---------------------------------------------------------------------------

/** One emoji grapheme or a short name of chat/emoji.ts, as the emoji it stands for. */
const emojiSchema = z
  .string()
  .max(64)
  .transform((value, ctx) => {
    const emoji = emojiOf(value)
    if (emoji !== null) return emoji
    ctx.addIssue({ code: 'custom', message: 'must be one emoji or a known short name' })
    return z.NEVER
  })
export const messageEmojiParam = z.object({ messageId: idSchema, emoji: emojiSchema })
/** `react-message` / `unreact-message`: the message, the emoji, and the room it is in. */
export const reactionPayload = z.union([
  z.object({ messageId: idSchema, emoji: emojiSchema, cityId: citySlugSchema }),
  z.object({ messageId: idSchema, emoji: emojiSchema, chatId: idSchema }),
])

// ---- REST params -------------------------------------------------------------------------

/** `/api/users/:userId` also answers to a username (look up by id or username). */
export const userRefParam = z.object({ userId: z.union([idSchema, usernameSchema]) })
export const cityIdParam = z.object({ cityId: citySlugSchema })
export const chatIdParam = z.object({ chatId: idSchema })
export const chatMemberParam = z.object({ chatId: idSchema, userId: idSchema })
export const messageIdParam = z.object({ messageId: idSchema })
export const userIdParam = z.object({ userId: idSchema })
export const cityUserParam = z.object({ cityId: citySlugSchema, userId: idSchema })
export const reportIdParam = z.object({ reportId: idSchema })

// ---- Socket payloads (the guide's events) ------------------------------------------------

export const cityRoomPayload = z.object({ cityId: citySlugSchema })
export const chatRoomPayload = z.object({ chatId: idSchema })

/** `/api/notification-settings/:roomKind/:roomId`: a city slug or a chat id, by kind. */
export const roomSettingParam = z
  .object({ roomKind: z.enum(['city', 'chat']), roomId: z.string().max(64) })
  .superRefine(({ roomKind, roomId }, ctx) => {
    const parsed = (roomKind === 'city' ? citySlugSchema : idSchema).safeParse(roomId)
    if (!parsed.success) {
      const message = parsed.error.issues[0]?.message ?? 'invalid'
      ctx.addIssue({ code: 'custom', path: ['roomId'], message })
    }
  })
/** `muteUntil`: ISO 8601 or ms since the epoch; null or absent unmutes. */
export const notificationSettingBody = z.object({
  level: z.enum(['all', 'mentions', 'none']),
  muteUntil: z
    .union([z.iso.datetime({ offset: true }), z.number().int().min(0).max(8.64e15)])
    .nullish()
    .transform((v) => (v === undefined || v === null ? null : new Date(v).getTime())),
})
export const notificationsQuery = z.object({
  before: idSchema.optional(),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .default(LIMITS.historyDefault)
    .transform((n) => Math.min(n, LIMITS.historyMax)),
})
export const notificationsReadBody = z.object({ upTo: idSchema })

/** base64url without padding (browsers' PushSubscription.toJSON), `bytes` long once decoded. */
const base64url = (bytes: number) =>
  z
    .string()
    .regex(
      new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((bytes * 4) / 3)}}$`),
      `must be ${bytes} bytes, base64url`
    )
/** A browser's PushSubscription as `toJSON()` gives it (expirationTime is ignored). */
export const pushSubscriptionBody = z.object({
  endpoint: httpUrl,
  expirationTime: z.number().nullable().optional(),
  keys: z.object({
    /** The browser's P-256 public key, uncompressed (RFC 8291 §2). */
    p256dh: base64url(65),
    /** The 16-byte authentication secret (RFC 8291 §2). */
    auth: base64url(16),
  }),
})
export const pushEndpointBody = z.object({ endpoint: httpUrl })
/** `mark-messages-read`: a private chat or (for its read position) a city. */
export const readRoomPayload = z.union([chatRoomPayload, cityRoomPayload])
export const sendCityMessagePayload = z
  .object({ cityId: citySlugSchema, ...messageFields })
  .superRefine(messageIsComplete)
export const sendPrivateMessagePayload = z
  .object({ chatId: idSchema, ...messageFields })
  .superRefine(messageIsComplete)
export const editCityMessagePayload = z.object({
  messageId: idSchema,
  cityId: citySlugSchema,
  content: editMessageBody.shape.content,
})
export const editPrivateMessagePayload = z.object({
  messageId: idSchema,
  chatId: idSchema,
  content: editMessageBody.shape.content,
})
export const deleteCityMessagePayload = z.object({ messageId: idSchema, cityId: citySlugSchema })
export const deletePrivateMessagePayload = z.object({ messageId: idSchema, chatId: idSchema })
export const checkUserOnlinePayload = z.object({ userId: idSchema })
/** `refresh-auth`: a renewed access token for the open connection (same user only). */
export const refreshAuthPayload = z.object({ token: z.string().min(1).max(8_192) })
/** `heartbeat` may come with no payload at all, or `{ timestamp }`. */
export const heartbeatPayload = z
  .object({ timestamp: z.number().finite().optional() })
  .nullish()
  .transform((v) => v ?? {})

/**
 * The schema with zod's compiled parser in front (`z.compile`): a valid input is parsed by code
 * zod generated for the schema, anything else by zod's runtime parser, so the issues (and the
 * errors parseInput makes of them) are the runtime's own, and the output is the same. For the
 * socket events, each validated once per event: a send payload's parse allocates a third of the
 * runtime's (issue 20). A schema zod cannot compile comes back as it is.
 * @example const send = compiledSchema(sendCityMessagePayload)
 */
export const compiledSchema = <S extends z.ZodType>(schema: S): S => z.compile(schema)

/**
 * Validates input with a schema into a Result. An over-long `content` is `payload_too_large`
 * (the client should shorten it); anything else is `invalid_input` with zod's issues as details.
 * @example const body = parseInput(messageBody, await req.json())
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): Result<z.output<S>> {
  const parsed = schema.safeParse(input)
  if (parsed.success) return ok(parsed.data)
  const issues = parsed.error.issues.map((issue) => ({
    path: issue.path.join('.'),
    message: issue.message,
  }))
  const tooLong = parsed.error.issues.some(
    (issue) => issue.code === 'too_big' && issue.path[issue.path.length - 1] === 'content'
  )
  if (tooLong) {
    return fail(
      'payload_too_large',
      `content is longer than ${LIMITS.contentMaxChars} characters`,
      { issues }
    )
  }
  const first = issues[0]
  const message = first ? `${first.path || 'input'}: ${first.message}` : 'invalid input'
  return fail('invalid_input', message, { issues } satisfies AppError['details'])
}
