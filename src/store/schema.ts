/** @module Database schema: one Drizzle sqlite-core schema shared by the bun:sqlite and libSQL drivers. */
import { sql } from 'drizzle-orm'
import {
  type AnySQLiteColumn,
  check,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core'

// Times are integer milliseconds since the epoch; the wire form (ISO 8601) is built in chat/views.ts.

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    username: text('username').notNull(),
    email: text('email').notNull(),
    fullName: text('full_name').notNull(),
    /** Null for users provisioned from an external identity provider. */
    passwordHash: text('password_hash'),
    profilePhotoUrl: text('profile_photo_url'),
    isActive: integer('is_active', { mode: 'boolean' }).notNull().default(true),
    /** `iss|sub` of an external identity provider's token, when the user came from one. */
    externalSubject: text('external_subject'),
    /** When the owner proved the address (a verification or reset link); null: not yet. */
    emailVerifiedAt: integer('email_verified_at'),
    /** user | moderator (of every city) | admin (chat/roles.ts). */
    role: text('role', { enum: ['user', 'moderator', 'admin'] })
      .notNull()
      .default('user'),
    /**
     * When the user was last connected (their last socket closed, or a connection opened), written
     * in batches (chat/last-seen.ts); null: never connected.
     */
    lastSeenAt: integer('last_seen_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    // Usernames and emails are stored lower-cased (chat/inputs.ts), so plain unique indexes suffice.
    uniqueIndex('users_username_unique').on(t.username),
    uniqueIndex('users_email_unique').on(t.email),
    uniqueIndex('users_external_subject_unique').on(t.externalSubject),
  ]
)

export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Every token issued by rotating one login shares its family; reuse revokes the family. */
    familyId: text('family_id').notNull(),
    /** sha256 of the opaque token; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    expiresAt: integer('expires_at').notNull(),
    createdAt: integer('created_at').notNull(),
    rotatedAt: integer('rotated_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [
    uniqueIndex('refresh_tokens_hash_unique').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
    // Expired rows are swept (chat/auth.ts): every refresh adds a row, 30 days of them per session.
    index('refresh_tokens_expires_idx').on(t.expiresAt),
  ]
)

/**
 * One login session (a refresh token family, same id): what the owner's device list shows.
 * Deleted when the session is revoked; its token rows are revoked with it.
 */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    userAgent: text('user_agent'),
    address: text('address'),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at').notNull(),
    /** Its newest refresh token's expiry: an expired session is not listed. */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)]
)

export const EMAIL_TOKEN_PURPOSES = ['verify', 'reset'] as const
export type EmailTokenPurpose = (typeof EMAIL_TOKEN_PURPOSES)[number]

/**
 * Single-use tokens mailed to a user: verify an address (`email` is the address it proves, the
 * account's or a new one it changes to) or reset the password. Only the sha256 is stored.
 */
export const emailTokens = sqliteTable(
  'email_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: text('purpose', { enum: EMAIL_TOKEN_PURPOSES }).notNull(),
    email: text('email').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [
    uniqueIndex('email_tokens_hash_unique').on(t.tokenHash),
    index('email_tokens_user_idx').on(t.userId),
  ]
)

export const cities = sqliteTable('cities', {
  /** Slug, e.g. 'mumbai'. */
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  country: text('country').notNull(),
  createdAt: integer('created_at').notNull(),
  /** An archived city refuses joins and sends and keeps its history (chat/room-access.ts). */
  archived: integer('archived', { mode: 'boolean' }).notNull().default(false),
  /** Seconds a member waits between two messages here; 0 is off (moderators are exempt). */
  slowModeSeconds: integer('slow_mode_seconds').notNull().default(0),
  /**
   * Messages older than this many days are deleted (chat/retention.ts); null: MESSAGE_RETENTION,
   * the global setting, applies.
   */
  retentionDays: integer('retention_days'),
})

export const chats = sqliteTable('chats', {
  id: text('id').primaryKey(),
  name: text('name'),
  createdBy: text('created_by')
    .notNull()
    .references(() => users.id),
  createdAt: integer('created_at').notNull(),
})

export const CHAT_ROLES = ['owner', 'admin', 'member'] as const
export type ChatRole = (typeof CHAT_ROLES)[number]

export const chatMembers = sqliteTable(
  'chat_members',
  {
    chatId: text('chat_id')
      .notNull()
      .references(() => chats.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: CHAT_ROLES }).notNull().default('member'),
    joinedAt: integer('joined_at').notNull(),
    /** Read position: the newest message this member has read (unread counts follow its seq). */
    lastReadMessageId: text('last_read_message_id'),
    lastReadAt: integer('last_read_at'),
  },
  (t) => [
    primaryKey({ columns: [t.chatId, t.userId] }),
    index('chat_members_user_idx').on(t.userId),
  ]
)

export const MESSAGE_TYPES = ['text', 'image', 'file'] as const
export type MessageType = (typeof MESSAGE_TYPES)[number]

export const messages = sqliteTable(
  'messages',
  {
    /**
     * The message's place in the room event order, shared with `room_events.id`: its recovery
     * offset, and the order history pages follow. Given out at commit (store/write-batch.ts).
     */
    seq: integer('seq').primaryKey(),
    id: text('id').notNull(),
    cityId: text('city_id').references(() => cities.id),
    chatId: text('chat_id').references(() => chats.id, { onDelete: 'cascade' }),
    authorId: text('author_id')
      .notNull()
      .references(() => users.id),
    content: text('content').notNull(),
    messageType: text('message_type', { enum: MESSAGE_TYPES }).notNull().default('text'),
    mediaUrl: text('media_url'),
    /**
     * The upload this message carries (its media row's metadata, copied once at send): history,
     * replay and broadcasts build the `attachment` view from the message row, with no join.
     */
    attachment: text('attachment', { mode: 'json' }).$type<Attachment>(),
    replyTo: text('reply_to'),
    /** Client-supplied id for idempotent sends, unique per author. */
    clientId: text('client_id'),
    isEdited: integer('is_edited', { mode: 'boolean' }).notNull().default(false),
    isDeleted: integer('is_deleted', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    editedAt: integer('edited_at'),
    deletedAt: integer('deleted_at'),
    /**
     * JSON array of the user ids `@username` (or `@all`) resolved to at send (chat/mentions.ts);
     * null for the many messages that mention no one.
     */
    mentions: text('mentions'),
    /** Sent while its author was shadow-restricted: only the author ever sees it. */
    shadowed: integer('shadowed', { mode: 'boolean' }).notNull().default(false),
    /**
     * Its thread: how many (not shadowed) messages reply to it and when the newest came, kept in
     * step by the write that stores a reply (store/write-batch.ts).
     */
    replyCount: integer('reply_count').notNull().default(0),
    lastReplyAt: integer('last_reply_at'),
  },
  (t) => [
    uniqueIndex('messages_id_unique').on(t.id),
    // Mention counts walk only the messages that mention someone (most touch no extra b-tree).
    index('messages_mentions_idx')
      .on(t.cityId, t.chatId, t.seq)
      .where(sql`${t.mentions} IS NOT NULL`),
    // History pages and recovery walk (room, seq) in either direction (seq is the rowid, which
    // every index entry ends with). Partial: a message is in one kind of room and most carry no
    // clientId, so an insert touches two secondary b-trees (its id's and its room's), not four.
    index('messages_city_idx').on(t.cityId).where(sql`${t.cityId} IS NOT NULL`),
    index('messages_chat_idx').on(t.chatId).where(sql`${t.chatId} IS NOT NULL`),
    // A thread's replies in order; partial, so a message that replies to nothing touches no entry.
    index('messages_reply_idx').on(t.replyTo).where(sql`${t.replyTo} IS NOT NULL`),
    // The notifier's poll walks only the messages that may notify someone whatever the room's
    // settings (store/notifications.ts NOTIFIABLE; a city's plain ones go through
    // messages_city_idx); a plain city message, the common send, touches no entry.
    index('messages_notify_idx')
      .on(t.seq)
      .where(sql`${t.chatId} IS NOT NULL OR ${t.replyTo} IS NOT NULL OR ${t.mentions} IS NOT NULL`),
    uniqueIndex('messages_author_client_unique')
      .on(t.authorId, t.clientId)
      .where(sql`${t.clientId} IS NOT NULL`),
    check('messages_one_room', sql`(${t.cityId} IS NULL) <> (${t.chatId} IS NULL)`),
  ]
)

/**
 * The room-log events the notifier reads after its watermark (chat/notifications.ts: webhooks,
 * `added` notifications); the partial index room_events_notify_idx holds only these, so its read
 * skips thread updates, pins and role changes without touching them.
 */
export const NOTIFIED_EVENTS = [
  'chat-members-added',
  'chat-members-removed',
  'city-message-edited',
  'city-message-deleted',
  'city-message-reaction',
  'private-message-edited',
  'private-message-deleted',
  'private-message-reaction',
] as const

/**
 * Whether a log row is one of NOTIFIED_EVENTS: its name cut from the packet's start (`["name",…`),
 * the JSON unparsed. The index's WHERE and the notifier's read are this one expression, with the
 * names as literals (a bound name would not match the index).
 */
export const isNotifiedEvent = (packet: AnySQLiteColumn) =>
  sql`substr(${packet}, 3, instr(${packet}, '",') - 3) IN (${sql.raw(
    NOTIFIED_EVENTS.map((name) => `'${name}'`).join(', ')
  )})`

/**
 * The room event log behind connection state recovery and the notifier: the replayable
 * broadcasts other than new messages (edits, deletes, reactions, pins, threads, membership and
 * role changes), whose ids share one order with `messages.seq`. A new message is replayed from
 * `messages` itself, so it writes no row here. Rows older than the recovery window are pruned,
 * but none the notifier has not handled yet (chat/room-stream.ts).
 */
export const roomEvents = sqliteTable(
  'room_events',
  {
    id: integer('id').primaryKey(),
    room: text('room').notNull(),
    /** The broadcast's arguments as JSON: `[event, ...args]` without the offset. */
    packet: text('packet').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  // No index on created_at: pruning goes by id (chat/room-stream.ts), one b-tree less per event.
  (t) => [
    index('room_events_room_idx').on(t.room, t.id),
    // The notifier's read (store/room-stream.ts listNotifiedEvents); a thread update or a pin,
    // the common log rows, touches no entry.
    index('room_events_notify_idx').on(t.id).where(isNotifiedEvent(t.packet)),
  ]
)

/**
 * One row: offsets given out stay below the next one even when their rows are gone. Deleting a
 * chat deletes its messages, so a trigger (drizzle/0006) raises this to the chat's newest seq
 * first; pruning keeps the newest log row (store/room-stream.ts).
 */
export const offsetFloor = sqliteTable(
  'offset_floor',
  {
    id: integer('id').primaryKey(),
    value: integer('value').notNull(),
  },
  (t) => [check('offset_floor_one_row', sql`${t.id} = 1`)]
)

/**
 * Reactions: one row per user, emoji and message (chat/reactions.ts keeps at most 50 distinct
 * emojis on a message). `shadowed`: made while its user was shadow-restricted in the city, so only
 * that user sees it.
 */
export const messageReactions = sqliteTable(
  'message_reactions',
  {
    messageId: text('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    emoji: text('emoji').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    shadowed: integer('shadowed', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.messageId, t.emoji, t.userId] }),
    index('message_reactions_user_idx').on(t.userId),
  ]
)

/** Pinned messages: at most 20 per room (chat/pins.ts); the room is the message's. */
export const messagePins = sqliteTable(
  'message_pins',
  {
    messageId: text('message_id')
      .primaryKey()
      .references(() => messages.id, { onDelete: 'cascade' }),
    roomKind: text('room_kind', { enum: ['city', 'chat'] }).notNull(),
    roomId: text('room_id').notNull(),
    pinnedBy: text('pinned_by').notNull(),
    pinnedAt: integer('pinned_at').notNull(),
  },
  (t) => [index('message_pins_room_idx').on(t.roomKind, t.roomId, t.pinnedAt)]
)

/** What a message keeps of its upload (see `messages.attachment`); urls are built in chat/views.ts. */
export interface Attachment {
  id: string
  contentType: string
  size: number
  name: string
  width: number | null
  height: number | null
  thumbnail: boolean
}

export const MEDIA_PURPOSES = ['message', 'avatar'] as const
export type MediaPurpose = (typeof MEDIA_PURPOSES)[number]

/**
 * Uploads. The bytes live in the media storage (disk or S3) under `storage_key`, the thumbnail
 * apart under `thumbnail_key`. A row with `deleted_at` set is doomed: the sweeper
 * (chat/media-sweeper.ts) deletes its files, then the row, so a restart resumes where it stopped.
 */
export const media = sqliteTable(
  'media',
  {
    id: text('id').primaryKey(),
    uploaderId: text('uploader_id')
      .notNull()
      .references(() => users.id),
    purpose: text('purpose', { enum: MEDIA_PURPOSES }).notNull(),
    /** Sniffed from the bytes, never the client's word. */
    contentType: text('content_type').notNull(),
    /** Bytes of the original and of the thumbnail (the quota counts both). */
    size: integer('size').notNull(),
    thumbnailSize: integer('thumbnail_size').notNull().default(0),
    name: text('name').notNull(),
    width: integer('width'),
    height: integer('height'),
    storageKey: text('storage_key').notNull(),
    thumbnailKey: text('thumbnail_key'),
    /** Which storage holds it (disk | s3): metrics by storage, and a switch of storage later. */
    storage: text('storage').notNull(),
    /** Set once, when a message takes it; with the message's room for the read rule. */
    messageId: text('message_id'),
    cityId: text('city_id'),
    chatId: text('chat_id'),
    createdAt: integer('created_at').notNull(),
    deletedAt: integer('deleted_at'),
  },
  (t) => [
    uniqueIndex('media_message_unique').on(t.messageId).where(sql`${t.messageId} IS NOT NULL`),
    index('media_uploader_idx').on(t.uploaderId),
    index('media_created_idx').on(t.createdAt),
    index('media_deleted_idx').on(t.deletedAt).where(sql`${t.deletedAt} IS NOT NULL`),
  ]
)

/**
 * A socket's session: written while the socket lives (when its rooms change), so a reconnect can
 * resume it even after its node was killed; kept for the recovery window once it dropped.
 */
export const socketSessions = sqliteTable('socket_sessions', {
  pid: text('pid').primaryKey(),
  socketId: text('socket_id').notNull(),
  userId: text('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  /** JSON array of the socket's chat rooms (`city:<id>`, `chat:<id>`). */
  rooms: text('rooms').notNull(),
  expiresAt: integer('expires_at').notNull(),
  /**
   * The node the socket is live on, which keeps extending `expires_at` (store/room-stream.ts);
   * null once it dropped and its window runs from the drop.
   */
  nodeId: text('node_id'),
})

/**
 * One row: this database's cluster id, made by the first node that opened it. Nodes sharing a
 * REDIS_URL compare it with the one in Redis, so a node on another database refuses to start.
 */
export const clusterIdentity = sqliteTable(
  'cluster_identity',
  {
    id: integer('id').primaryKey(),
    clusterId: text('cluster_id').notNull(),
  },
  (t) => [check('cluster_identity_one_row', sql`${t.id} = 1`)]
)

/** A user's read position in a city (private chats keep theirs on `chat_members`). */
export const cityReads = sqliteTable(
  'city_reads',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    cityId: text('city_id')
      .notNull()
      .references(() => cities.id),
    lastReadMessageId: text('last_read_message_id'),
    lastReadAt: integer('last_read_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.cityId] })]
)

export const ROOM_KINDS = ['city', 'chat'] as const
export const NOTIFICATION_LEVELS = ['all', 'mentions', 'none'] as const
export type NotificationLevel = (typeof NOTIFICATION_LEVELS)[number]

/** A user's choice for one room; without a row the default holds (chat/notification-settings.ts). */
export const notificationSettings = sqliteTable(
  'notification_settings',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    roomKind: text('room_kind', { enum: ROOM_KINDS }).notNull(),
    roomId: text('room_id').notNull(),
    level: text('level', { enum: NOTIFICATION_LEVELS }).notNull(),
    /** ms since the epoch; nothing notifies before it. */
    muteUntil: integer('mute_until'),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.roomKind, t.roomId] }),
    // "Who in this room wants every message" is asked once per room per drained slice.
    index('notification_settings_room_idx').on(t.roomKind, t.roomId, t.level),
  ]
)

export const NOTIFICATION_KINDS = ['mention', 'reply', 'added', 'message'] as const
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number]

/** The feed: what reached a user who may not have been looking (chat/notifications.ts). */
export const notifications = sqliteTable(
  'notifications',
  {
    /** Time-ordered (store/ids.ts): the feed's order and its cursor. */
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: NOTIFICATION_KINDS }).notNull(),
    roomKind: text('room_kind', { enum: ROOM_KINDS }).notNull(),
    roomId: text('room_id').notNull(),
    /** The message behind it (null for being added to a chat). */
    messageId: text('message_id'),
    actorId: text('actor_id').notNull(),
    createdAt: integer('created_at').notNull(),
    readAt: integer('read_at'),
  },
  (t) => [
    index('notifications_user_idx').on(t.userId, t.id),
    // Retention deletes a purged message's notifications (chat/retention.ts).
    index('notifications_message_idx').on(t.messageId).where(sql`${t.messageId} IS NOT NULL`),
  ]
)

export const USER_ROLES = ['user', 'moderator', 'admin'] as const
export type UserRole = (typeof USER_ROLES)[number]

/** Moderators of one city (global moderators and admins moderate every city without a row). */
export const cityModerators = sqliteTable(
  'city_moderators',
  {
    cityId: text('city_id')
      .notNull()
      .references(() => cities.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.cityId, t.userId] })]
)

export const RESTRICTION_KINDS = ['ban', 'mute', 'shadow'] as const
export type RestrictionKind = (typeof RESTRICTION_KINDS)[number]

/** A user's restriction in one city; one of each kind at most. `until` null: until lifted. */
export const restrictions = sqliteTable(
  'restrictions',
  {
    cityId: text('city_id')
      .notNull()
      .references(() => cities.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: RESTRICTION_KINDS }).notNull(),
    until: integer('until'),
    reason: text('reason'),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.cityId, t.userId, t.kind] })]
)

/** Every moderation action: who did what to whom, where, when and why. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    actorId: text('actor_id').notNull(),
    action: text('action').notNull(),
    targetUserId: text('target_user_id'),
    cityId: text('city_id'),
    messageId: text('message_id'),
    reason: text('reason'),
    /** JSON of the action's other details (a role, a kind, an until). */
    details: text('details'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('audit_log_created_idx').on(t.createdAt)]
)

export const FILTER_ACTIONS = ['block', 'flag'] as const
export type FilterAction = (typeof FILTER_ACTIONS)[number]

/** The word filter: terms stored NFKC-normalised and lower-cased. */
export const wordFilter = sqliteTable('word_filter', {
  term: text('term').primaryKey(),
  action: text('action', { enum: FILTER_ACTIONS }).notNull(),
})

export const REPORT_STATUSES = ['open', 'dismissed', 'actioned'] as const
export type ReportStatus = (typeof REPORT_STATUSES)[number]

/**
 * A report of a message: of a city (`cityId`, its moderators resolve it) or of a private chat
 * (`chatId`, admins resolve it); `reporterId` null for one the word filter opened.
 */
export const reports = sqliteTable(
  'reports',
  {
    id: text('id').primaryKey(),
    messageId: text('message_id').notNull(),
    cityId: text('city_id'),
    chatId: text('chat_id'),
    reporterId: text('reporter_id'),
    reason: text('reason').notNull(),
    status: text('status', { enum: REPORT_STATUSES }).notNull().default('open'),
    action: text('action'),
    resolvedBy: text('resolved_by'),
    resolvedAt: integer('resolved_at'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('reports_message_reporter_unique').on(t.messageId, t.reporterId),
    index('reports_status_city_idx').on(t.status, t.cityId),
  ]
)

/** `blockerId` blocked `blockedId`: no private chat may join them on the blocked user's say. */
export const userBlocks = sqliteTable(
  'user_blocks',
  {
    blockerId: text('blocker_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    blockedId: text('blocked_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.blockerId, t.blockedId] }),
    index('user_blocks_blocked_idx').on(t.blockedId),
  ]
)

export type UserRow = typeof users.$inferSelect
export type RefreshTokenRow = typeof refreshTokens.$inferSelect
export type SessionRow = typeof sessions.$inferSelect
export type EmailTokenRow = typeof emailTokens.$inferSelect
export type CityRow = typeof cities.$inferSelect
export type ChatRow = typeof chats.$inferSelect
export type ChatMemberRow = typeof chatMembers.$inferSelect
export type MessageRow = typeof messages.$inferSelect
export type NotificationRow = typeof notifications.$inferSelect
export type NotificationSettingRow = typeof notificationSettings.$inferSelect

export const WEBHOOK_STATES = ['pending', 'delivered', 'dead'] as const

/**
 * The webhook outbox: one row per event, delivered at least once, in id order within its room
 * (chat/webhooks.ts), retried with backoff, dead after the last attempt.
 */
export const webhookOutbox = sqliteTable(
  'webhook_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** The event id the receiver sees (de-duplicates a redelivery). */
    eventId: text('event_id').notNull(),
    /** Which hook: `env` for WEBHOOK_URL. */
    hookId: text('hook_id').notNull(),
    url: text('url').notNull(),
    /** Ordering key: `city:<id>`, `chat:<id>` or `user:<id>`. */
    room: text('room').notNull(),
    type: text('type').notNull(),
    /** The JSON body as sent. */
    body: text('body').notNull(),
    state: text('state', { enum: WEBHOOK_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAt: integer('next_at').notNull(),
    /** A node delivering it holds it until then (another node takes it over after). */
    leaseUntil: integer('lease_until'),
    lastError: text('last_error'),
    lastStatus: integer('last_status'),
    createdAt: integer('created_at').notNull(),
    doneAt: integer('done_at'),
  },
  (t) => [
    index('webhook_outbox_pending_idx').on(t.room, t.id).where(sql`${t.state} = 'pending'`),
    index('webhook_outbox_hook_idx').on(t.hookId, t.id),
  ]
)
export type WebhookOutboxRow = typeof webhookOutbox.$inferSelect
export type RestrictionRow = typeof restrictions.$inferSelect
export type AuditRow = typeof auditLog.$inferSelect
export type ReportRow = typeof reports.$inferSelect
export type MediaRow = typeof media.$inferSelect

export const EXPORT_STATES = ['running', 'ready', 'failed'] as const
export type ExportState = (typeof EXPORT_STATES)[number]

/**
 * A user's data export (chat/account-export.ts): made in slices by whichever node holds its lease,
 * spooled to a local file, then stored in the media storage (`storage_key`) until `expires_at`.
 * `cursor` is the message offset (seq) written up to, `bytes` the spool's length at that point:
 * a resume on the same node truncates the spool to it and goes on; elsewhere it starts over.
 */
export const accountExports = sqliteTable(
  'account_exports',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    state: text('state', { enum: EXPORT_STATES }).notNull().default('running'),
    /** The newest offset when it started: messages up to it are in the archive. */
    untilSeq: integer('until_seq').notNull(),
    cursor: integer('cursor').notNull().default(0),
    bytes: integer('bytes').notNull().default(0),
    messages: integer('messages').notNull().default(0),
    /** The node working on it and until when; another node takes over after. */
    leaseNode: text('lease_node'),
    leaseUntil: integer('lease_until').notNull().default(0),
    storageKey: text('storage_key'),
    createdAt: integer('created_at').notNull(),
    finishedAt: integer('finished_at'),
    expiresAt: integer('expires_at'),
  },
  (t) => [
    index('account_exports_user_idx').on(t.userId, t.createdAt),
    index('account_exports_state_idx').on(t.state, t.leaseUntil),
  ]
)
export type AccountExportRow = typeof accountExports.$inferSelect

export const ERASURE_PHASES = ['account', 'messages', 'scrub', 'done'] as const
export type ErasurePhase = (typeof ERASURE_PHASES)[number]

/**
 * An account erasure (chat/erasure.ts), in phases and slices so a restart resumes it: the
 * profile and everything keyed by the user (`account`), every message's content, walked by
 * offset (`messages`, `cursor`), then the copies of it in logs (`scrub`). The row stays when done:
 * it is how "erased twice" is told apart, and it holds nothing personal.
 */
export const erasures = sqliteTable(
  'erasures',
  {
    userId: text('user_id')
      .primaryKey()
      .references(() => users.id),
    /** The user themself, or the admin who erased them (audited). */
    requestedBy: text('requested_by').notNull(),
    phase: text('phase', { enum: ERASURE_PHASES }).notNull().default('account'),
    cursor: integer('cursor').notNull().default(0),
    /** The newest room-log and webhook-outbox ids when it started: older rows are scrubbed. */
    logFloor: integer('log_floor').notNull(),
    outboxFloor: integer('outbox_floor').notNull(),
    messages: integer('messages').notNull().default(0),
    leaseNode: text('lease_node'),
    leaseUntil: integer('lease_until').notNull().default(0),
    startedAt: integer('started_at').notNull(),
    finishedAt: integer('finished_at'),
  },
  (t) => [index('erasures_phase_idx').on(t.phase, t.leaseUntil)]
)
export type ErasureRow = typeof erasures.$inferSelect

/**
 * Usernames of erased accounts nobody may register until `until` (USERNAME_HOLD): only the
 * sha256 of the name is kept, so the erased profile leaves no readable trace.
 */
export const usernameHolds = sqliteTable('username_holds', {
  usernameHash: text('username_hash').primaryKey(),
  until: integer('until').notNull(),
})

/** A browser's Web Push subscription (chat/push.ts): where to POST, and the keys to encrypt for. */
export const pushSubscriptions = sqliteTable(
  'push_subscriptions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The push service URL the browser gave; one device's endpoint belongs to one account. */
    endpoint: text('endpoint').notNull(),
    /** The browser's P-256 public key and auth secret, base64url (RFC 8291). */
    p256dh: text('p256dh').notNull(),
    auth: text('auth').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('push_subscriptions_endpoint_idx').on(t.endpoint),
    index('push_subscriptions_user_idx').on(t.userId),
  ]
)
export type PushSubscriptionRow = typeof pushSubscriptions.$inferSelect

/**
 * pending (waits for nextAt; at most one per subscription and room, later notifications fold into
 * it) → sending (claimed under a lease) → sent | dead; collapsed: folded into a later one.
 */
export const PUSH_STATES = ['pending', 'sending', 'sent', 'collapsed', 'dead'] as const

/** The push outbox: one row per push to one subscription (chat/push.ts). */
export const pushOutbox = sqliteTable(
  'push_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** The id in the payload: a redelivery after a crash carries the same one. */
    pushId: text('push_id').notNull(),
    subscriptionId: text('subscription_id')
      .notNull()
      .references(() => pushSubscriptions.id, { onDelete: 'cascade' }),
    /** The collapse key: `city:<id>` or `chat:<id>`. */
    room: text('room').notNull(),
    /** The JSON payload before encryption (room, sender, preview, count). */
    payload: text('payload').notNull(),
    urgency: text('urgency', { enum: ['normal', 'high'] }).notNull(),
    state: text('state', { enum: PUSH_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAt: integer('next_at').notNull(),
    leaseUntil: integer('lease_until'),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    /** When the push service accepted it (sent), or when it went out (sending). */
    sentAt: integer('sent_at'),
  },
  (t) => [
    uniqueIndex('push_outbox_pending_idx')
      .on(t.subscriptionId, t.room)
      .where(sql`${t.state} = 'pending'`),
    index('push_outbox_due_idx').on(t.state, t.nextAt),
    index('push_outbox_room_idx').on(t.subscriptionId, t.room, t.sentAt),
  ]
)
export type PushOutboxRow = typeof pushOutbox.$inferSelect
export type PinRow = typeof messagePins.$inferSelect

/** Webhooks an admin registered at run time (chat/webhooks.ts), beside the environment's one. */
export const webhooks = sqliteTable('webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  /** The event types it receives, a JSON array. */
  events: text('events').notNull(),
  /** The HMAC key of its signatures; shown once, when it is registered. */
  secret: text('secret').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: integer('created_at').notNull(),
})
export type WebhookRow = typeof webhooks.$inferSelect

/**
 * The notifier's watermark over message offsets (chat/notifications.ts): each row says the
 * messages in (`afterSeq`, `untilSeq`] were fully handled, written in the same transaction as the
 * notifications, pushes and webhook events made for them. `afterSeq` is unique, so two nodes that
 * handled the same range cannot both commit it: the rows form one chain, and the watermark is
 * the newest row's `untilSeq`. Old rows are pruned.
 */
export const notifierProgress = sqliteTable('notifier_progress', {
  afterSeq: integer('after_seq').primaryKey(),
  untilSeq: integer('until_seq').notNull(),
  nodeId: text('node_id').notNull(),
  createdAt: integer('created_at').notNull(),
})

/** One row: the node that handles new messages for notifications now, until `until` (ms). */
export const notifierLease = sqliteTable('notifier_lease', {
  id: integer('id').primaryKey(),
  nodeId: text('node_id').notNull(),
  until: integer('until').notNull(),
})

/**
 * Each live node's heartbeat for last seen (chat/last-seen.ts): `aliveAt` is refreshed with every
 * batch of last-seen marks, so a node killed without a shutdown was alive until at least then.
 * A row older than NODE_TTL belongs to a dead node: the first node to find it settles its users.
 */
export const nodeHeartbeats = sqliteTable('node_heartbeats', {
  nodeId: text('node_id').primaryKey(),
  aliveAt: integer('alive_at').notNull(),
})

/**
 * The users online on each live node (chat/last-seen.ts), written with its batches: the trace a
 * killed node leaves of who was online on it. No foreign key: a batch never fails on a user
 * gone meanwhile (settling skips ids with no user; erasure deletes the user's rows).
 */
export const nodeUsers = sqliteTable(
  'node_users',
  {
    nodeId: text('node_id').notNull(),
    userId: text('user_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.nodeId, t.userId] })]
)
