/**
 * @module Messages: send (idempotent by clientId; in a city through slow mode, the word filter
 * and shadow restrictions), edit (author only; in a city through the word filter), delete (author, a private chat's owner/admin, or
 * a moderator of the city unless the author is an admin), and history pages. REST and socket handlers both call these; each
 * write reaches its room through the room stream before it resolves.
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Db } from '../store/db.ts'
import { newId } from '../store/ids.ts'
import type { MessageWithAuthor } from '../store/messages.ts'
import * as store from '../store/messages.ts'
import { removePin } from '../store/pins.ts'
import type { Attachment, MessageType, UserRow } from '../store/schema.ts'
import { findUserById } from '../store/users.ts'
import type { Audit } from './audit.ts'
import type { Cities } from './cities.ts'
import { type Media, mediaPath } from './media.ts'
import { resolveMentions } from './mentions.ts'
import type { Moderation } from './moderation.ts'
import type { Notifier } from './notifications.ts'
import { unpinned } from './pins.ts'
import { type RateLimiter, UNLIMITED } from './rate-limit.ts'
import { withReactions } from './reactions.ts'
import type { ReportInbox } from './report-inbox.ts'
import type { Roles } from './roles.ts'
import type { Entry, RoomAccess } from './room-access.ts'
import type { RoomStream } from './room-stream.ts'
import { cityRoom, isInRoom, kindOf, type RoomRef, roomOfMessage } from './rooms.ts'
import { threadUpdated } from './threads.ts'
import { deletedView, messageView } from './views.ts'

/** A history request: message ids as cursors. */
export interface HistoryPage {
  before?: string | undefined
  after?: string | undefined
  /** The page centred on this message (a search result opened in its room); alone. */
  around?: string | undefined
  limit: number
}

/** `hasNewer` only for an `around` page: whether messages follow its last one. */
export interface HistoryResult {
  messages: MessageWithAuthor[]
  hasMore: boolean
  hasNewer?: boolean
}

export type { MessageWithAuthor }

export interface SendMessageInput {
  actor: UserRow
  target: RoomRef
  /** Already validated by chat/inputs.ts (control characters stripped, length checked). */
  content: string
  message_type: MessageType
  media_url: string | null
  /** An upload of the actor's (POST /api/media) this image or file message carries. */
  media_id?: string | null | undefined
  reply_to: string | null
  clientId: string | null
}

export interface MessageTargetInput {
  actor: UserRow
  messageId: string
  /** When the caller names the room (socket payloads do), the message must be in it. */
  room?: RoomRef | undefined
}

interface Deps {
  db: Db
  access: RoomAccess
  /** New messages, edits and deletes reach their rooms through it, in offset order. */
  stream: RoomStream
  /** Per-user send rate (REST and sockets share it); a retried clientId does not spend a token. */
  sendLimiter: RateLimiter
  /** REQUIRE_VERIFIED_EMAIL: city sends need a verified address (reading does not). */
  requireVerifiedEmail: boolean
  /** What happens after a message reached its room: the feed, pushes, webhooks (queued). */
  notifier: Notifier
  moderation: Moderation
  roles: Roles
  audit: Audit
  inbox: ReportInbox
  cities: Cities
  /** Uploads: the one place that decides whether a message may carry one (chat/media.ts). */
  media?: Media | undefined
}

const isVerifiedNow = async (db: Db, userId: string): Promise<boolean> =>
  ((await findUserById(db, userId))?.emailVerifiedAt ?? null) !== null

type Sent = { message: MessageWithAuthor; duplicate: boolean }

export function createMessages({
  db,
  access,
  stream,
  notifier,
  sendLimiter = UNLIMITED,
  requireVerifiedEmail,
  moderation,
  roles,
  audit,
  inbox,
  cities,
  media,
}: Deps) {
  /** Sends in progress by author and clientId: a concurrent retry waits for the first one. */
  const sending = new Map<string, Promise<Result<Sent>>>()

  /**
   * Stores a message in a city or a private chat; it resolves once the room heard it (so the
   * sender's ack follows the broadcast). Sending the same `clientId` again returns the first
   * message with `duplicate: true` instead of storing a second one.
   * @example
   * const sent = await chat.sendMessage({ actor, target: cityRoom('mumbai'), content: 'hi',
   *   message_type: 'text', media_url: null, reply_to: null, clientId: 'c1' })
   */
  async function sendMessage(input: SendMessageInput): Promise<Result<Sent>> {
    const { actor, target, clientId } = input
    // Answered at once for a cached city: then not awaited (an await is an allocation too).
    const checked = access.canEnter(actor, target, 'write')
    const entry = checked instanceof Promise ? await checked : checked
    if (!entry.ok) return entry
    // A socket holds the row of its handshake: an address verified since is read back.
    if (
      requireVerifiedEmail &&
      target.kind === 'city' &&
      actor.emailVerifiedAt === null &&
      !(await isVerifiedNow(db, actor.id))
    )
      return fail('unverified', 'verify your email address to send in cities')
    if (clientId === null) return storeNew(input, entry.value)
    const key = `${actor.id}\u0000${clientId}`
    const first = sending.get(key)
    if (first) {
      const result = await first
      if (result.ok) return duplicateOf(result.value.message, target)
    }
    const work = storeNew(input, entry.value)
    sending.set(key, work)
    try {
      return await work
    } finally {
      if (sending.get(key) === work) sending.delete(key)
    }
  }

  /** Rate limit, reply check, one group-committed insert; a clientId conflict answers the stored row. */
  async function storeNew(input: SendMessageInput, entry: Entry): Promise<Result<Sent>> {
    const { actor, target } = input
    // The word filter and slow mode: memory only, and nothing at all in a city without them.
    const screened = target.kind === 'city' ? moderation.screen(input.content) : undefined
    if (screened?.action === 'block') return blockedBy(screened.term)
    const allowed = sendLimiter.take(actor.id)
    // Slow mode answers at once when the city has none: then not awaited either.
    const slowed = allowed.ok ? slowMode(actor, target) : allowed
    const slow = slowed instanceof Promise ? await slowed : slowed
    if (!slow.ok) {
      if (allowed.ok) sendLimiter.refund(actor.id)
      // A client retrying an acked send must get its answer, not a 429.
      const existing = input.clientId !== null && (await findByClientId(actor, input.clientId))
      return existing ? duplicateOf(existing, target) : slow
    }
    if (input.reply_to !== null) {
      const parent = await store.findMessageById(db, input.reply_to)
      if (!parent || !isInRoom(parent, target) || !visible(parent, actor)) {
        sendLimiter.refund(actor.id)
        return fail('invalid_input', 'reply_to must be a message in the same room')
      }
    }
    // Only a content with an '@' looks anything up (and awaits anything).
    const mentions = input.content.includes('@')
      ? await resolveMentions(db, {
          authorId: actor.id,
          room: target,
          content: input.content,
          entry,
        })
      : null
    const now = Date.now()
    const id = newId(now)
    // --- media: an upload is checked and claimed for this message id (text messages skip it).
    let attachment: Attachment | null = null
    if (input.media_id) {
      const claimed = media
        ? await media.attachToMessage({
            actor,
            mediaId: input.media_id,
            messageType: input.message_type,
            messageId: id,
            room: target,
          })
        : fail('invalid_input', 'uploads are not enabled')
      if (!claimed.ok) {
        sendLimiter.refund(actor.id)
        return claimed
      }
      attachment = claimed.value
    }
    // --- end media
    const message: MessageWithAuthor = {
      id,
      cityId: target.kind === 'city' ? target.id : null,
      chatId: target.kind === 'chat' ? target.id : null,
      authorId: actor.id,
      content: input.content,
      messageType: input.message_type,
      mediaUrl: attachment ? mediaPath(attachment.id) : input.media_url,
      attachment,
      replyTo: input.reply_to,
      clientId: input.clientId,
      isEdited: false,
      isDeleted: false,
      createdAt: now,
      editedAt: null,
      deletedAt: null,
      mentions: mentions && JSON.stringify(mentions),
      shadowed: target.kind === 'city' && moderation.isShadowed(target.id, actor.id),
      replyCount: 0,
      lastReplyAt: null,
      author: {
        id: actor.id,
        username: actor.username,
        fullName: actor.fullName,
        profilePhotoUrl: actor.profilePhotoUrl,
      },
    }
    // Group-committed and handed to the room in offset order. The row is built from what we
    // inserted, so nothing is read back; the unique (author, clientId) index detects a retry.
    const stored = await stream.appendMessage(message)
    if (stored.stored) {
      // A reply moved its parent's thread (in the same write): the room hears that next.
      if (stored.thread) await stream.append(threadUpdated(message, stored.thread))
      // After the broadcast, and only queued: the feed, pushes and webhooks are drained later.
      notifier.messageSent(message)
      if (screened?.action === 'flag') await flagged(message, target.id, screened.term)
      return ok({ message, duplicate: false })
    }
    sendLimiter.refund(actor.id)
    if (attachment) await media?.releaseFromMessage(attachment.id, id)
    const existing = input.clientId !== null && (await findByClientId(actor, input.clientId))
    if (!existing) throw new Error('message insert stored nothing and found no duplicate')
    return duplicateOf(existing, target)
  }

  const blockedBy = (term: string) =>
    fail('content_blocked', 'this message contains a blocked term', { term })

  /**
   * Flagged by the word filter: stored and broadcast, and a report opened for the city's
   * moderators (not for a shadowed message, which nobody else sees).
   */
  async function flagged(message: MessageWithAuthor, cityId: string, term: string): Promise<void> {
    if (message.shadowed) return
    await inbox.openReport({
      messageId: message.id,
      room: cityRoom(cityId),
      reporterId: null,
      reason: `word filter: ${term}`,
    })
  }

  /** Slow mode applies in a city that has it on (its cached row: canEnter just read it). */
  function slowMode(actor: UserRow, target: RoomRef): Promise<Result<null>> | Result<null> {
    if (target.kind !== 'city') return ok(null)
    const city = cities.cachedCity(target.id)
    return city && city.slowModeSeconds > 0 ? moderation.slowMode(actor, city) : ok(null)
  }

  /** Others' shadowed messages do not exist for a viewer (moderators of the city see them). */
  const visible = (message: MessageWithAuthor, viewer: UserRow): boolean =>
    !message.shadowed ||
    message.authorId === viewer.id ||
    (message.cityId !== null && roles.moderates(viewer, message.cityId))

  const findByClientId = (actor: UserRow, clientId: string) =>
    store.findMessageByClientId(db, actor.id, clientId)

  function duplicateOf(existing: MessageWithAuthor, target: RoomRef) {
    if (!isInRoom(existing, target))
      return fail('conflict', 'clientId was already used for another room')
    return ok({ message: existing, duplicate: true })
  }

  async function findForChange({
    actor,
    messageId,
    room,
  }: MessageTargetInput): Promise<Result<{ message: MessageWithAuthor; entry: Entry }>> {
    const message = await store.findMessageById(db, messageId)
    if (!message || (room && !isInRoom(message, room)) || !visible(message, actor))
      return fail('not_found', 'no such message')
    const entry = await access.canEnter(actor, roomOfMessage(message), 'write')
    if (!entry.ok) return entry
    return ok({ message, entry: entry.value })
  }

  /** Only the author edits, and not after deleting. Resolves once the room heard of it. */
  async function editMessage(
    input: MessageTargetInput & { content: string }
  ): Promise<Result<MessageWithAuthor>> {
    const found = await findForChange(input)
    if (!found.ok) return found
    const { message } = found.value
    if (message.authorId !== input.actor.id)
      return fail('not_author', 'only the author may edit this message')
    if (message.isDeleted) return fail('not_found', 'this message was deleted')
    // An edit passes the word filter as a new message does (else editing would get around it).
    const screened = message.cityId !== null ? moderation.screen(input.content) : undefined
    if (screened?.action === 'block') return blockedBy(screened.term)
    const now = Date.now()
    await store.updateMessageContent(db, message.id, input.content, now)
    // The room hears the edited message with its reactions as everyone sees them.
    const changed = { ...message, content: input.content, isEdited: true, editedAt: now }
    const edited = (await withReactions(db, [changed], ''))[0] ?? changed
    const room = roomOfMessage(edited)
    await stream.append({
      room,
      event: kindOf(room).events.edited,
      args: [messageView(edited)],
      audience: edited.shadowed ? edited.authorId : undefined,
    })
    notifier.eventLogged()
    if (screened?.action === 'flag' && edited.cityId !== null)
      await flagged(edited, edited.cityId, screened.term)
    return ok(edited)
  }

  /**
   * The author deletes; in a private chat its owner or an admin may too, in a city its
   * moderators (never an admin's message; audited). Deleting twice is fine (the second is not
   * announced). Resolves once the room heard of it.
   */
  async function deleteMessage(
    input: MessageTargetInput & { reason?: string | undefined }
  ): Promise<Result<MessageWithAuthor>> {
    const found = await findForChange(input)
    if (!found.ok) return found
    const { message, entry } = found.value
    const { actor } = input
    const own = message.authorId === actor.id
    const moderating = !own && message.cityId !== null && roles.moderates(actor, message.cityId)
    if (!own && !moderating && entry.role !== 'owner' && entry.role !== 'admin') {
      return fail('not_author', 'only the author or a chat owner/admin may delete this message')
    }
    if (moderating) {
      const author = await roles.moderatable(message.authorId)
      if (!author.ok && author.error.code === 'forbidden') return author
    }
    return tombstone(actor, message, { audited: moderating, reason: input.reason })
  }

  /**
   * A reported message removed by the one resolving the report, who chat/reports.ts checked may
   * (a moderator of the city; for a private chat an admin, member or not). Never an admin's
   * message; audited.
   */
  async function deleteReported(
    actor: UserRow,
    messageId: string,
    reason: string
  ): Promise<Result<MessageWithAuthor>> {
    const message = await store.findMessageById(db, messageId)
    if (!message) return fail('not_found', 'the reported message is gone')
    const author = await roles.moderatable(message.authorId)
    if (!author.ok && author.error.code === 'forbidden') return author
    return tombstone(actor, message, { audited: true, reason })
  }

  /** Marks the message deleted and tells its room (deleting twice announces nothing). */
  async function tombstone(
    actor: UserRow,
    message: MessageWithAuthor,
    { audited, reason }: { audited: boolean; reason?: string | undefined }
  ): Promise<Result<MessageWithAuthor>> {
    if (message.isDeleted) return ok(message)
    const now = Date.now()
    await store.markMessageDeleted(db, message.id, now)
    const deleted = {
      ...message,
      content: '',
      mediaUrl: null,
      attachment: null,
      isDeleted: true,
      deletedAt: now,
    }
    await announceDeleted(deleted, actor.id)
    if (audited) {
      await audit.record({
        actor,
        action: 'message.delete',
        targetUserId: message.authorId,
        cityId: message.cityId,
        messageId: message.id,
        reason,
        ...(message.chatId !== null ? { details: { chatId: message.chatId } } : {}),
      })
    }
    // Once the tombstone is stored, the upload goes (files deleted by the media sweeper).
    if (message.attachment) await media?.messageDeleted(message.id)
    return ok(deleted)
  }

  /**
   * A tombstone (stored already) reaches its room, through the room stream so recovery replays
   * it, and the webhooks; resolves once the room heard it. Deletes and erasures (chat/erasure.ts).
   */
  async function announceDeleted(
    deleted: MessageWithAuthor,
    by: string = deleted.authorId
  ): Promise<void> {
    const room = roomOfMessage(deleted)
    await stream.append({
      room,
      event: kindOf(room).events.deleted,
      args: [deletedView(deleted)],
      audience: deleted.shadowed ? deleted.authorId : undefined,
    })
    notifier.eventLogged()
    // A deleted message leaves the pins (`by` deleted it).
    if (await removePin(db, deleted.id)) await stream.append(unpinned(deleted, by))
  }

  /**
   * One page of history, oldest first (see store/messages.ts listRoomMessages). The cursors are
   * ids of messages in this room.
   */
  async function listMessages(
    actor: UserRow,
    room: RoomRef,
    { before, after, around, limit }: HistoryPage
  ): Promise<Result<HistoryResult>> {
    const entry = await access.canEnter(actor, room, 'read')
    if (!entry.ok) return entry
    if (around !== undefined) {
      if (before !== undefined || after !== undefined)
        return fail('invalid_input', 'around goes alone, without before or after')
      return listAround(actor, room, around, limit)
    }
    const cursor = async (id: string | undefined) =>
      id === undefined ? undefined : ((await store.messageSeq(db, room, id)) ?? null)
    const [beforeSeq, afterSeq] = await Promise.all([cursor(before), cursor(after)])
    if (beforeSeq === null || afterSeq === null) {
      return fail(
        'invalid_input',
        `${beforeSeq === null ? 'before' : 'after'} is not a message in this room`
      )
    }
    const page = await store.listRoomMessages(db, room, {
      beforeSeq,
      afterSeq,
      limit,
      viewerId: actor.id,
    })
    // The page's reactions in one query (a page without any costs that query only).
    return ok({ ...page, messages: await withReactions(db, page.messages, actor.id) })
  }

  /**
   * Up to half the limit (rounded up) ending with the message `around`, then the rest after it,
   * oldest first: `hasMore` as for a backward page (older ones exist), `hasNewer` for the rest.
   */
  async function listAround(
    actor: UserRow,
    room: RoomRef,
    around: string,
    limit: number
  ): Promise<Result<HistoryResult>> {
    const seq = await store.messageSeq(db, room, around)
    if (seq === undefined) return fail('invalid_input', 'around is not a message in this room')
    const viewerId = actor.id
    const older = await store.listRoomMessages(db, room, {
      beforeSeq: seq + 1,
      limit: Math.ceil(limit / 2),
      viewerId,
    })
    const newer = await store.listRoomMessages(db, room, {
      afterSeq: seq,
      limit: limit - older.messages.length,
      viewerId,
    })
    return ok({
      messages: [...older.messages, ...newer.messages],
      hasMore: older.hasMore,
      hasNewer: newer.hasMore,
    })
  }

  /** A message the actor can see (reports), or not_found. */
  async function findVisibleMessage(
    actor: UserRow,
    messageId: string
  ): Promise<Result<MessageWithAuthor>> {
    const message = await store.findMessageById(db, messageId)
    if (!message || !visible(message, actor)) return fail('not_found', 'no such message')
    const entry = await access.canEnter(actor, roomOfMessage(message), 'read')
    if (!entry.ok) return fail('not_found', 'no such message')
    return ok(message)
  }

  return {
    sendMessage,
    editMessage,
    deleteMessage,
    deleteReported,
    announceDeleted,
    listMessages,
    findVisibleMessage,
  }
}

export type Messages = ReturnType<typeof createMessages>
