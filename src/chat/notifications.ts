/**
 * @module Notifications: what reaches a user who may not be looking — a mention, a reply in a
 * thread they are in (they wrote its message or replied to it), being added to a chat, a message
 * in a room whose level is `all` while they have no live socket — and the webhook events of the
 * room stream. Made after the room heard the event, off the send path: `messageSent` and
 * `eventLogged` only wake the notifier. It walks the room stream's one order of offsets after a
 * persisted watermark (store/schema.ts `notifier_progress`): new messages (`messages.seq`) and
 * the log rows of edits, deletes, reactions and membership changes (`room_events.id`), merged in
 * offset order. Each batch's notifications, Web Push outbox rows (chat/push.ts plans them) and
 * webhook outbox rows commit in one transaction with the watermark row that says the batch was
 * handled, so a crash loses none and a restart makes none twice, and a room's webhook events
 * enter the outbox in its order (a message's `message.created` before its `message.edited`).
 * One node at a time does it, the holder of the notifier lease; the watermark row's unique
 * `after_seq` makes a second commit of the same range fail, so a node that lost the lease
 * mid-batch doubles nothing. The common case (a city message with no mention or reply, where
 * nobody chose `all`, and no webhook takes it) is decided in memory: it does not wake the
 * notifier, and the read that walks the batch leaves it out; the log read takes only the kinds
 * something here handles (pins, threads and roles are skipped in SQL). The room stream keeps
 * every log row after the watermark (chat/room-stream.ts prune). After the commit each
 * notification is handed to the `NotificationPublisher` (every socket of the user, on every
 * node).
 */

import { ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import { listChatMembers } from '../store/chats.ts'
import { type Db, isUniqueViolation } from '../store/db.ts'
import { newId } from '../store/ids.ts'
import { findMessageById, type MessageWithAuthor, repliersOf } from '../store/messages.ts'
import {
  commitNotified,
  countUnreadNotifications,
  holdNotifierLease,
  listNotifications,
  markNotificationsRead,
  messagesToNotify,
  type NotificationWithMessage,
  notifierWatermark,
  pruneNotifierProgress,
  releaseNotifierLease,
} from '../store/notifications.ts'
import type { PresenceStore } from '../store/presence-store.ts'
import type { NewPushRow } from '../store/push.ts'
import { type LogEntry, latestOffset, listNotifiedEvents } from '../store/room-stream.ts'
import type { NotificationKind, NotificationRow, UserRow } from '../store/schema.ts'
import type { NewWebhookRow } from '../store/webhooks.ts'
import { yieldToLoop } from './background.ts'
import { type CityAllChoosers, lets, settingsForUsers } from './notification-settings.ts'
import type { Push } from './push.ts'
import {
  CHAT_MEMBERS_ADDED,
  CHAT_MEMBERS_REMOVED,
  CITY,
  chatRoom,
  PRIVATE,
  type RoomRef,
  roomOfMessage,
  roomOfPayload,
  roomOfTopic,
} from './rooms.ts'
import { messageView, notificationView, type ReactionView } from './views.ts'
import type { Webhooks } from './webhooks.ts'

/** Where a new notification goes live (events/: the user's own room, on every node). */
export interface NotificationPublisher {
  notify(userId: string, notification: NotificationWithMessage): void
}

/** Messages, and log rows, read per batch at most; the loop gets a turn between batches. */
const SLICE = 256
/** How long the notifier lease lasts, and how often its holder renews it. */
const LEASE_MS = 5_000
const RENEW_MS = 1_000
/** How often the lease holder looks for events stored on other nodes (one newest-offset read). */
const POLL_MS = 50
/** A batch that made nothing writes its watermark row at most this often. */
const PERSIST_IDLE_MS = 1_000
/** Watermark rows older than this are pruned (every PRUNE_MS). */
const PROGRESS_KEEP_MS = 10 * 60_000
const PRUNE_MS = 60_000

const reactionEvent = (reaction: ReactionView) =>
  reaction.action === 'add' ? 'reaction.added' : 'reaction.removed'

/** A membership change as its log row carries it (chat/chats.ts). */
interface MembersChange {
  chatId: string
  actorId: string
  userIds: string[]
}

/** One step of a batch, in offset order: a new message or a logged room event. */
type Step =
  | { offset: number; message: MessageWithAuthor; event?: never }
  | { offset: number; message?: never; event: LogEntry }

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
  /** This node, as the notifier lease names it. */
  nodeId: string
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
  nodeId,
  now = Date.now,
}: NotifierOptions) {
  let publisher: NotificationPublisher = { notify() {} }

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

  /** The notifications `targets` make, each user's setting and mute applied. */
  async function rowsFor(
    room: RoomRef,
    targets: Map<string, NotificationKind>,
    actorId: string,
    message: MessageWithAuthor | null,
    at: number
  ): Promise<NotificationRow[]> {
    if (targets.size === 0) return []
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
    return rows
  }

  // The room stream after the watermark, from the database (see the module comment).
  let leader = false
  /**
   * Where this node has read up to while it holds the lease; read again on taking it and on a
   * conflict. `persisted` is the newest watermark row (each commit chains from it); a batch
   * that made nothing moves only `watermark`, and is written at most every PERSIST_IDLE_MS.
   */
  let watermark: number | null = null
  let persisted = 0
  let persistedAt = Number.NEGATIVE_INFINITY
  let pumping: Promise<void> | null = null
  let pumpAgain = false
  let wakeScheduled = false
  let leaseCheckedAt = Number.NEGATIVE_INFINITY
  let prunedAt = now()
  let checkingLease = false
  let timer: ReturnType<typeof setInterval> | undefined
  let stopped = false

  /** The fast decision, in memory: whether a stored message can make anything at all. */
  function mayNotify(message: MessageWithAuthor): boolean {
    return !(
      message.cityId !== null &&
      message.replyTo === null &&
      !message.mentions &&
      choosers.loaded &&
      choosers.of(message.cityId).size === 0 &&
      !webhooks.wants('message.created')
    )
  }

  /** The same decision for the batch read: plain city messages count only in these cities. */
  function plainCities(): string[] | null {
    if (!choosers.loaded || webhooks.wants('message.created')) return null
    return choosers.cities()
  }

  /** Handles new events soon (on a later turn, never inside the caller's). */
  function wake(): void {
    if (!leader || stopped || wakeScheduled) return
    wakeScheduled = true
    setImmediate(() => {
      wakeScheduled = false
      pump()
    })
  }

  function pump(): void {
    if (!leader || stopped) return
    if (pumping) {
      pumpAgain = true
      return
    }
    pumping = runPump().finally(() => {
      pumping = null
    })
  }

  async function runPump(): Promise<void> {
    do {
      pumpAgain = false
      try {
        // A turn of the loop for the chat between batches.
        while (leader && !stopped && (await pumpOnce())) await yieldToLoop()
      } catch (error) {
        watermark = null
        log.error('handling room events for notifications failed', { error })
        return
      }
    } while (pumpAgain && leader && !stopped)
  }

  /**
   * One batch after the watermark (new messages and log rows, in offset order), committed with
   * its watermark row; whether more may follow.
   */
  async function pumpOnce(): Promise<boolean> {
    if (watermark === null) {
      persisted = await notifierWatermark(db)
      watermark = persisted
    }
    const after = watermark
    const head = await latestOffset(db)
    if (head <= after) return false
    const messages = await messagesToNotify(db, after, head, SLICE, plainCities())
    const events = await listNotifiedEvents(db, after, head, SLICE)
    // A full read may have left rows out past its last: the batch ends there.
    let until = head
    if (messages.length === SLICE) until = Math.min(until, messages.at(-1)?.seq ?? head)
    if (events.length === SLICE) until = Math.min(until, events.at(-1)?.id ?? head)
    const batch: Step[] = [
      ...messages
        .filter((m) => m.seq <= until)
        .map((message) => ({ offset: message.seq, message })),
      ...events.filter((e) => e.id <= until).map((event) => ({ offset: event.id, event })),
    ].sort((a, b) => a.offset - b.offset)
    const progress = { afterSeq: persisted, untilSeq: until, nodeId, createdAt: now() }
    let plan = await planBatch(batch)
    // Nothing made: no write per poll. A crash before the next write reads these again, and
    // they make what they make then (nothing was made of them the first time).
    if (isEmpty(plan) && progress.createdAt - persistedAt < PERSIST_IDLE_MS) {
      watermark = until
      return until < head
    }
    try {
      await commitOrConflict(plan, progress)
    } catch (error) {
      if (error === CONFLICT) return true
      // A subscription or a user went between the reads and the write: planned again once.
      log.warn('storing notifications failed; planning them again', { error })
      plan = await planBatch(batch)
      try {
        await commitOrConflict(plan, progress)
      } catch (again) {
        if (again === CONFLICT) return true
        // Never wedged on one batch: its notifications are given up, and said so.
        log.error('notifications for a batch of room events could not be stored; skipped', {
          error: again,
          after,
          until,
        })
        plan = { notifications: [], pushes: [], webhooks: [], live: [] }
        await commitOrConflict(plan, progress)
      }
    }
    watermark = until
    persisted = until
    persistedAt = progress.createdAt
    for (const notification of plan.live) publisher.notify(notification.userId, notification)
    push.queued(plan.pushes)
    if (plan.webhooks.length > 0) webhooks.written()
    return until < head
  }

  /**
   * Commits a batch; throws CONFLICT when another node committed the range after the same
   * watermark (this node's was stale: it reads the watermark again).
   */
  async function commitOrConflict(
    plan: Plan,
    progress: { afterSeq: number; untilSeq: number; nodeId: string; createdAt: number }
  ): Promise<void> {
    try {
      await commitNotified(db, { ...plan, progress })
    } catch (error) {
      if (!isUniqueViolation(error)) throw error
      const current = await notifierWatermark(db)
      if (current === progress.afterSeq) throw error
      watermark = null
      throw CONFLICT
    }
  }

  const isEmpty = (plan: Plan) =>
    plan.notifications.length === 0 && plan.pushes.length === 0 && plan.webhooks.length === 0

  interface Plan {
    notifications: NotificationRow[]
    pushes: NewPushRow[]
    webhooks: NewWebhookRow[]
    live: NotificationWithMessage[]
  }

  /**
   * What a batch makes, step by step in offset order: feed rows, their pushes, webhook events
   * (so a room's events enter the outbox in its order), live hand-offs.
   */
  async function planBatch(batch: Step[]): Promise<Plan> {
    const plan: Plan = { notifications: [], pushes: [], webhooks: [], live: [] }
    const memo = new Map<string, Promise<string[]>>()
    const at = now()
    for (const step of batch) {
      try {
        if (step.message) await planMessage(plan, step.message, memo, at)
        else await planEvent(plan, step.event, at)
      } catch (error) {
        log.error('making notifications failed', { error, offset: step.offset })
      }
    }
    return plan
  }

  async function planMessage(
    plan: Plan,
    message: MessageWithAuthor,
    memo: Map<string, Promise<string[]>>,
    at: number
  ): Promise<void> {
    const room = roomOfMessage(message)
    plan.webhooks.push(
      ...webhooks.eventRows('message.created', room, () => ({ message: messageView(message) }))
    )
    const targets = await recipients(message, memo)
    await planNotifications(plan, room, targets, message.authorId, message, at)
  }

  /**
   * A logged room event: its webhook event, as the room heard it (the log row carries the view,
   * so an event whose message retention purged since needs nothing else), and for users added
   * to a chat their `added` notifications.
   */
  async function planEvent(plan: Plan, entry: LogEntry, at: number): Promise<void> {
    const [event, payload] = JSON.parse(entry.packet) as [string, unknown]
    if (event === CHAT_MEMBERS_ADDED || event === CHAT_MEMBERS_REMOVED) {
      const change = payload as MembersChange
      const room = chatRoom(change.chatId)
      if (event === CHAT_MEMBERS_REMOVED) {
        plan.webhooks.push(...webhooks.eventRows('member.removed', room, () => change))
        return
      }
      plan.webhooks.push(...webhooks.eventRows('member.added', room, () => change))
      const targets = new Map(
        change.userIds.filter((id) => id !== change.actorId).map((id) => [id, 'added' as const])
      )
      await planNotifications(plan, room, targets, change.actorId, null, at)
      return
    }
    if (event === CITY.events.reaction || event === PRIVATE.events.reaction) {
      // One only its shadowed author heard (logged under their own topic) is no receiver's business.
      if (roomOfTopic(entry.room) === null) return
      const reaction = payload as ReactionView
      plan.webhooks.push(
        ...webhooks.eventRows(reactionEvent(reaction), roomOfPayload(reaction), () => reaction)
      )
      return
    }
    const view = payload as { cityId: string } | { chatId: string }
    if (event === CITY.events.edited || event === PRIVATE.events.edited)
      plan.webhooks.push(
        ...webhooks.eventRows('message.edited', roomOfPayload(view), () => ({ message: view }))
      )
    else if (event === CITY.events.deleted || event === PRIVATE.events.deleted)
      plan.webhooks.push(...webhooks.eventRows('message.deleted', roomOfPayload(view), () => view))
  }

  /** The notifications `targets` make, with their pushes and `notification.created` events. */
  async function planNotifications(
    plan: Plan,
    room: RoomRef,
    targets: Map<string, NotificationKind>,
    actorId: string,
    message: MessageWithAuthor | null,
    at: number
  ): Promise<void> {
    const rows = await rowsFor(room, targets, actorId, message, at)
    if (rows.length === 0) return
    plan.pushes.push(...(await push.pushesFor(rows, message)))
    for (const row of rows) {
      const notification = { ...row, message }
      plan.notifications.push(row)
      plan.live.push(notification)
      plan.webhooks.push(
        ...webhooks.eventRows('notification.created', { user: row.userId }, () => ({
          userId: row.userId,
          notification: notificationView(notification),
        }))
      )
    }
  }

  /** Takes or renews the lease (every RENEW_MS), prunes old watermark rows, and wakes the pump. */
  async function tick(): Promise<void> {
    if (stopped || checkingLease) return
    const at = now()
    if (at - leaseCheckedAt >= RENEW_MS) {
      checkingLease = true
      try {
        const held = await holdNotifierLease(db, nodeId, at, LEASE_MS)
        if (held && !leader) watermark = null
        leader = held
        leaseCheckedAt = at
      } catch (error) {
        leader = false
        log.error('the notifier lease could not be read', { error })
      } finally {
        checkingLease = false
      }
      if (leader && at - prunedAt >= PRUNE_MS) {
        prunedAt = at
        pruneNotifierProgress(db, at - PROGRESS_KEEP_MS).catch((error) =>
          log.error('pruning the notifier watermark failed', { error })
        )
      }
    }
    pump()
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
    /** After its broadcast: wakes the notifier, never awaited by the sender. */
    messageSent(message: MessageWithAuthor): void {
      // Nothing can come of it (no reply, no mention, a city where nobody chose `all`, no
      // hook): nothing to wake. Otherwise the lease holder handles it now; another node's
      // within POLL_MS. The message itself is read back in its batch, in seq order.
      if (mayNotify(message)) wake()
    },
    /**
     * After `stream.append` of an event it handles (an edit, a delete, a reaction, a membership
     * change) resolved: the lease holder reads it now; another node's within POLL_MS. The event
     * itself is read back from the log in its batch, in offset order.
     */
    eventLogged(): void {
      wake()
    },
    listMyNotifications,
    markNotificationsReadUpTo,
    /** Starts the lease and the batches (server start); messages after the watermark first. */
    start(): void {
      if (timer || stopped) return
      timer = setInterval(() => void tick(), POLL_MS)
      timer.unref?.()
      void tick()
    },
    /**
     * On the lease holder, resolves once every message and room event stored so far was handled
     * (tests, shutdown); elsewhere at once.
     */
    async settled(): Promise<void> {
      if (!leader || stopped) return
      pump()
      while (pumping) await pumping
    },
    /** Stops the batches and gives the lease up, so another node takes over at once. */
    async close(): Promise<void> {
      stopped = true
      clearInterval(timer)
      while (pumping) await pumping
      if (leader) {
        leader = false
        await releaseNotifierLease(db, nodeId).catch((error) =>
          log.error('releasing the notifier lease failed', { error })
        )
      }
    },
  }
}

/** Thrown inside a batch commit: another node committed the same range (nothing was written). */
const CONFLICT = new Error('another node handled these messages')

export type Notifier = ReturnType<typeof createNotifier>
