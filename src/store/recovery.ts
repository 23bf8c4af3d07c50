/**
 * @module Recovery rows: the room event log (edits and deletes; new messages are replayed from
 * `messages`) and dropped socket sessions, both in the database so a reconnect after a server
 * restart still resumes exactly.
 */
import { and, asc, desc, eq, gt, inArray, lt, lte, max, min, sql } from 'drizzle-orm'
import type { Db } from './db.ts'
import { offsetFloor, roomEvents, socketSessions } from './schema.ts'
import { LATEST_OFFSET } from './write-batch.ts'

export type SocketSessionRow = typeof socketSessions.$inferSelect

/**
 * Log rows of `rooms` after offset `afterId`, oldest first, at most `limit` of them (ask for one
 * more than you can replay to learn whether the gap is too large).
 */
export async function listRoomEventsAfter(
  db: Db,
  rooms: readonly string[],
  afterId: number,
  limit: number
): Promise<{ id: number; room: string; packet: string }[]> {
  if (rooms.length === 0) return []
  return db
    .select({ id: roomEvents.id, room: roomEvents.room, packet: roomEvents.packet })
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
): Promise<{ id: number; room: string; packet: string }[]> {
  return db
    .select({ id: roomEvents.id, room: roomEvents.room, packet: roomEvents.packet })
    .from(roomEvents)
    .where(and(gt(roomEvents.id, afterId), lt(roomEvents.id, beforeId)))
    .orderBy(asc(roomEvents.id))
}

/** The newest offset given out (message or log row), 0 for an empty database. */
export async function latestOffset(db: Db): Promise<number> {
  // offset_floor always holds its one row (drizzle/0006).
  const [row] = await db
    .select({ offset: sql<number>`${sql.raw(LATEST_OFFSET)}` })
    .from(offsetFloor)
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
 * Forgets log rows up to `upToId`, except the newest (it may hold the latest offset given out, see
 * store/write-batch.ts), a slice at a time with the event loop's other work between slices; then
 * sessions expired by `now`.
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

export async function saveSocketSession(db: Db, row: SocketSessionRow): Promise<void> {
  await db
    .insert(socketSessions)
    .values(row)
    .onConflictDoUpdate({
      target: socketSessions.pid,
      set: {
        socketId: row.socketId,
        userId: row.userId,
        rooms: row.rooms,
        expiresAt: row.expiresAt,
      },
    })
}

/** Reads and deletes a session in one statement: a pid resumes at most once. */
export async function takeSocketSession(
  db: Db,
  pid: string
): Promise<SocketSessionRow | undefined> {
  const [row] = await db.delete(socketSessions).where(eq(socketSessions.pid, pid)).returning()
  return row
}
