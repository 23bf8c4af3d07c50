/**
 * @module Erasure rows and the writes an erasure is made of: the profile anonymised, the rows
 * keyed by the user deleted, the username held (by hash), message content blanked an offset range
 * at a time, the copies in the room event log and the webhook outbox scrubbed a slice at a time,
 * and the freed pages pushed out of the WAL (the connection runs with `secure_delete`, store/db.ts).
 */
import { and, eq, gt, inArray, lt, lte, max, ne, or, sql } from 'drizzle-orm'
import type { Db } from './db.ts'
import {
  cityReads,
  type ErasureRow,
  emailTokens,
  erasures,
  messageReactions,
  messages,
  nodeUsers,
  notificationSettings,
  notifications,
  refreshTokens,
  reports,
  roomEvents,
  sessions,
  socketSessions,
  userBlocks,
  usernameHolds,
  users,
  webhookOutbox,
} from './schema.ts'

export type NewErasure = typeof erasures.$inferInsert

/** False when the user already has an erasure (running or done). */
export async function insertErasure(db: Db, row: NewErasure): Promise<boolean> {
  const inserted = await db
    .insert(erasures)
    .values(row)
    .onConflictDoNothing()
    .returning({ userId: erasures.userId })
  return inserted.length === 1
}

export async function findErasure(db: Db, userId: string): Promise<ErasureRow | undefined> {
  const [row] = await db.select().from(erasures).where(eq(erasures.userId, userId))
  return row
}

/** An unfinished erasure nobody holds, leased to `node` by one UPDATE. */
export async function leaseErasure(
  db: Db,
  node: string,
  now: number,
  leaseUntil: number
): Promise<ErasureRow | undefined> {
  const open = and(ne(erasures.phase, 'done'), lt(erasures.leaseUntil, now))
  const [candidate] = await db
    .select({ userId: erasures.userId })
    .from(erasures)
    .where(open)
    .orderBy(erasures.startedAt)
    .limit(1)
  if (!candidate) return undefined
  const [row] = await db
    .update(erasures)
    .set({ leaseNode: node, leaseUntil })
    .where(and(eq(erasures.userId, candidate.userId), open))
    .returning()
  return row
}

/** A restarted node lets go of what it held before (its process is gone). */
export async function releaseErasuresOf(db: Db, node: string): Promise<void> {
  await db
    .update(erasures)
    .set({ leaseUntil: 0 })
    .where(and(eq(erasures.leaseNode, node), ne(erasures.phase, 'done')))
}

/** Progress, only while `node` holds it; false: it lost the lease. */
export async function saveErasure(
  db: Db,
  userId: string,
  node: string,
  changes: Partial<Omit<ErasureRow, 'userId'>>
): Promise<boolean> {
  const rows = await db
    .update(erasures)
    .set(changes)
    .where(and(eq(erasures.userId, userId), eq(erasures.leaseNode, node)))
    .returning({ userId: erasures.userId })
  return rows.length === 1
}

export async function holdUsername(db: Db, usernameHash: string, until: number): Promise<void> {
  await db
    .insert(usernameHolds)
    .values({ usernameHash, until })
    .onConflictDoUpdate({ target: usernameHolds.usernameHash, set: { until } })
}

export async function isUsernameHeld(db: Db, usernameHash: string, now: number): Promise<boolean> {
  const [row] = await db
    .select({ until: usernameHolds.until })
    .from(usernameHolds)
    .where(eq(usernameHolds.usernameHash, usernameHash))
  return row !== undefined && row.until > now
}

export async function deleteExpiredHolds(db: Db, now: number): Promise<void> {
  await db.delete(usernameHolds).where(lte(usernameHolds.until, now))
}

/** The profile, as an erased account keeps it: nothing of the person, signed in nowhere. */
export async function anonymiseUser(
  db: Db,
  userId: string,
  profile: { username: string; email: string; fullName: string },
  now: number
): Promise<void> {
  await db
    .update(users)
    .set({
      ...profile,
      passwordHash: null,
      profilePhotoUrl: null,
      externalSubject: null,
      emailVerifiedAt: null,
      lastSeenAt: null,
      isActive: false,
      updatedAt: now,
    })
    .where(eq(users.id, userId))
}

/**
 * Everything else keyed by the user: tokens, sessions (devices, addresses), mailed links, socket
 * sessions, the nodes' lists of who is online on them, read positions, settings, blocks both
 * ways, their feed, their reactions; the reasons of reports they filed are blanked (the reports
 * stay for the moderators).
 */
export async function deleteUserRows(db: Db, userId: string): Promise<void> {
  await db.delete(refreshTokens).where(eq(refreshTokens.userId, userId))
  await db.delete(sessions).where(eq(sessions.userId, userId))
  await db.delete(emailTokens).where(eq(emailTokens.userId, userId))
  await db.delete(socketSessions).where(eq(socketSessions.userId, userId))
  await db.delete(nodeUsers).where(eq(nodeUsers.userId, userId))
  await db.delete(cityReads).where(eq(cityReads.userId, userId))
  await db.delete(notificationSettings).where(eq(notificationSettings.userId, userId))
  await db
    .delete(userBlocks)
    .where(or(eq(userBlocks.blockerId, userId), eq(userBlocks.blockedId, userId)))
  await db.delete(notifications).where(eq(notifications.userId, userId))
  await db.delete(messageReactions).where(eq(messageReactions.userId, userId))
  await db.update(reports).set({ reason: '' }).where(eq(reports.reporterId, userId))
}

/**
 * Blanks the messages (content, media, mentions, clientId) and marks them deleted; a message
 * deleted before keeps its deletion time.
 */
export async function blankMessages(db: Db, ids: readonly string[], now: number): Promise<void> {
  if (ids.length === 0) return
  await db
    .update(messages)
    .set({
      content: '',
      mediaUrl: null,
      attachment: null,
      mentions: null,
      clientId: null,
      isDeleted: true,
      deletedAt: sql`coalesce(${messages.deletedAt}, ${now})`,
    })
    .where(inArray(messages.id, [...ids]))
}

export async function newestRoomEventId(db: Db): Promise<number> {
  const [row] = await db.select({ id: max(roomEvents.id) }).from(roomEvents)
  return row?.id ?? 0
}

export async function newestOutboxId(db: Db): Promise<number> {
  const [row] = await db.select({ id: max(webhookOutbox.id) }).from(webhookOutbox)
  return row?.id ?? 0
}

/**
 * Room log rows with `afterId < id <= upToId` that carry a message of the user (an edit carries
 * its content and author): deleted. Their messages are tombstones now, which recovery replays.
 */
export async function scrubRoomLog(
  db: Db,
  userId: string,
  afterId: number,
  upToId: number
): Promise<void> {
  await db
    .delete(roomEvents)
    .where(
      and(
        gt(roomEvents.id, afterId),
        lte(roomEvents.id, upToId),
        sql`json_extract(${roomEvents.packet}, '$[1].sender_id._id') = ${userId}`
      )
    )
}

/**
 * Outbox rows with `afterId < id <= upToId` naming the user (their messages, their feed): deleted,
 * delivered or not, so no copy of what they wrote is kept or sent after the erasure.
 */
export async function scrubOutbox(
  db: Db,
  userId: string,
  afterId: number,
  upToId: number
): Promise<void> {
  await db
    .delete(webhookOutbox)
    .where(
      and(
        gt(webhookOutbox.id, afterId),
        lte(webhookOutbox.id, upToId),
        sql`instr(${webhookOutbox.body}, ${userId}) > 0`
      )
    )
}

/**
 * One step of merging the search index's segments (FTS5 `merge` with a negative page count: every
 * level, as `optimize` does, but `pages` at a time). A deleted row's terms stay in the older
 * segments behind a delete marker until they are merged away; repeated until it answers false
 * (nothing left to merge), the index holds no word of a deleted message.
 */
export async function mergeSearchIndex(db: Db, pages: number): Promise<boolean> {
  const changes = async () =>
    Number(((await db.all(sql.raw('SELECT total_changes() AS n'))) as Array<{ n: number }>)[0]?.n)
  const before = await changes()
  await db.run(
    sql.raw(
      `INSERT INTO messages_fts (messages_fts, rank) VALUES ('merge', ${-Math.abs(Math.trunc(pages))})`
    )
  )
  return (await changes()) - before >= 2
}

/**
 * Copies the WAL into the database file and truncates it to nothing, so the old versions of
 * erased rows it still held are gone from disk too (the pages themselves were zeroed when freed,
 * `secure_delete`). Waits at most 100 ms for readers; false when one held it (try again later).
 */
export async function truncateWal(db: Db): Promise<boolean> {
  await db.run(sql.raw('PRAGMA busy_timeout = 100'))
  try {
    const [row] = (await db.all(sql.raw('PRAGMA wal_checkpoint(TRUNCATE)'))) as Array<
      Record<string, number> | number[]
    >
    const busy = Array.isArray(row) ? row[0] : row?.busy
    return busy === 0
  } finally {
    await db.run(sql.raw('PRAGMA busy_timeout = 5000'))
  }
}
