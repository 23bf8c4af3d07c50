/**
 * @module Notifications: what reaches a user who may not be looking — a mention, a reply in a
 * thread they are in (they wrote its message or replied to it), being added to a chat, a message in a room whose level is `all` while they have no
 * live socket. Made after the room heard the message, off the send path: `messageSent` only
 * queues, and the queue is drained in slices between other work. The common case (a city
 * message with no mention or reply, where nobody chose `all`, and no webhook takes it) is not
 * even queued: it is decided in memory. Each notification is stored (the feed) in one
 * transaction with its Web Push outbox rows (chat/push.ts plans them), and handed to the
 * `NotificationPublisher` (every socket of the user, on every node).
 */
import { ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import { listChatMembers } from '../store/chats.ts'
import type { Db } from '../store/db.ts'
import { newId } from '../store/ids.ts'
import { findMessageById, type MessageWithAuthor, repliersOf } from '../store/messages.ts'
import {
  countUnreadNotifications,
  insertNotifications,
  listNotifications,
  markNotificationsRead,
  type NotificationWithMessage,
} from '../store/notifications.ts'
import type { PresenceStore } from '../store/presence-store.ts'
import type { NewPushRow } from '../store/push.ts'
import type { NotificationKind, NotificationRow, UserRow } from '../store/schema.ts'
import { type CityAllChoosers, lets, settingsForUsers } from './notification-settings.ts'
import type { Push } from './push.ts'
import { chatRoom, type RoomRef, roomOfMessage, roomOfPayload } from './rooms.ts'
import { deletedView, messageView, notificationView, type ReactionView } from './views.ts'
import type { Webhooks } from './webhooks.ts'

/** Where a new notification goes live (events/: the user's own room, on every node). */
export interface NotificationPublisher {
  notify(userId: string, notification: NotificationWithMessage): void
}

/** Messages handled per slice; the loop gets a turn between slices. */
const SLICE = 256
/** Past this many queued, new work is dropped (and logged): the chat keeps going. */
const MAX_QUEUE = 100_000

type Work =
  | { kind: 'message'; message: MessageWithAuthor }
  | { kind: 'edited'; message: MessageWithAuthor }
  | { kind: 'deleted'; message: MessageWithAuthor }
  | { kind: 'added'; chatId: string; actorId: string; userIds: string[] }
  | { kind: 'removed'; chatId: string; actorId: string; userIds: string[] }
  | { kind: 'reaction'; reaction: ReactionView }

const reactionEvent = (reaction: ReactionView) =>
  reaction.action === 'add' ? 'reaction.added' : 'reaction.removed'

/** A mention outranks a reply, which outranks a plain message. */
const RANK: Record<NotificationKind, number> = { mention: 3, reply: 2, added: 1, message: 0 }

export interface NotifierOptions {
  db: Db
  log: Logger
  /** Who has a live socket on any node (plain messages notify only those without one). */
  presence: PresenceStore
  /** Outgoing webhooks: every event here is also one for the operator's services. */
  webhooks: Webhooks
  /** Web Push: each notification for a user with no live socket becomes a push. */
  push: Push
  /** Who chose `all` in each city (in memory). */
  choosers: CityAllChoosers
  now?: () => number
}

/**
 * @example
 * const notifier = createNotifier({ db, log, presence, webhooks, push })
 * notifier.attach(publisher); notifier.messageSent(message) // after its broadcast
 */
export function createNotifier({
  db,
  log,
  presence,
  webhooks,
  push,
  choosers,
  now = Date.now,
}: NotifierOptions) {
  let publisher: NotificationPublisher = { notify() {} }
  let queue: Work[] = []
  let draining: Promise<void> | null = null
  let dropped = 0

  function enqueue(work: Work): void {
    if (queue.length >= MAX_QUEUE) {
      dropped += 1
      if (dropped === 1 || dropped % 10_000 === 0) log.warn('notification queue full', { dropped })
      return
    }
    queue.push(work)
    draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(drain)
  }

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) {
        const slice = queue.length <= SLICE ? queue : queue.slice(0, SLICE)
        queue = queue.length <= SLICE ? [] : queue.slice(SLICE)
        const memo = new Map<string, Promise<string[]>>()
        for (const work of slice) {
          try {
            await handle(work, memo)
          } catch (error) {
            log.error('making notifications failed', { error })
          }
        }
        // A turn of the loop for the chat before the next slice.
        if (queue.length > 0) await new Promise((resolve) => setImmediate(resolve))
      }
    } finally {
      draining = null
    }
  }

  /** Everyone a message may notify, with the strongest reason for each. */
  async function recipients(
    message: MessageWithAuthor,
    memo: Map<string, Promise<string[]>>
  ): Promise<Map<string, NotificationKind>> {
    const found = new Map<string, NotificationKind>()
    const add = (userId: string, kind: NotificationKind) => {
      const had = found.get(userId)
      if (userId !== message.authorId && (!had || RANK[had] < RANK[kind])) found.set(userId, kind)
    }
    if (message.replyTo !== null && !message.shadowed) {
      // The thread's participants: the parent's author and everyone who replied before.
      const parent = await findMessageById(db, message.replyTo)
      if (parent && !parent.isDeleted) add(parent.authorId, 'reply')
      if (parent)
        for (const id of await stillInRoom(message, await repliersOf(db, parent.id)))
          add(id, 'reply')
    }
    for (const id of message.mentions ? (JSON.parse(message.mentions) as string[]) : []) {
      add(id, 'mention')
    }
    // Plain messages: to those who want all of this room's and have no live socket anywhere.
    const room = roomOfMessage(message)
    const key = `${room.kind}:${room.id}`
    let wanting = memo.get(key)
    if (!wanting) {
      wanting = wantingAll(room)
      memo.set(key, wanting)
    }
    const candidates = (await wanting).filter((id) => id !== message.authorId && !found.has(id))
    if (candidates.length > 0) {
      const online = await presence.onlineAmong(candidates)
      for (const id of candidates) if (!online.has(id)) add(id, 'message')
    }
    return found
  }

  /** Those of `userIds` who are still members of a private chat (anyone may be in a city). */
  async function stillInRoom(message: MessageWithAuthor, userIds: string[]): Promise<string[]> {
    if (message.chatId === null || userIds.length === 0) return userIds
    const members = new Set((await listChatMembers(db, [message.chatId])).map((m) => m.userId))
    return userIds.filter((id) => members.has(id))
  }

  /** A chat's members (their default is all; settings filter later), a city's `all` choosers. */
  async function wantingAll(room: RoomRef): Promise<string[]> {
    if (room.kind === 'chat') return (await listChatMembers(db, [room.id])).map((m) => m.userId)
    return [...(await choosers.whoWantsAll(room.id))]
  }

  async function handle(work: Work, memo: Map<string, Promise<string[]>>): Promise<void> {
    const at = now()
    if (work.kind === 'removed') {
      const { chatId, actorId, userIds } = work
      webhooks.emit('member.removed', chatRoom(chatId), () => ({ chatId, actorId, userIds }))
      return
    }
    if (work.kind === 'reaction') {
      const { reaction } = work
      webhooks.emit(reactionEvent(reaction), roomOfPayload(reaction), () => reaction)
      return
    }
    if (work.kind === 'edited' || work.kind === 'deleted') {
      const room = roomOfMessage(work.message)
      const { message } = work
      if (work.kind === 'edited')
        webhooks.emit('message.edited', room, () => ({ message: messageView(message) }))
      else webhooks.emit('message.deleted', room, () => deletedView(message))
      return
    }
    if (work.kind === 'added') {
      const { chatId, actorId, userIds } = work
      webhooks.emit('member.added', chatRoom(chatId), () => ({ chatId, actorId, userIds }))
      const room = chatRoom(work.chatId)
      const targets = new Map(
        work.userIds.filter((id) => id !== work.actorId).map((id) => [id, 'added' as const])
      )
      await make(room, targets, work.actorId, null, at)
      return
    }
    const room = roomOfMessage(work.message)
    const { message } = work
    webhooks.emit('message.created', room, () => ({ message: messageView(message) }))
    await make(room, await recipients(work.message, memo), work.message.authorId, work.message, at)
  }

  /** Filters by each user's setting, stores the rest, and hands them over. */
  async function make(
    room: RoomRef,
    targets: Map<string, NotificationKind>,
    actorId: string,
    message: MessageWithAuthor | null,
    at: number
  ): Promise<void> {
    if (targets.size === 0) return
    const chosen = await settingsForUsers(db, room, [...targets.keys()])
    const rows: NotificationRow[] = []
    for (const [userId, kind] of targets) {
      const setting = chosen.get(userId)
      if (!setting || !lets(setting, kind, at)) continue
      rows.push({
        id: newId(at),
        userId,
        kind,
        roomKind: room.kind,
        roomId: room.id,
        messageId: message?.id ?? null,
        actorId,
        createdAt: at,
        readAt: null,
      })
    }
    if (rows.length === 0) return
    // The feed rows and their pushes commit together: a crash keeps both or neither.
    const pushes = await storeWithPushes(rows, message)
    for (const row of rows) {
      const notification = { ...row, message }
      publisher.notify(row.userId, notification)
      webhooks.emit('notification.created', { user: row.userId }, () => ({
        userId: row.userId,
        notification: notificationView(notification),
      }))
    }
    push.queued(pushes)
  }

  /**
   * Stores the notifications with their pushes; the pushes it queued. A subscription dropped
   * between the reads and the write fails the transaction (its row is gone): the pushes are
   * planned again once, from the subscriptions left.
   */
  async function storeWithPushes(
    rows: NotificationRow[],
    message: MessageWithAuthor | null
  ): Promise<NewPushRow[]> {
    const pushes = await push.pushesFor(rows, message)
    try {
      await insertNotifications(db, rows, pushes)
      return pushes
    } catch (error) {
      if (pushes.length === 0) throw error
      const again = await push.pushesFor(rows, message)
      await insertNotifications(db, rows, again)
      return again
    }
  }

  /** The caller's feed, newest first. */
  async function listMyNotifications(
    actor: UserRow,
    page: { before?: string | undefined; limit: number }
  ) {
    const [found, unreadCount] = await Promise.all([
      listNotifications(db, actor.id, page),
      countUnreadNotifications(db, actor.id),
    ])
    return ok({ ...found, unreadCount })
  }

  /** Marks the caller's notifications up to `upTo` (an id of theirs) read. */
  async function markNotificationsReadUpTo(
    actor: UserRow,
    upTo: string
  ): Promise<Result<{ updated: number; unreadCount: number }>> {
    const updated = await markNotificationsRead(db, actor.id, upTo, now())
    return ok({ updated, unreadCount: await countUnreadNotifications(db, actor.id) })
  }

  return {
    /** Plugs in the live hand-off (events/notification-publisher.ts). */
    attach(next: NotificationPublisher): void {
      publisher = next
    },
    /** After its broadcast: queued, never awaited by the sender. */
    messageSent(message: MessageWithAuthor): void {
      // Nothing can come of it: no reply, no mention, a city where nobody chose `all`, no hook.
      if (
        message.cityId !== null &&
        message.replyTo === null &&
        !message.mentions &&
        choosers.loaded &&
        choosers.of(message.cityId).size === 0 &&
        !webhooks.wants('message.created')
      )
        return
      enqueue({ kind: 'message', message })
    },
    /** After its broadcast: an edit or a delete (for webhooks). */
    messageChanged(kind: 'edited' | 'deleted', message: MessageWithAuthor): void {
      if (webhooks.wants(`message.${kind}`))
        enqueue(kind === 'edited' ? { kind, message } : { kind, message })
    },
    /**
     * After its broadcast: a reaction everyone in the room heard (for webhooks; queued behind the
     * room's messages, so a hook hears a message before its reactions).
     */
    reactionChanged(reaction: ReactionView): void {
      if (webhooks.wants(reactionEvent(reaction))) enqueue({ kind: 'reaction', reaction })
    },
    /** Users stopped being members (removed by `actorId`, or left: actorId is theirs). */
    membersRemoved(chatId: string, actorId: string, userIds: string[]): void {
      if (webhooks.wants('member.removed')) enqueue({ kind: 'removed', chatId, actorId, userIds })
    },
    /** Users became members of a chat (created with them, or added by `actorId`). */
    membersAdded(chatId: string, actorId: string, userIds: string[]): void {
      enqueue({ kind: 'added', chatId, actorId, userIds })
    },
    listMyNotifications,
    markNotificationsReadUpTo,
    /** Resolves once the queue is empty (tests, shutdown). */
    async settled(): Promise<void> {
      while (draining) await draining
    },
  }
}

export type Notifier = ReturnType<typeof createNotifier>
