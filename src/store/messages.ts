/** @module Message rows: idempotent insert, edits, soft delete, and (room, id) cursor pages. */
import { and, asc, desc, eq, gt, inArray, lt, max } from 'drizzle-orm'
import type { Db } from './db.ts'
import { type MessageRow, messages, users } from './schema.ts'

interface AuthorRow {
  id: string
  username: string
  fullName: string
  profilePhotoUrl: string | null
}

export type MessageWithAuthor = MessageRow & { author: AuthorRow }

export type NewMessageRow = typeof messages.$inferInsert

/** A room is a city or a private chat; exactly one is set on every message. */
export type Room = { cityId: string } | { chatId: string }

const AUTHOR_COLUMNS = {
  id: users.id,
  username: users.username,
  fullName: users.fullName,
  profilePhotoUrl: users.profilePhotoUrl,
}

function roomCondition(room: Room) {
  return 'cityId' in room ? eq(messages.cityId, room.cityId) : eq(messages.chatId, room.chatId)
}

function selectWithAuthor(db: Db) {
  return db
    .select({ message: messages, author: AUTHOR_COLUMNS })
    .from(messages)
    .innerJoin(users, eq(users.id, messages.authorId))
}

const flatten = (row: { message: MessageRow; author: AuthorRow }): MessageWithAuthor => ({
  ...row.message,
  author: row.author,
})

/**
 * Inserts a message. With a clientId already used by this author, inserts nothing and returns
 * `undefined` (the unique (author_id, client_id) index decides, so concurrent retries are safe).
 */
export async function insertMessage(
  db: Db,
  message: NewMessageRow
): Promise<MessageRow | undefined> {
  const [row] = await db.insert(messages).values(message).onConflictDoNothing().returning()
  return row
}

export async function findMessageById(db: Db, id: string): Promise<MessageWithAuthor | undefined> {
  const [row] = await selectWithAuthor(db).where(eq(messages.id, id)).limit(1)
  return row && flatten(row)
}

/** The messages of `ids` that exist, in no particular order. */
export async function findMessagesByIds(
  db: Db,
  ids: readonly string[]
): Promise<MessageWithAuthor[]> {
  if (ids.length === 0) return []
  const rows = await selectWithAuthor(db).where(inArray(messages.id, [...ids]))
  return rows.map(flatten)
}

export async function findMessageByClientId(
  db: Db,
  authorId: string,
  clientId: string
): Promise<MessageWithAuthor | undefined> {
  const [row] = await selectWithAuthor(db)
    .where(and(eq(messages.authorId, authorId), eq(messages.clientId, clientId)))
    .limit(1)
  return row && flatten(row)
}

export interface PageOptions {
  before?: string | undefined
  after?: string | undefined
  limit: number
}

/**
 * One page of a room's history, oldest first. Without `after` it is the newest `limit` messages
 * older than `before` (or the newest overall); with `after` it is the oldest `limit` messages
 * newer than `after` (and older than `before` if given). `hasMore` says whether more exist in
 * the direction of travel. Ids sort by creation, so the id is the cursor.
 */
export async function listRoomMessages(
  db: Db,
  room: Room,
  { before, after, limit }: PageOptions
): Promise<{ messages: MessageWithAuthor[]; hasMore: boolean }> {
  const where = and(
    roomCondition(room),
    before ? lt(messages.id, before) : undefined,
    after ? gt(messages.id, after) : undefined
  )
  const rows = await selectWithAuthor(db)
    .where(where)
    .orderBy(after ? asc(messages.id) : desc(messages.id))
    .limit(limit + 1)
  const hasMore = rows.length > limit
  const page = rows.slice(0, limit).map(flatten)
  if (!after) page.reverse()
  return { messages: page, hasMore }
}

/** The newest message of each chat, by chat id. */
export async function lastMessagesOfChats(
  db: Db,
  chatIds: readonly string[]
): Promise<Map<string, MessageWithAuthor>> {
  if (chatIds.length === 0) return new Map()
  const newest = db
    .select({ id: max(messages.id) })
    .from(messages)
    .where(inArray(messages.chatId, [...chatIds]))
    .groupBy(messages.chatId)
  const rows = await selectWithAuthor(db).where(inArray(messages.id, newest))
  return new Map(rows.map((row) => [row.message.chatId ?? '', flatten(row)]))
}

export async function latestMessageId(db: Db, room: Room): Promise<string | null> {
  const [row] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(roomCondition(room))
    .orderBy(desc(messages.id))
    .limit(1)
  return row?.id ?? null
}

export async function updateMessageContent(
  db: Db,
  id: string,
  content: string,
  editedAt: number
): Promise<void> {
  await db.update(messages).set({ content, isEdited: true, editedAt }).where(eq(messages.id, id))
}

/** Soft delete: the row stays (replies and cursors keep working); its content is blanked. */
export async function markMessageDeleted(db: Db, id: string, deletedAt: number): Promise<void> {
  await db
    .update(messages)
    .set({ content: '', mediaUrl: null, isDeleted: true, deletedAt })
    .where(eq(messages.id, id))
}
