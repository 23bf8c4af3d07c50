/** @module Views: the one place that builds the contract's snake_case JSON from domain records. */
import type { z } from 'zod'
import type { MessageWithAuthor } from '../store/messages.ts'
import type { NotificationWithMessage } from '../store/notifications.ts'
import type { PresenceUser } from '../store/presence-store.ts'
import type { ReactionSummary } from '../store/reactions.ts'
import type {
  Attachment,
  AuditRow,
  ChatMemberRow,
  ChatRow,
  CityRow,
  MediaRow,
  NotificationRow,
  PinRow,
  ReportRow,
  RestrictionRow,
  UserRow,
  WebhookOutboxRow,
  WebhookRow,
} from '../store/schema.ts'
import type { CityWithCounts } from './cities.ts'
import type { NotificationSetting } from './notification-settings.ts'
import { kindOf, type RoomRef, roomOfMessage, roomPayload } from './rooms.ts'
import type { SearchResult } from './search.ts'
import type {
  auditViewSchema,
  chatViewSchema,
  cityForViewerViewSchema,
  cityViewSchema,
  cityWithCountsViewSchema,
  mediaViewSchema,
  messageViewSchema,
  notificationSettingViewSchema,
  notificationViewSchema,
  pinViewSchema,
  publicUserViewSchema,
  readViewSchema,
  reportViewSchema,
  restrictionViewSchema,
  searchResultViewSchema,
  sessionViewSchema,
  userViewSchema,
  webhookDeliveryViewSchema,
  webhookViewSchema,
} from './view-schemas.ts'

const iso = (ms: number): string => new Date(ms).toISOString()
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms))

export type UserView = z.output<typeof userViewSchema>

export type PublicUserView = z.output<typeof publicUserViewSchema>

/**
 * A user without a photo shows the generated one (initials on a colour of their id), so
 * `profile_photo_url` is never null and no `<img>` shows a broken box.
 */
const photoUrl = (user: { id: string; profilePhotoUrl: string | null }) =>
  user.profilePhotoUrl ?? `/api/media/avatars/${user.id}`

/** The account owner's own view (includes email). */
export function userView(user: UserRow): UserView {
  return {
    _id: user.id,
    username: user.username,
    full_name: user.fullName,
    email: user.email,
    profile_photo_url: photoUrl(user),
    is_active: user.isActive,
    email_verified: user.emailVerifiedAt !== null,
    role: user.role,
    created_at: iso(user.createdAt),
  }
}

/** One entry of the owner's device list (GET /api/auth/sessions). */
export function sessionView(session: {
  id: string
  device: string
  userAgent: string | null
  address: string | null
  createdAt: number
  lastUsedAt: number
  current: boolean
}): z.output<typeof sessionViewSchema> {
  return {
    _id: session.id,
    device: session.device,
    user_agent: session.userAgent,
    address: session.address,
    created_at: iso(session.createdAt),
    last_used_at: iso(session.lastUsedAt),
    current: session.current,
  }
}

/** What other people see: inside events, message senders, member lists, search results. */
export function publicUserView(user: {
  id: string
  username: string
  fullName: string
  profilePhotoUrl: string | null
}): PublicUserView {
  return {
    _id: user.id,
    username: user.username,
    full_name: user.fullName,
    profile_photo_url: photoUrl(user),
  }
}

/** An upload as POST /api/media answers it and a message's `attachment` carries it. */
export type MediaView = z.output<typeof mediaViewSchema>

const mediaUrls = (id: string, thumbnail: boolean) => ({
  url: `/api/media/${id}`,
  thumbnail_url: thumbnail ? `/api/media/${id}/thumbnail` : null,
})

export function mediaView(row: MediaRow): MediaView {
  return {
    _id: row.id,
    ...mediaUrls(row.id, row.thumbnailKey !== null),
    content_type: row.contentType,
    size: row.size,
    name: row.name,
    width: row.width,
    height: row.height,
  }
}

function attachmentView(attachment: Attachment): MediaView {
  return {
    _id: attachment.id,
    ...mediaUrls(attachment.id, attachment.thumbnail),
    content_type: attachment.contentType,
    size: attachment.size,
    name: attachment.name,
    width: attachment.width,
    height: attachment.height,
  }
}

export type MessageView = z.output<typeof messageViewSchema>

/**
 * Views already built, by message object: a send's broadcast, room log entry and ack share one
 * (message objects are never mutated; an edit or delete makes a new one). Views are read-only.
 */
const views = new WeakMap<MessageWithAuthor, MessageView>()

const NO_MENTIONS: string[] = []
const NO_REACTIONS: ReactionSummary[] = []

/** A message as every event and history page carries it; a deleted one shows no content. */
export function messageView(message: MessageWithAuthor): MessageView {
  const built = views.get(message)
  if (built) return built
  const view: MessageView = {
    _id: message.id,
    sender_id: publicUserView(message.author),
    content: message.isDeleted ? '' : message.content,
    message_type: message.messageType,
    media_url: message.isDeleted ? null : message.mediaUrl,
    reply_to: message.replyTo,
    is_edited: message.isEdited,
    is_deleted: message.isDeleted,
    created_at: iso(message.createdAt),
    edited_at: isoOrNull(message.editedAt),
    mentions: message.mentions ? (JSON.parse(message.mentions) as string[]) : NO_MENTIONS,
    // A new message has none, and nothing is read for it; a deleted one shows none.
    reactions: (!message.isDeleted && message.reactions) || NO_REACTIONS,
    reply_count: message.replyCount,
    last_reply_at: isoOrNull(message.lastReplyAt),
  }
  if (message.cityId !== null) view.cityId = message.cityId
  if (message.chatId !== null) view.chatId = message.chatId
  if (message.clientId !== null) view.clientId = message.clientId
  if (message.replyToDeleted) view.reply_to_deleted = true
  if (message.attachment && !message.isDeleted) view.attachment = attachmentView(message.attachment)
  views.set(message, view)
  return view
}

/** The views' JSON texts, by message, likewise: the broadcast's text is the ack's too. */
const viewJsons = new WeakMap<MessageWithAuthor, string>()

/** `JSON.stringify(messageView(message))`, made once per message object. */
export function messageViewJson(message: MessageWithAuthor): string {
  let json = viewJsons.get(message)
  if (json === undefined) {
    json = JSON.stringify(messageView(message))
    viewJsons.set(message, json)
  }
  return json
}

export type SearchResultView = z.output<typeof searchResultViewSchema>

export function searchResultView(result: SearchResult): SearchResultView {
  return { message: messageView(result.message), snippet: result.snippet, rank: result.rank }
}

export type CityView = z.output<typeof cityViewSchema>

export function cityView(city: CityRow): CityView {
  return {
    _id: city.id,
    name: city.name,
    country: city.country,
    archived: city.archived,
    slowModeSeconds: city.slowModeSeconds,
    retentionDays: city.retentionDays,
  }
}

/** A restriction as moderators list it. */
export function restrictionView(row: RestrictionRow): z.output<typeof restrictionViewSchema> {
  return {
    cityId: row.cityId,
    userId: row.userId,
    kind: row.kind,
    until: isoOrNull(row.until),
    reason: row.reason,
    created_by: row.createdBy,
    created_at: iso(row.createdAt),
  }
}

/** An audit log entry: who did what to whom, where, when and why. */
export function auditView(row: AuditRow): z.output<typeof auditViewSchema> {
  return {
    _id: row.id,
    actor_id: row.actorId,
    action: row.action,
    target_user_id: row.targetUserId,
    cityId: row.cityId,
    messageId: row.messageId,
    reason: row.reason,
    details: row.details === null ? null : (JSON.parse(row.details) as unknown),
    created_at: iso(row.createdAt),
  }
}

/** A report, with the reported message as moderators see it (when it still exists). */
export function reportView(
  report: ReportRow,
  message?: MessageWithAuthor
): z.output<typeof reportViewSchema> {
  return {
    _id: report.id,
    messageId: report.messageId,
    cityId: report.cityId,
    chatId: report.chatId,
    reporter_id: report.reporterId,
    reason: report.reason,
    status: report.status,
    action: report.action,
    resolved_by: report.resolvedBy,
    resolved_at: isoOrNull(report.resolvedAt),
    created_at: iso(report.createdAt),
    ...(message ? { message: messageView(message) } : {}),
  }
}

/** A mute in force, as `joined-city-chat` tells the muted user: until when (null: until lifted), why. */
export function mutedView(mute: { until: number | null; reason: string | null }) {
  return { until: isoOrNull(mute.until), reason: mute.reason }
}

/**
 * Why a user's sockets left a city room (`left-city-chat` after a ban): until when (null: until
 * lifted) and the moderator's `note` (their reason, or null).
 */
export function bannedView(cityId: string, ban: { until: number | null; reason: string | null }) {
  return { cityId, reason: 'banned', until: isoOrNull(ban.until), note: ban.reason }
}

export type ChatMemberDetails = ChatMemberRow & { user: UserRow }

export interface ChatDetails {
  chat: ChatRow
  members: ChatMemberDetails[]
  lastMessage?: MessageWithAuthor | null
  unreadCount?: number
  mentionCount?: number
}

export function chatView({
  chat,
  members,
  lastMessage,
  unreadCount,
  mentionCount,
}: ChatDetails): z.output<typeof chatViewSchema> {
  return {
    _id: chat.id,
    name: chat.name,
    created_by: chat.createdBy,
    created_at: iso(chat.createdAt),
    members: members.map((member) => ({
      user: publicUserView(member.user),
      role: member.role,
      joined_at: iso(member.joinedAt),
      last_read_message_id: member.lastReadMessageId,
      last_read_at: isoOrNull(member.lastReadAt),
    })),
    ...(lastMessage !== undefined ? { last_message: lastMessage && messageView(lastMessage) } : {}),
    ...(unreadCount !== undefined ? { unreadCount } : {}),
    ...(mentionCount !== undefined ? { mentionCount } : {}),
  }
}

export interface ReadReceipt {
  room: RoomRef
  userId: string
  /** ms since the epoch */
  readAt: number
  lastReadMessageId: string | null
}

/** The `messages-read` payload: `{ chatId | cityId, userId, readAt }` (readAt ISO 8601). */
export function readView(receipt: ReadReceipt): z.output<typeof readViewSchema> {
  return {
    ...roomPayload(receipt.room),
    userId: receipt.userId,
    readAt: iso(receipt.readAt),
    lastReadMessageId: receipt.lastReadMessageId,
  }
}

export interface DeletedMessage {
  messageId: string
  cityId?: string
  chatId?: string
}

/** The `*-message-deleted` payload. */
export function deletedView(message: MessageWithAuthor): DeletedMessage {
  return { messageId: message.id, ...roomPayload(roomOfMessage(message)) }
}

/** A user in the guide's online-user lists (`city-online-users`, `chat-online-users`). */
export function onlineUserView(user: PresenceUser) {
  return {
    userId: user.userId,
    username: user.username,
    full_name: user.fullName,
    profile_photo_url: user.profilePhotoUrl ?? `/api/media/avatars/${user.userId}`,
  }
}

/** Who is doing something in a room, as `user-typing-*` and `user-left-*` carry it. */
export function actorView(
  room: RoomRef,
  user: { id: string; username: string; fullName: string }
): Record<string, string> {
  return {
    userId: user.id,
    username: user.username,
    full_name: user.fullName,
    [kindOf(room).key]: room.id,
  }
}

/** As `user-joined-*` carries it: the public user fields under `userId`. */
export function joinerView(room: RoomRef, user: UserRow) {
  return { ...actorView(room, user), profile_photo_url: photoUrl(user) }
}

/** A city in `GET /api/cities`, with the caller's counts (unreadCount null: never read). */
export function cityWithCountsView({
  city,
  unreadCount,
  mentionCount,
  canModerate,
}: CityWithCounts): z.output<typeof cityWithCountsViewSchema> {
  return { ...cityView(city), unreadCount, mentionCount, canModerate }
}

/** One city for GET /api/cities/:cityId: with whether the caller moderates it. */
export function cityForViewerView({
  city,
  canModerate,
}: {
  city: CityRow
  canModerate: boolean
}): z.output<typeof cityForViewerViewSchema> {
  return { ...cityView(city), canModerate }
}

/** An entry of the notification feed, and the live `notification` event. */
export type NotificationView = z.output<typeof notificationViewSchema>

export function notificationView(
  notification: NotificationWithMessage
): z.output<typeof notificationViewSchema> {
  return {
    _id: notification.id,
    kind: notification.kind,
    ...roomPayload({ kind: notification.roomKind, id: notification.roomId }),
    actor_id: notification.actorId,
    message: notification.message && messageView(notification.message),
    read: notification.readAt !== null,
    created_at: iso(notification.createdAt),
  }
}

/** A room's notification setting (`muteUntil` ISO 8601 or null). */
export function notificationSettingView(
  room: RoomRef,
  setting: NotificationSetting
): z.output<typeof notificationSettingViewSchema> {
  return {
    ...roomPayload(room),
    level: setting.level,
    muteUntil: isoOrNull(setting.muteUntil),
  }
}

/** Characters of a message a push carries (the push service takes about 4 KB in all). */
const PREVIEW_CHARS = 120

/**
 * The JSON a Web Push carries, before encryption (the service worker reads it): its id (the same
 * on a redelivery), what it is about, the room, the sender and a short preview. `count` grows when
 * later notifications of the room are folded into it within PUSH_COLLAPSE.
 */
export function pushPayloadView(
  pushId: string,
  notification: NotificationRow,
  sender: { id: string; username: string; fullName: string; profilePhotoUrl: string | null },
  message: MessageWithAuthor | null
) {
  const text = message ? (message.isDeleted ? '' : message.content) : ''
  const preview =
    text.length > PREVIEW_CHARS
      ? `${text.slice(0, PREVIEW_CHARS - 1)}…`
      : text || (message?.attachment ? `[${message.messageType}]` : '')
  return {
    id: pushId,
    kind: notification.kind,
    notification_id: notification.id,
    ...roomPayload({ kind: notification.roomKind, id: notification.roomId }),
    sender: publicUserView(sender),
    preview,
    message_id: notification.messageId,
    count: 1,
    created_at: iso(notification.createdAt),
  }
}

/** A reaction added or removed (`*-message-reaction`): `count` is the emoji's count after it. */
/** `*-message-reaction`, and the data of the `reaction.added` / `reaction.removed` webhooks. */
export type ReactionView = ReturnType<typeof reactionView>

export function reactionView(input: {
  room: RoomRef
  messageId: string
  emoji: string
  userId: string
  action: 'add' | 'remove'
  count: number
}) {
  return {
    messageId: input.messageId,
    emoji: input.emoji,
    userId: input.userId,
    action: input.action,
    count: input.count,
    ...roomPayload(input.room),
  }
}

/** A parent message's thread after a reply (`*-message-thread-updated`). */
export function threadView(
  room: RoomRef,
  messageId: string,
  thread: { replyCount: number; lastReplyAt: number }
) {
  return {
    messageId,
    reply_count: thread.replyCount,
    last_reply_at: iso(thread.lastReplyAt),
    ...roomPayload(room),
  }
}

/** A pin, as `GET …/pins` lists it and `*-message-pinned` carries it. */
export function pinView(
  pin: PinRow & { message: MessageWithAuthor }
): z.output<typeof pinViewSchema> {
  return {
    messageId: pin.messageId,
    ...roomPayload({ kind: pin.roomKind, id: pin.roomId }),
    pinned_by: pin.pinnedBy,
    pinned_at: iso(pin.pinnedAt),
    message: messageView(pin.message),
  }
}

/** `*-message-unpinned`. */
export function unpinView(room: RoomRef, messageId: string, userId: string) {
  return { messageId, ...roomPayload(room), unpinned_by: userId }
}

/** `chat-member-role-changed`: a member's new role in a private chat, and who gave it. */
export function memberRoleView(input: {
  chatId: string
  userId: string
  role: 'admin' | 'member'
  changedBy: string
}) {
  return {
    chatId: input.chatId,
    userId: input.userId,
    role: input.role,
    changed_by: input.changedBy,
  }
}

/** A registered webhook (its secret only in the answer that made it). */
export function webhookView(hook: WebhookRow): z.output<typeof webhookViewSchema> {
  return {
    _id: hook.id,
    url: hook.url,
    events: JSON.parse(hook.events) as string[],
    created_by: hook.createdBy,
    created_at: iso(hook.createdAt),
  }
}

/** One event's delivery to one hook: where it stands and what the receiver last answered. */
export function webhookDeliveryView(
  row: WebhookOutboxRow
): z.output<typeof webhookDeliveryViewSchema> {
  return {
    _id: row.id,
    event_id: row.eventId,
    type: row.type,
    state: row.state,
    attempts: row.attempts,
    last_status: row.lastStatus,
    last_error: row.lastError,
    created_at: iso(row.createdAt),
    next_at: row.state === 'pending' ? iso(row.nextAt) : null,
    done_at: isoOrNull(row.doneAt),
  }
}
