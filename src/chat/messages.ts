/**
 * @module Messages: send (idempotent by clientId), edit (author only), delete (author, or a
 * private chat's owner/admin), and history pages. REST and socket handlers both call these.
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Db } from '../store/db.ts'
import type { GroupWriter } from '../store/group-commit.ts'
import { newId } from '../store/ids.ts'
import type { MessageWithAuthor, Room } from '../store/messages.ts'
import * as store from '../store/messages.ts'
import type { MessageType, UserRow } from '../store/schema.ts'
import type { LoggedBroadcast } from './chat-events.ts'
import type { createChats } from './chats.ts'
import type { createCities } from './cities.ts'
import { type RateLimiter, UNLIMITED } from './rate-limit.ts'
import type { RoomLog } from './recovery.ts'

/** A history request: message ids as cursors. */
export interface HistoryPage {
  before?: string | undefined
  after?: string | undefined
  limit: number
}

export type { MessageWithAuthor, Room }

export interface SendMessageInput {
  actor: UserRow
  target: Room
  /** Already validated by chat/inputs.ts (control characters stripped, length checked). */
  content: string
  message_type: MessageType
  media_url: string | null
  reply_to: string | null
  clientId: string | null
  /**
   * Publishes the new message with its room-log offset: called once it is durable, from its
   * commit, so messages go out in offset order, and before sendMessage resolves. Not called for
   * a duplicate.
   */
  announce?(message: MessageWithAuthor, logged: LoggedBroadcast | undefined): void
}

export interface MessageTargetInput {
  actor: UserRow
  messageId: string
  /** When the caller names the room (socket payloads do), the message must be in it. */
  room?: Room | undefined
}

interface Deps {
  db: Db
  /** Group-committed message inserts (store/group-commit.ts). */
  writer: GroupWriter
  cities: ReturnType<typeof createCities>
  chats: ReturnType<typeof createChats>
  /** A new message's broadcast is logged in the message's own commit (chat/recovery.ts). */
  roomLog: RoomLog
  /** Per-user send rate (REST and sockets share it); a retried clientId does not spend a token. */
  sendLimiter?: RateLimiter
}

const sameRoom = (message: MessageWithAuthor, room: Room) =>
  'cityId' in room ? message.cityId === room.cityId : message.chatId === room.chatId

const roomOf = (message: MessageWithAuthor): Room =>
  message.cityId !== null ? { cityId: message.cityId } : { chatId: message.chatId ?? '' }

type Sent = { message: MessageWithAuthor; duplicate: boolean }

export function createMessages({
  db,
  writer,
  cities,
  chats,
  roomLog,
  sendLimiter = UNLIMITED,
}: Deps) {
  /** City: it must exist. Chat: the actor must be a member. */
  async function requireRoomAccess(actor: UserRow, room: Room): Promise<Result<null>> {
    const access =
      'cityId' in room
        ? await cities.getCity(room.cityId)
        : await chats.requireChatMember(actor, room.chatId)
    return access.ok ? ok(null) : access
  }

  /** Sends in progress by author and clientId: a concurrent retry waits for the first one. */
  const sending = new Map<string, Promise<Result<Sent>>>()

  /**
   * Stores a message in a city or a private chat. Sending the same `clientId` again returns the
   * first message with `duplicate: true` instead of storing a second one.
   * @example
   * const sent = await chat.sendMessage({ actor, target: { cityId: 'mumbai' }, content: 'hi',
   *   message_type: 'text', media_url: null, reply_to: null, clientId: 'c1',
   *   announce: (message, logged) => events.messageCreated(message, logged) })
   */
  async function sendMessage(input: SendMessageInput): Promise<Result<Sent>> {
    const { actor, target, clientId } = input
    const access = await requireRoomAccess(actor, target)
    if (!access.ok) return access
    if (clientId === null) return storeNew(input)
    const key = `${actor.id}\u0000${clientId}`
    const first = sending.get(key)
    if (first) {
      const result = await first
      if (result.ok) return duplicateOf(result.value.message, target)
    }
    const work = storeNew(input)
    sending.set(key, work)
    try {
      return await work
    } finally {
      if (sending.get(key) === work) sending.delete(key)
    }
  }

  /** Rate limit, reply check, one group-committed insert; a clientId conflict answers the stored row. */
  async function storeNew(input: SendMessageInput): Promise<Result<Sent>> {
    const { actor, target } = input
    const allowed = sendLimiter.take(actor.id)
    if (!allowed.ok) {
      // A client retrying an acked send must get its answer, not a 429.
      const existing = input.clientId !== null && (await findByClientId(actor, input.clientId))
      return existing ? duplicateOf(existing, target) : allowed
    }
    if (input.reply_to !== null) {
      const parent = await store.findMessageById(db, input.reply_to)
      if (!parent || !sameRoom(parent, target)) {
        sendLimiter.refund(actor.id)
        return fail('invalid_input', 'reply_to must be a message in the same room')
      }
    }
    const now = Date.now()
    const message: MessageWithAuthor = {
      id: newId(now),
      cityId: 'cityId' in target ? target.cityId : null,
      chatId: 'chatId' in target ? target.chatId : null,
      authorId: actor.id,
      content: input.content,
      messageType: input.message_type,
      mediaUrl: input.media_url,
      replyTo: input.reply_to,
      clientId: input.clientId,
      isEdited: false,
      isDeleted: false,
      createdAt: now,
      editedAt: null,
      deletedAt: null,
      author: {
        id: actor.id,
        username: actor.username,
        fullName: actor.fullName,
        profilePhotoUrl: actor.profilePhotoUrl,
      },
    }
    // Group-committed: settles after the COMMIT that holds it, with its offset. The row is built
    // from what we inserted, so nothing is read back; the unique (author, clientId) index detects
    // a retry. Announced from the settling itself, so publish order is commit order. (The writer
    // reads the row's columns by name: the author rides along unread.)
    const packet = roomLog.enabled ? roomLog.newMessagePacket(message) : undefined
    const stored = await writer.insertMessage(message).then((result) => {
      if (result.stored) {
        const logged =
          packet === undefined ? undefined : { offset: roomLog.published(result.offset), packet }
        input.announce?.(message, logged)
      }
      return result.stored
    })
    if (stored) return ok({ message, duplicate: false })
    sendLimiter.refund(actor.id)
    const existing = input.clientId !== null && (await findByClientId(actor, input.clientId))
    if (!existing) throw new Error('message insert stored nothing and found no duplicate')
    return duplicateOf(existing, target)
  }

  const findByClientId = (actor: UserRow, clientId: string) =>
    store.findMessageByClientId(db, actor.id, clientId)

  function duplicateOf(existing: MessageWithAuthor, target: Room) {
    if (!sameRoom(existing, target))
      return fail('conflict', 'clientId was already used for another room')
    return ok({ message: existing, duplicate: true })
  }

  async function findForChange({
    actor,
    messageId,
    room,
  }: MessageTargetInput): Promise<Result<MessageWithAuthor>> {
    const message = await store.findMessageById(db, messageId)
    if (!message || (room && !sameRoom(message, room))) return fail('not_found', 'no such message')
    const access = await requireRoomAccess(actor, roomOf(message))
    if (!access.ok) return access
    return ok(message)
  }

  /** Only the author edits, and not after deleting. */
  async function editMessage(
    input: MessageTargetInput & { content: string }
  ): Promise<Result<MessageWithAuthor>> {
    const found = await findForChange(input)
    if (!found.ok) return found
    if (found.value.authorId !== input.actor.id)
      return fail('not_author', 'only the author may edit this message')
    if (found.value.isDeleted) return fail('not_found', 'this message was deleted')
    const now = Date.now()
    await store.updateMessageContent(db, found.value.id, input.content, now)
    return ok({ ...found.value, content: input.content, isEdited: true, editedAt: now })
  }

  /** The author deletes; in a private chat its owner or an admin may too. Deleting twice is fine. */
  async function deleteMessage(input: MessageTargetInput): Promise<Result<MessageWithAuthor>> {
    const found = await findForChange(input)
    if (!found.ok) return found
    const message = found.value
    if (message.authorId !== input.actor.id) {
      const membership =
        message.chatId !== null
          ? await chats.requireChatMember(input.actor, message.chatId)
          : undefined
      const role = membership?.ok ? membership.value.member.role : undefined
      if (role !== 'owner' && role !== 'admin') {
        return fail('not_author', 'only the author or a chat owner/admin may delete this message')
      }
    }
    if (message.isDeleted) return ok(message)
    const now = Date.now()
    await store.markMessageDeleted(db, message.id, now)
    return ok({ ...message, content: '', mediaUrl: null, isDeleted: true, deletedAt: now })
  }

  /**
   * One page of history, oldest first (see store/messages.ts listRoomMessages). The cursors are
   * ids of messages in this room.
   */
  async function listMessages(
    actor: UserRow,
    room: Room,
    { before, after, limit }: HistoryPage
  ): Promise<Result<{ messages: MessageWithAuthor[]; hasMore: boolean }>> {
    const access = await requireRoomAccess(actor, room)
    if (!access.ok) return access
    const cursor = async (id: string | undefined) =>
      id === undefined ? undefined : ((await store.messageSeq(db, room, id)) ?? null)
    const [beforeSeq, afterSeq] = await Promise.all([cursor(before), cursor(after)])
    if (beforeSeq === null || afterSeq === null) {
      return fail(
        'invalid_input',
        `${beforeSeq === null ? 'before' : 'after'} is not a message in this room`
      )
    }
    return ok(await store.listRoomMessages(db, room, { beforeSeq, afterSeq, limit }))
  }

  return { sendMessage, editMessage, deleteMessage, listMessages }
}
