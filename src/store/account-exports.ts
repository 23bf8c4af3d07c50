/**
 * @module Data export rows and the reads an archive is made of: the user's memberships, read
 * positions, blocks, uploads, and their messages one offset range at a time (no index on the
 * author: a slice walks `seq`, the rowid, so it costs the same whoever asks), the user's own
 * reactions on the messages of the same offset range, and the counts on their messages.
 */
import { and, asc, desc, eq, gt, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm'
import type { Db } from './db.ts'
import { flatten, type MessageWithAuthor, selectWithAuthor } from './messages.ts'
import {
  type AccountExportRow,
  accountExports,
  chatMembers,
  chats,
  cityReads,
  media,
  messagePins,
  messageReactions,
  messages,
  notificationSettings,
  userBlocks,
} from './schema.ts'

export type NewAccountExport = typeof accountExports.$inferInsert

export async function insertExport(db: Db, row: NewAccountExport): Promise<void> {
  await db.insert(accountExports).values(row)
}

/** The user's newest export, whatever its state. */
export async function newestExportOf(
  db: Db,
  userId: string
): Promise<AccountExportRow | undefined> {
  const [row] = await db
    .select()
    .from(accountExports)
    .where(eq(accountExports.userId, userId))
    .orderBy(desc(accountExports.createdAt))
    .limit(1)
  return row
}

export async function findExport(db: Db, id: string): Promise<AccountExportRow | undefined> {
  const [row] = await db.select().from(accountExports).where(eq(accountExports.id, id))
  return row
}

/**
 * A running export nobody holds (its lease ran out: a node died), or one this node held before a
 * restart, leased to `node` until `leaseUntil` by one UPDATE, so two nodes never work on one.
 */
export async function leaseRunningExport(
  db: Db,
  node: string,
  now: number,
  leaseUntil: number
): Promise<AccountExportRow | undefined> {
  const [candidate] = await db
    .select({ id: accountExports.id })
    .from(accountExports)
    .where(and(eq(accountExports.state, 'running'), free(node, now)))
    .orderBy(asc(accountExports.createdAt))
    .limit(1)
  if (!candidate) return undefined
  const [row] = await db
    .update(accountExports)
    .set({ leaseNode: node, leaseUntil })
    .where(
      and(eq(accountExports.id, candidate.id), eq(accountExports.state, 'running'), free(node, now))
    )
    .returning()
  return row
}

const free = (node: string, now: number) =>
  or(lt(accountExports.leaseUntil, now), eq(accountExports.leaseNode, node))

/** Progress (and the lease extended), only while `node` still holds it; false: it lost it. */
export async function saveExportProgress(
  db: Db,
  id: string,
  node: string,
  changes: Partial<Omit<AccountExportRow, 'id' | 'userId'>>
): Promise<boolean> {
  const rows = await db
    .update(accountExports)
    .set(changes)
    .where(and(eq(accountExports.id, id), eq(accountExports.leaseNode, node)))
    .returning({ id: accountExports.id })
  return rows.length === 1
}

/** Exports past their expiry (ready ones are deleted with their file), up to `limit`. */
export async function listExpiredExports(
  db: Db,
  now: number,
  limit: number
): Promise<AccountExportRow[]> {
  return db
    .select()
    .from(accountExports)
    .where(lte(accountExports.expiresAt, now))
    .orderBy(asc(accountExports.expiresAt))
    .limit(limit)
}

export async function listExportsOf(db: Db, userId: string): Promise<AccountExportRow[]> {
  return db.select().from(accountExports).where(eq(accountExports.userId, userId))
}

export async function deleteExport(db: Db, id: string): Promise<void> {
  await db.delete(accountExports).where(eq(accountExports.id, id))
}

/** The chats the user is a member of, with the membership. */
export async function membershipsOf(db: Db, userId: string) {
  return db
    .select({ chat: chats, member: chatMembers })
    .from(chatMembers)
    .innerJoin(chats, eq(chats.id, chatMembers.chatId))
    .where(eq(chatMembers.userId, userId))
    .orderBy(asc(chatMembers.joinedAt))
}

export async function cityReadsOf(db: Db, userId: string) {
  return db.select().from(cityReads).where(eq(cityReads.userId, userId))
}

export async function notificationSettingsOf(db: Db, userId: string) {
  return db.select().from(notificationSettings).where(eq(notificationSettings.userId, userId))
}

export async function blocksBy(db: Db, userId: string) {
  return db.select().from(userBlocks).where(eq(userBlocks.blockerId, userId))
}

/** The user's uploads that are not on their way out. */
export async function uploadsOf(db: Db, userId: string) {
  return db
    .select()
    .from(media)
    .where(and(eq(media.uploaderId, userId), isNull(media.deletedAt)))
    .orderBy(asc(media.createdAt))
}

/**
 * The author's messages with `afterSeq < seq <= upToSeq`, oldest first, at most `limit`, with
 * their seqs (the caller's next cursor).
 */
export async function messagesByAuthorBetween(
  db: Db,
  authorId: string,
  afterSeq: number,
  upToSeq: number,
  limit: number
): Promise<(MessageWithAuthor & { seq: number })[]> {
  const rows = await selectWithAuthor(db)
    .where(
      and(gt(messages.seq, afterSeq), lte(messages.seq, upToSeq), eq(messages.authorId, authorId))
    )
    .orderBy(asc(messages.seq))
    .limit(limit)
  return rows.map(flatten)
}

/** The pins the user made (at most 20 a room, so one read). */
export async function pinsBy(db: Db, userId: string) {
  return db
    .select()
    .from(messagePins)
    .where(eq(messagePins.pinnedBy, userId))
    .orderBy(asc(messagePins.pinnedAt))
}

/**
 * The user's own reactions (made by time `madeBy`) on any message (theirs or others') with
 * `afterSeq < seq <= upToSeq`, with the message's room: the same offset range as a slice of
 * messages, so reactions are read in slices on the same cursor.
 */
export async function reactionsByUserBetween(
  db: Db,
  userId: string,
  afterSeq: number,
  upToSeq: number,
  madeBy: number
) {
  return db
    .select({
      messageId: messageReactions.messageId,
      emoji: messageReactions.emoji,
      createdAt: messageReactions.createdAt,
      cityId: messages.cityId,
      chatId: messages.chatId,
    })
    .from(messages)
    .innerJoin(messageReactions, eq(messageReactions.messageId, messages.id))
    .where(
      and(
        gt(messages.seq, afterSeq),
        lte(messages.seq, upToSeq),
        eq(messageReactions.userId, userId),
        lte(messageReactions.createdAt, madeBy)
      )
    )
    .orderBy(asc(messages.seq), asc(messageReactions.createdAt), asc(messageReactions.emoji))
}

/**
 * How many reacted with each emoji to these messages (the user's): counts only, no one else's
 * id; others' shadowed reactions left out, as the user sees them. By message id, most first.
 */
export async function reactionCountsOf(
  db: Db,
  messageIds: readonly string[],
  userId: string,
  madeBy: number
): Promise<Map<string, { emoji: string; count: number }[]>> {
  const found = new Map<string, { emoji: string; count: number }[]>()
  if (messageIds.length === 0) return found
  const rows = await db
    .select({
      messageId: messageReactions.messageId,
      emoji: messageReactions.emoji,
      count: sql<number>`count(*)`,
    })
    .from(messageReactions)
    .where(
      and(
        inArray(messageReactions.messageId, [...messageIds]),
        lte(messageReactions.createdAt, madeBy),
        or(eq(messageReactions.shadowed, false), eq(messageReactions.userId, userId))
      )
    )
    .groupBy(messageReactions.messageId, messageReactions.emoji)
    .orderBy(
      asc(messageReactions.messageId),
      desc(sql`count(*)`),
      asc(sql`min(${messageReactions.createdAt})`),
      asc(messageReactions.emoji)
    )
  for (const row of rows) {
    const list = found.get(row.messageId) ?? []
    list.push({ emoji: row.emoji, count: Number(row.count) })
    found.set(row.messageId, list)
  }
  return found
}
