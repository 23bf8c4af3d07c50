/**
 * @module The room stream: every replayable room event — new messages, edits, deletes, and the
 * kinds to come (reactions, pins, moderator removals) — goes through `append` here, which owns
 * their offsets, their log, their JSON, their reads since an offset and between two, pruning, the
 * sessions a reconnect resumes, and the hand-off to the realtime layer. The store half is
 * store/room-stream.ts.
 *
 * The ordering invariant (docs/architecture.md): commit order = offset order = hand-off order.
 * Every append is queued to the group writer at once, which gives out offsets in call order and
 * settles in that order after the COMMIT; each settling hands its event to the publisher before
 * the next one, and the promise `append` returns resolves only after that hand-off, so whoever
 * acknowledges after awaiting it acknowledges after the room heard it.
 *
 * Bounds: a session resumes only within `windowMs` of its drop (or of its node's death), and only
 * when at most `maxReplay` events were missed; otherwise the client reconnects fresh and reloads
 * history over REST (`?after=`). Log rows older than twice the window are pruned, except those
 * after the notifier's persisted watermark: the notifier reads edits, deletes, reactions and
 * membership changes from this log (chat/notifications.ts), so rows are written with recovery
 * off too (offsets then stay internal) and kept until it handled them.
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import type { GroupWriter } from '../store/group-commit.ts'
import type { MessageWithAuthor, RoomRef } from '../store/messages.ts'
import { notifierWatermark } from '../store/notifications.ts'
import {
  extendLiveSessions,
  forgetLoggedMessages,
  type LogEntry,
  latestOffset,
  listMessagesBetween,
  listRoomEventsAfter,
  listRoomEventsBetween,
  listRoomMessagesAfter,
  newestRoomEvent,
  oldestRoomEventAt,
  pruneRecovery,
} from '../store/room-stream.ts'
import type { UserRow } from '../store/schema.ts'
import type { ThreadState } from '../store/write-batch.ts'
import type { RoomAccess } from './room-access.ts'
import { kindOf, roomOfMessage, roomOfTopic, topicOf, userTopic } from './rooms.ts'
import { messageViewJson } from './views.ts'

/** What storing a new message did: a reply moved its parent's thread (chat/threads.ts). */
export type AppendedMessage = { stored: false } | { stored: true; thread?: ThreadState | undefined }

/** A replayable event of one room: the event's name and its arguments, as the room hears it. */
export interface RoomEvent {
  room: RoomRef
  event: string
  args: unknown[]
  /**
   * A user id: only that user's sockets hear it (an edit or delete of a shadowed message), and
   * it is logged under the user's own topic, which that user's resumes replay.
   */
  audience?: string | undefined
}

/**
 * Where the stream hands its events over (the realtime layer's room fan-out, events/): `json` is
 * `[event, ...args]`, `offset` the event's place in the order (undefined with recovery off).
 * Called in offset order.
 */
export interface RoomPublisher {
  publish(topic: string, json: string, offset: number | undefined): void
}

/** An event as read back: its offset, its room's topic and its `[event, ...args]` JSON. */
export interface StreamEntry {
  offset: number
  room: string
  json: string
}

/** A socket's session as the stream keeps it: who, which rooms. */
export interface SocketSession {
  pid: string
  socketId: string
  userId: string
  rooms: RoomRef[]
}

export interface Resumed {
  socketId: string
  rooms: RoomRef[]
  /** Every missed event, oldest first. */
  missed: StreamEntry[]
}

export interface RoomStreamOptions {
  db: Db
  /** Appends are group-committed with the rest of the hot writes (store/group-commit.ts). */
  writer: GroupWriter
  log: Logger
  /** Who may enter a room: a resumed session gets back only the rooms the user may still enter. */
  access: RoomAccess
  /** This node: its live sessions are the ones it keeps extending. */
  nodeId: string
  /** How long a dropped session may be resumed; 0 turns recovery off. */
  windowMs: number
  /** Most events one resume replays. */
  maxReplay: number
  now?: () => number
}

const OFFSET = /^\d{1,15}$/

/** `["new-city-message",` and the other kinds' like it: the JSON of a new message up to its view. */
const createdHeads = new Map<string, string>()

/** Nothing listens yet (the realtime layer attaches at start-up). */
const NO_PUBLISHER: RoomPublisher = { publish() {} }

/**
 * @example
 * const stream = createRoomStream({ db, writer, log, access, nodeId, windowMs: 120_000, maxReplay: 1_000 })
 * stream.attach(publisher)
 * await stream.append({ room: cityRoom('mumbai'), event: 'city-message-edited', args: [view] })
 */
export function createRoomStream({
  db,
  writer,
  log,
  access,
  nodeId,
  windowMs,
  maxReplay,
  now = Date.now,
}: RoomStreamOptions) {
  const enabled = windowMs > 0
  let publisher = NO_PUBLISHER
  /** The newest append's settling; the writer settles in call order, so it settles last. */
  let chain: Promise<void> = Promise.resolve()
  /** The newest offset handed over from this node (what a joining socket starts from). */
  let head = 0
  /**
   * The newest log id seen at each prune tick. Rows up to a mark older than twice the window were
   * committed before it, so they go; ids, not times, so the log needs no index on created_at.
   */
  const marks: Array<{ at: number; id: number }> = []
  const ready = enabled
    ? Promise.all([latestOffset(db), newestRoomEvent(db)]).then(([id, newest]) => {
        head = Math.max(head, id)
        // After a restart the log is as old as its rows, not as this process: the first mark.
        if (newest) marks.push({ at: newest.createdAt, id: newest.id })
      })
    : Promise.resolve()

  /**
   * Forgets log rows older than twice the window (all of them with recovery off), but never one
   * the notifier has not handled yet: nothing past its persisted watermark goes.
   */
  const prune = async () => {
    await ready
    const at = now()
    const handled = await notifierWatermark(db)
    if (!enabled) {
      await pruneRecovery(db, handled, at)
      return
    }
    const cutoff = at - 2 * windowMs
    marks.push({ at, id: await latestOffset(db) })
    while (marks.length > 1 && (marks[1] as { at: number }).at <= cutoff) marks.shift()
    const oldest = marks[0] as { at: number; id: number }
    await pruneRecovery(db, Math.min(oldest.at <= cutoff ? oldest.id : 0, handled), at)
  }
  /**
   * A live session stays resumable this long past its last extension; extended every half window,
   * so a node killed at T leaves its sessions resumable until at least T + window.
   */
  const liveMs = windowMs * 1.5
  const tick = () => {
    prune().catch((error) => log.error('pruning the room event log failed', { error }))
    if (!enabled) return
    extendLiveSessions(db, nodeId, now() + liveMs).catch((error) =>
      log.error('extending live sessions failed', { error })
    )
  }
  // With recovery off the log still holds what the notifier has to read: pruned every second.
  const timer = setInterval(tick, Math.max(1_000, windowMs / 2))
  timer.unref?.()

  /** The event goes to the room; a new offset moves the head. */
  function handOver(topic: string, json: string, offset: number | undefined): void {
    if (offset !== undefined) head = Math.max(head, offset)
    publisher.publish(topic, json, offset)
  }

  /** Who hears a message: its room, or only its author when it was sent shadowed. */
  const topicOfMessage = (message: MessageWithAuthor): string =>
    message.shadowed ? userTopic(message.authorId) : topicOf(roomOfMessage(message))

  /**
   * A new message as its room hears it: `new-city-message` / `new-private-message`, around the
   * view's own JSON text (the sender's ack embeds the same text, chat/views.ts).
   */
  function createdJson(message: MessageWithAuthor): string {
    const event = kindOf(roomOfMessage(message)).events.created
    let head = createdHeads.get(event)
    if (head === undefined) {
      head = `[${JSON.stringify(event)},`
      createdHeads.set(event, head)
    }
    return `${head}${messageViewJson(message)}]`
  }

  /**
   * Stores a new message and hands it to its room, in offset order. Resolves with stored false
   * when its author already used its clientId (nothing stored, nothing handed over); a stored
   * reply says where its parent's thread is now. Rejects when the insert fails (nothing was
   * stored).
   */
  function appendMessage(message: MessageWithAuthor): Promise<AppendedMessage> {
    // Built before the commit: the view is shared with the sender's ack (chat/views.ts).
    const json = createdJson(message)
    const topic = topicOfMessage(message)
    // From the settling itself, so hand-off order is commit order. (The writer reads the row's
    // columns by name: the author rides along unread.)
    return writer.insertMessage(message).then((result) => {
      if (!result.stored) return result
      handOver(topic, json, enabled ? result.offset : undefined)
      // The writer's own result is an AppendedMessage already (its offset rides along unread).
      return result
    })
  }

  /**
   * Logs one event, then hands it over with its offset. Never rejects: when the log write fails
   * the event still goes out, without an offset (live clients lose nothing; the notifier never
   * reads it, and says so in the log). With recovery off it is logged all the same, for the
   * notifier (chat/notifications.ts reads the log after its watermark), and handed over without
   * an offset: clients get nothing they did not before.
   */
  function append({ room, event, args, audience }: RoomEvent): Promise<void> {
    const topic = audience === undefined ? topicOf(room) : userTopic(audience)
    const json = JSON.stringify([event, ...args])
    const run = writer.appendRoomEvent({ room: topic, packet: json, createdAt: now() }).then(
      (offset) => handOver(topic, json, enabled ? offset : undefined),
      (error: unknown) => {
        log.error('room event log append failed', { room: topic, error })
        handOver(topic, json, undefined)
      }
    )
    chain = run
    return run
  }

  /** A session row: the rooms as topics. */
  const sessionRow = (session: SocketSession, expiresAt: number, live: boolean) => ({
    pid: session.pid,
    socketId: session.socketId,
    userId: session.userId,
    rooms: JSON.stringify(session.rooms.map(topicOf)),
    expiresAt,
    nodeId: live ? nodeId : null,
  })

  const logged = (what: string) => (error: unknown) => log.error(`${what} failed`, { error })

  /** A live socket's rooms changed (or it connected): saved with the writes going on anyway. */
  function trackSession(session: SocketSession): void {
    if (!enabled) return
    writer.saveSession(sessionRow(session, now() + liveMs, true)).catch(logged('saving a session'))
  }

  /** The socket dropped and will come back: resumable for the window from now. */
  async function dropSession(session: SocketSession): Promise<void> {
    if (!enabled) return
    await writer.saveSession(sessionRow(session, now() + windowMs, false))
  }

  /** The socket left for good: nothing to resume. */
  function forgetSession(pid: string): void {
    if (!enabled) return
    writer.takeSession(pid).catch(logged('forgetting a session'))
  }

  /** The session for `pid` with everything its rooms missed after `offset`; refusals say why. */
  async function resume(input: {
    pid: string
    offset: string
    actor: UserRow
  }): Promise<Result<Resumed>> {
    if (!enabled) return fail('not_found', 'recovery is off')
    if (!OFFSET.test(input.offset)) return fail('invalid_input', 'offset is not ours')
    // Through the writer: a drop's save queued before this take is committed first.
    const session = await writer.takeSession(input.pid)
    if (!session || session.expiresAt < now()) return fail('not_found', 'no such session')
    if (session.userId !== input.actor.id) return fail('forbidden', 'session of another user')
    const rooms: RoomRef[] = []
    for (const topic of JSON.parse(session.rooms) as string[]) {
      const room = roomOfTopic(topic)
      // A user removed from a private chat while away gets nothing from it.
      if (room && (await access.canEnter(input.actor, room)).ok) rooms.push(room)
    }
    await ready
    const missed = await missedSince(rooms, Number(input.offset), input.actor.id)
    if (!missed) return fail('payload_too_large', 'too many missed events')
    // Saved again, live on this node, before the socket is answered: the take deleted the row,
    // and a node killed right after the resume must leave it resumable.
    const resumed = { pid: input.pid, socketId: session.socketId, userId: session.userId, rooms }
    await writer.saveSession(sessionRow(resumed, now() + liveMs, true))
    return ok({ socketId: session.socketId, rooms, missed })
  }

  /**
   * What the rooms missed after `after`, as `viewerId` may see it (its own shadowed messages and
   * the events logged for it alone included, others' left out), or undefined when that is more
   * than maxReplay.
   */
  async function missedSince(
    rooms: RoomRef[],
    after: number,
    viewerId: string
  ): Promise<StreamEntry[] | undefined> {
    const topics = [...rooms.map(topicOf), userTopic(viewerId)]
    const events = await listRoomEventsAfter(db, topics, after, maxReplay + 1)
    // Every missed row is replayed, so at most maxReplay are read in all, room after room.
    let budget = maxReplay - events.length
    if (budget < 0) return undefined
    const messages: (MessageWithAuthor & { seq: number })[] = []
    for (const room of rooms) {
      const found = await listRoomMessagesAfter(db, room, after, budget + 1, viewerId)
      if (found.length > budget) return undefined
      budget -= found.length
      messages.push(...found)
    }
    return inOffsetOrder(events, messages)
  }

  /**
   * Log rows and messages as the events they went out as, merged in offset order. A new message
   * is built as it is now (edited, deleted: the later log rows say so too).
   */
  function inOffsetOrder(
    events: LogEntry[],
    messages: (MessageWithAuthor & { seq: number })[]
  ): StreamEntry[] {
    return [
      ...events.map((event) => ({ offset: event.id, room: event.room, json: event.packet })),
      ...messages.map((message) => ({
        offset: message.seq,
        room: topicOfMessage(message),
        json: createdJson(message),
      })),
    ].sort((a, b) => a.offset - b.offset)
  }

  /**
   * Messages about to be purged (retention): the log rows that carry their content (an edit made
   * since the log's oldest row) go, so a resume never replays them. The messages themselves are
   * replayed from their rows, which go next.
   */
  async function forgetMessages(
    purged: readonly { id: string; editedAt: number | null }[]
  ): Promise<void> {
    const oldest = await oldestRoomEventAt(db)
    if (oldest === undefined) return
    // An edit's log row is written just after its editedAt: a minute of slack covers that.
    const logged = purged.filter(
      (message) => message.editedAt !== null && message.editedAt >= oldest - 60_000
    )
    await forgetLoggedMessages(
      db,
      logged.map((message) => message.id)
    )
  }

  /** Every event with `after < offset < before`, of every room. */
  async function between(after: number, before: number): Promise<StreamEntry[]> {
    const [events, messages] = await Promise.all([
      listRoomEventsBetween(db, after, before),
      listMessagesBetween(db, after, before),
    ])
    return inOffsetOrder(events, messages)
  }

  return {
    enabled,
    /** Plugs in the realtime hand-off (events/room-publisher.ts). */
    attach(next: RoomPublisher): void {
      publisher = next
    },
    appendMessage,
    append,
    trackSession,
    dropSession,
    forgetSession,
    resume,
    forgetMessages,
    /** The events a node has not heard, read back so it delivers in offset order. */
    offsets: { newest: () => latestOffset(db), between },
    /** The offset a socket that joins a room now has seen everything up to. */
    async head(): Promise<number> {
      await ready
      return head
    },
    /** Resolves once every event appended so far has been written and handed over. */
    settled: () => chain,
    close() {
      clearInterval(timer)
    },
  }
}

export type RoomStream = ReturnType<typeof createRoomStream>
