/**
 * @module Recovery rows: the room event log (offsets are its ids) and dropped socket sessions,
 * both in the database so a reconnect after a server restart still resumes exactly.
 */
import { and, asc, desc, eq, gt, inArray, lt, lte, max, min } from 'drizzle-orm'
import type { Db } from './db.ts'
import { roomEvents, socketSessions } from './schema.ts'

export type SocketSessionRow = typeof socketSessions.$inferSelect

/**
 * Log rows of `rooms` after `afterId`, oldest first, at most `limit` of them (ask for one more
 * than you can replay to learn whether the gap is too large).
 */
export async function listRoomEventsAfter(
  db: Db,
  rooms: readonly string[],
  afterId: number,
  limit: number
): Promise<{ id: number; room: string; packet: string | null; messageId: string | null }[]> {
  if (rooms.length === 0) return []
  return db
    .select({
      id: roomEvents.id,
      room: roomEvents.room,
      packet: roomEvents.packet,
      messageId: roomEvents.messageId,
    })
    .from(roomEvents)
    .where(and(inArray(roomEvents.room, [...rooms]), gt(roomEvents.id, afterId)))
    .orderBy(asc(roomEvents.id))
    .limit(limit)
}

/** The newest offset, 0 for an empty log. */
export async function latestRoomEventId(db: Db): Promise<number> {
  const [row] = await db
    .select({ id: roomEvents.id })
    .from(roomEvents)
    .orderBy(desc(roomEvents.id))
    .limit(1)
  return row?.id ?? 0
}

/**
 * Log rows one prune statement deletes (about 5 ms). Under sustained load a prune has millions of
 * rows to delete (a minute of messages), which in one statement stalled the event loop for seconds.
 */
const PRUNE_SLICE_ROWS = 5_000

/**
 * Forgets log rows up to `upToId`, except the newest (ids are rowids: an emptied table would start
 * again from 1), a slice at a time with the event loop's other work between slices; then sessions
 * expired by `now`.
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
