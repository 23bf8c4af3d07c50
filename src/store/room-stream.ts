/**
 * @module The room stream's store half: the one order of offsets (`messages.seq` and
 * `room_events.id` share it), the log of replayable events other than new messages (a new message
 * is replayed from `messages` itself), the reads since an offset and between two, pruning, and the
 * socket sessions a reconnect resumes. The domain half is chat/room-stream.ts.
 */
import { and, asc, desc, eq, gt, inArray, lt, lte, max, min, sql } from 'drizzle-orm'
import { type Db, preparedPerDatabase } from './db.ts'
import {
  flatten,
  fromValues,
  type MessageWithAuthor,
  type RoomRef,
  roomCondition,
  selectWithAuthor,
  visibleTo,
} from './messages.ts'
import { isNotifiedEvent, messages, offsetFloor, roomEvents, socketSessions } from './schema.ts'

export type SocketSessionRow = typeof socketSessions.$inferSelect

/** A log row as read back: its offset, the room's topic, and the event's `[event, ...args]` JSON. */
export interface LogEntry {
  id: number
  room: string
  packet: string
}

/** The newest offset given out: the newest message, log row, or deleted chat's message. */
export const LATEST_OFFSET = `max(coalesce((SELECT max(seq) FROM messages), 0),
  coalesce((SELECT max(id) FROM room_events), 0), coalesce((SELECT value FROM offset_floor), 0))`

const LOG_COLUMNS = { id: roomEvents.id, room: roomEvents.room, packet: roomEvents.packet }

/**
 * Log rows of the rooms (by topic) after offset `afterId`, oldest first, at most `limit` of them
 * (ask for one more than you can replay to learn whether the gap is too large).
 */
export async function listRoomEventsAfter(
  db: Db,
  rooms: readonly string[],
  afterId: number,
  limit: number
): Promise<LogEntry[]> {
  if (rooms.length === 0) return []
  return db
    .select(LOG_COLUMNS)
    .from(roomEvents)
    .where(and(inArray(roomEvents.room, [...rooms]), gt(roomEvents.id, afterId)))
    .orderBy(asc(roomEvents.id))
    .limit(limit)
}

/** Log rows of every room with `afterId < id < beforeId`, oldest first. */
export async function listRoomEventsBetween(
  db: Db,
  afterId: number,
  beforeId: number
): Promise<LogEntry[]> {
  return db
    .select(LOG_COLUMNS)
    .from(roomEvents)
    .where(and(gt(roomEvents.id, afterId), lt(roomEvents.id, beforeId)))
    .orderBy(asc(roomEvents.id))
}

/**
 * A room kind's replay read, its bounds as placeholders: prepared once per database, so a resume
 * neither builds the query nor (bun:sqlite) compiles its statement again.
 */
const replayQuery = (db: Db, kind: RoomRef['kind']) =>
  selectWithAuthor(db)
    .where(
      and(
        roomCondition({ kind, id: sql.placeholder('room') }),
        gt(messages.seq, sql.placeholder('after')),
        visibleTo(sql.placeholder('viewer'))
      )
    )
    .orderBy(asc(messages.seq))
    .limit(sql.placeholder('limit'))
    .prepare()

const replayQueries = preparedPerDatabase((db: Db) => ({
  city: replayQuery(db, 'city'),
  chat: replayQuery(db, 'chat'),
}))

/**
 * The notifier's read of the log: the rows of NOTIFIED_EVENTS after `after` up to `until`, at most
 * `limit`, through room_events_notify_idx (thread updates and pins are not in it). Prepared once
 * per database and limit.
 */
const notifiedQuery = (db: Db, limit: number) =>
  db
    .select(LOG_COLUMNS)
    .from(roomEvents)
    .where(
      and(
        gt(roomEvents.id, sql.placeholder('after')),
        lte(roomEvents.id, sql.placeholder('until')),
        isNotifiedEvent(roomEvents.packet)
      )
    )
    .orderBy(asc(roomEvents.id))
    .limit(limit)
const notifiedPrepared = preparedPerDatabase((db: Db, limit: number) =>
  notifiedQuery(db, limit).prepare()
)

/** The SQL of the notifier's log read, for checking its query plan. */
export const notifiedEventsQuery = notifiedQuery

/**
 * Log rows of the kinds the notifier handles (NOTIFIED_EVENTS) with `afterId < id <= untilId`,
 * oldest first, at most `limit`.
 */
export async function listNotifiedEvents(
  db: Db,
  afterId: number,
  untilId: number,
  limit: number
): Promise<LogEntry[]> {
  if (untilId <= afterId) return []
  return notifiedPrepared(db, limit).all({ after: afterId, until: untilId })
}

/** The newest offset read: prepared once per database (the notifier asks every 50 ms). */
const newestQuery = preparedPerDatabase((db: Db) =>
  db
    .select({ offset: sql<number>`${sql.raw(LATEST_OFFSET)}` })
    .from(offsetFloor)
    .prepare()
)

/**
 * A room's messages committed after offset `afterSeq`, oldest first (replay), as `viewerId` may
 * see them (without others' shadowed messages). Read as arrays and built by `fromValues`: on
 * bun:sqlite 1,000 rows take about 1.3 ms this way against 5.5 ms through Drizzle's row mapping.
 */
export async function listRoomMessagesAfter(
  db: Db,
  room: RoomRef,
  afterSeq: number,
  limit: number,
  viewerId: string
): Promise<(MessageWithAuthor & { seq: number })[]> {
  const rows = (await replayQueries(db)[room.kind].values({
    room: room.id,
    after: afterSeq,
    viewer: viewerId,
    limit,
  })) as unknown[][]
  return rows.map(fromValues)
}

/** Messages of every room with `afterSeq < seq < beforeSeq`, oldest first. */
export async function listMessagesBetween(
  db: Db,
  afterSeq: number,
  beforeSeq: number
): Promise<(MessageWithAuthor & { seq: number })[]> {
  const rows = await selectWithAuthor(db)
    .where(and(gt(messages.seq, afterSeq), lt(messages.seq, beforeSeq)))
    .orderBy(asc(messages.seq))
  return rows.map(flatten)
}

/** The newest offset given out (message or log row), 0 for an empty database. */
export async function latestOffset(db: Db): Promise<number> {
  // offset_floor always holds its one row (drizzle/0006).
  const [row] = await newestQuery(db).all()
  return Number(row?.offset ?? 0)
}

/** The newest log row's id and time, undefined for an empty log. */
export async function newestRoomEvent(
  db: Db
): Promise<{ id: number; createdAt: number } | undefined> {
  const [row] = await db
    .select({ id: roomEvents.id, createdAt: roomEvents.createdAt })
    .from(roomEvents)
    .orderBy(desc(roomEvents.id))
    .limit(1)
  return row
}

/**
 * Log rows one prune statement deletes (about 5 ms). Under sustained load a prune has millions of
 * rows to delete (a minute of messages), which in one statement stalled the event loop for seconds.
 */
const PRUNE_SLICE_ROWS = 5_000

/**
 * Forgets log rows up to `upToId`, except the newest (it may hold the latest offset given out),
 * a slice at a time with the event loop's other work between slices; then sessions expired by
 * `now`.
 */
export async function pruneRecovery(db: Db, upToId: number, now: number): Promise<void> {
  const [bounds] = await db
    .select({ oldest: min(roomEvents.id), newest: max(roomEvents.id) })
    .from(roomEvents)
  const last = Math.min(upToId, (bounds?.newest ?? 0) - 1)
  for (let from = bounds?.oldest ?? last + 1; from <= last; from += PRUNE_SLICE_ROWS) {
    await db
      .delete(roomEvents)
      .where(lte(roomEvents.id, Math.min(last, from + PRUNE_SLICE_ROWS - 1)))
    await new Promise((resolve) => setImmediate(resolve))
  }
  await db.delete(socketSessions).where(lt(socketSessions.expiresAt, now))
}

/**
 * Keeps the live sessions of node `nodeId` resumable for a while longer (they are written when
 * their rooms change, store/write-batch.ts): a node killed without a chance to save them leaves
 * them resumable until `expiresAt`.
 */
export async function extendLiveSessions(db: Db, nodeId: string, expiresAt: number): Promise<void> {
  await db.update(socketSessions).set({ expiresAt }).where(eq(socketSessions.nodeId, nodeId))
}

/** When the oldest log row was written, undefined for an empty log. */
export async function oldestRoomEventAt(db: Db): Promise<number | undefined> {
  const [row] = await db
    .select({ createdAt: roomEvents.createdAt })
    .from(roomEvents)
    .orderBy(asc(roomEvents.id))
    .limit(1)
  return row?.createdAt
}

/**
 * Forgets the log rows about these messages (an edit carries its content), so a replay never
 * sends what retention purged. The log holds the recovery window only, so the scan is short.
 */
export async function forgetLoggedMessages(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return
  const list = sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `
  )
  await db
    .delete(roomEvents)
    .where(
      sql`(json_extract(${roomEvents.packet}, '$[1]._id') IN (${list}) OR json_extract(${roomEvents.packet}, '$[1].messageId') IN (${list}))`
    )
}
