/**
 * @module View schemas: the zod schema of every JSON view views.ts builds, the one definition of
 * the REST answers' shapes. views.ts takes its types from here (so a builder that drifts does not
 * compile) and http/openapi.ts turns them into the document's response schemas. Objects are
 * strict: a field a view gains without its schema fails test/http/openapi-responses.test.ts.
 */
import { z } from 'zod'
import {
  CHAT_ROLES,
  ERASURE_PHASES,
  EXPORT_STATES,
  MESSAGE_TYPES,
  NOTIFICATION_KINDS,
  NOTIFICATION_LEVELS,
  REPORT_STATUSES,
  RESTRICTION_KINDS,
  USER_ROLES,
  WEBHOOK_STATES,
} from '../store/schema.ts'

const id = z.string()
const time = z.iso.datetime()
const timeOrNull = time.nullable()

/** `{ cityId, ...fields }` or `{ chatId, ...fields }`, as roomPayload spreads a room. */
function inRoom<T extends z.ZodRawShape>(fields: T) {
  return z.union([
    z.strictObject({ cityId: id, ...fields }),
    z.strictObject({ chatId: id, ...fields }),
  ])
}

export const userViewSchema = z.strictObject({
  _id: id,
  username: z.string(),
  full_name: z.string(),
  email: z.string(),
  profile_photo_url: z.string(),
  is_active: z.boolean(),
  email_verified: z.boolean(),
  role: z.enum(USER_ROLES),
  created_at: time,
})

export const publicUserViewSchema = z.strictObject({
  _id: id,
  username: z.string(),
  full_name: z.string(),
  profile_photo_url: z.string(),
})

export const sessionViewSchema = z.strictObject({
  _id: id,
  device: z.string(),
  user_agent: z.string().nullable(),
  address: z.string().nullable(),
  created_at: time,
  last_used_at: time,
  current: z.boolean(),
})

export const mediaViewSchema = z.strictObject({
  _id: id,
  url: z.string(),
  thumbnail_url: z.string().nullable(),
  content_type: z.string(),
  size: z.number().int(),
  name: z.string(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
})

export const messageViewSchema = z.strictObject({
  _id: id,
  sender_id: publicUserViewSchema,
  content: z.string(),
  message_type: z.enum(MESSAGE_TYPES),
  media_url: z.string().nullable(),
  reply_to: id.nullable(),
  reply_to_deleted: z
    .literal(true)
    .optional()
    .describe('Present (true) when the message replied to was deleted or purged by retention'),
  is_edited: z.boolean(),
  is_deleted: z.boolean(),
  created_at: time,
  edited_at: timeOrNull,
  mentions: z.array(id).describe('Ids of the users `@username` / `@all` resolved to at send'),
  cityId: id.optional(),
  chatId: id.optional(),
  clientId: z.string().optional(),
  attachment: mediaViewSchema
    .optional()
    .describe('An upload (POST /api/media) the message carries; its media_url is `url`'),
  reactions: z
    .array(z.strictObject({ emoji: z.string(), count: z.number().int(), userIds: z.array(id) }))
    .describe('By count, most first; `userIds` are the first 10 who reacted'),
  reply_count: z.number().int().describe('Replies in its thread so far'),
  last_reply_at: timeOrNull,
})

export const searchResultViewSchema = z.strictObject({
  message: messageViewSchema,
  /** Plain text and the [start, end) UTF-16 ranges of the matched terms (docs/search.md). */
  snippet: z.strictObject({
    text: z.string(),
    highlights: z.array(z.tuple([z.number().int(), z.number().int()])),
  }),
  rank: z.number(),
})

const cityFields = {
  _id: id,
  name: z.string(),
  country: z.string(),
  archived: z.boolean(),
  slowModeSeconds: z.number().int(),
  retentionDays: z
    .number()
    .int()
    .nullable()
    .describe('Days messages are kept here; null: MESSAGE_RETENTION (or forever)'),
}

export const cityViewSchema = z.strictObject(cityFields)

export const cityWithCountsViewSchema = z.strictObject({
  ...cityFields,
  unreadCount: z.number().int().nullable(),
  mentionCount: z.number().int(),
  canModerate: z.boolean(),
})

export const cityForViewerViewSchema = z.strictObject({ ...cityFields, canModerate: z.boolean() })

export const restrictionViewSchema = z.strictObject({
  cityId: id,
  userId: id,
  kind: z.enum(RESTRICTION_KINDS),
  until: timeOrNull,
  reason: z.string().nullable(),
  created_by: id,
  created_at: time,
})

export const auditViewSchema = z.strictObject({
  _id: z.number().int(),
  actor_id: id,
  action: z.string(),
  target_user_id: id.nullable(),
  cityId: id.nullable(),
  messageId: id.nullable(),
  reason: z.string().nullable(),
  details: z.unknown(),
  created_at: time,
})

export const reportViewSchema = z.strictObject({
  _id: id,
  messageId: id,
  cityId: id.nullable(),
  chatId: id.nullable(),
  reporter_id: id.nullable(),
  reason: z.string(),
  status: z.enum(REPORT_STATUSES),
  action: z.string().nullable(),
  resolved_by: id.nullable(),
  resolved_at: timeOrNull,
  created_at: time,
  message: messageViewSchema.optional(),
})

export const chatViewSchema = z.strictObject({
  _id: id,
  name: z.string().nullable(),
  created_by: id,
  created_at: time,
  members: z.array(
    z.strictObject({
      user: publicUserViewSchema,
      role: z.enum(CHAT_ROLES),
      joined_at: time,
      last_read_message_id: id.nullable(),
      last_read_at: timeOrNull,
    })
  ),
  last_message: messageViewSchema.nullable().optional(),
  unreadCount: z.number().int().optional(),
  mentionCount: z.number().int().optional(),
})

/** A read position (`messages-read`, and the answer of POST …/read). */
export const readViewSchema = inRoom({
  userId: id,
  readAt: time,
  lastReadMessageId: id.nullable(),
})

export const notificationViewSchema = inRoom({
  _id: id,
  kind: z.enum(NOTIFICATION_KINDS),
  actor_id: id,
  message: messageViewSchema.nullable(),
  read: z.boolean(),
  created_at: time,
})

export const notificationSettingViewSchema = inRoom({
  level: z.enum(NOTIFICATION_LEVELS),
  muteUntil: timeOrNull,
})

export const exportViewSchema = z.strictObject({
  _id: id,
  state: z.enum(EXPORT_STATES),
  messages: z.number().int(),
  bytes: z.number().int().nullable(),
  created_at: time,
  finished_at: timeOrNull,
  expires_at: timeOrNull,
  download_url: z.string(),
})

export const erasureViewSchema = z.strictObject({
  user_id: id,
  state: z.enum(['running', 'done']),
  phase: z.enum(ERASURE_PHASES),
  messages: z.number().int(),
  started_at: time,
  finished_at: timeOrNull,
})

/** A pin, as `GET …/pins` lists it and `*-message-pinned` carries it. */
export const pinViewSchema = inRoom({
  messageId: id,
  pinned_by: id,
  pinned_at: time,
  message: messageViewSchema,
})

/** A webhook an admin registered (its secret is answered once, at registration). */
export const webhookViewSchema = z.strictObject({
  _id: id,
  url: z.string(),
  events: z.array(z.string()),
  created_by: id,
  created_at: time,
})

/** One event's delivery to one hook: where it stands and what the receiver last answered. */
export const webhookDeliveryViewSchema = z.strictObject({
  _id: z.number().int(),
  event_id: id,
  type: z.string(),
  state: z.enum(WEBHOOK_STATES),
  attempts: z.number().int(),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: time,
  next_at: timeOrNull,
  done_at: timeOrNull,
})
