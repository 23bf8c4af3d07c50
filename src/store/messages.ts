/**
 * @module Message rows: lookups, edits, soft delete, and history pages in (room, seq) order. New
 * messages are inserted by the group writer (store/write-batch.ts), which gives out their seqs.
 */
import {
  and,
  asc,
  count,
  desc,
  eq,
  getTableColumns,
  gt,
  inArray,
  isNull,
  lt,
  max,
  ne,
  or,
  type Placeholder,
  type SQL,
  sql,
} from 'drizzle-orm'
import { type Db, writeTogether } from './db.ts'
import type { ReactionSummary } from './reactions.ts'
import { type MessageRow, messages, notifications, offsetFloor, reports, users } from './schema.ts'

interface AuthorRow {
  id: string
  username: string
  fullName: string
  profilePhotoUrl: string | null
}

/**
 * A message as the domain sees it; its seq (store order) matters only to the store and recovery.
 * `reactions`, when read (store/reactions.ts), as one viewer sees them; absent: none.
 * `replyToDeleted`: the message it replies to was deleted or purged by retention (read rows only).
 */
export type MessageWithAuthor = Omit<MessageRow, 'seq'> & {
  author: AuthorRow
  replyToDeleted?: boolean
  reactions?: ReactionSummary[] | undefined
}

export type NewMessageRow = typeof messages.$inferInsert

/**
 * A room: a city or a private chat, the one reference the code passes around (chat/rooms.ts holds
 * its vocabulary: topic, event names, the contract's `{ cityId } | { chatId }`). Exactly one of a
 * message's `city_id` / `chat_id` names it.
 */
export interface RoomRef {
  kind: 'city' | 'chat'
  id: string
}

const AUTHOR_COLUMNS = {
  id: users.id,
  username: users.username,
  fullName: users.fullName,
  profilePhotoUrl: users.profilePhotoUrl,
}

/** The room's messages; the id may be a placeholder (a prepared query's parameter). */
export function roomCondition(room: { kind: RoomRef['kind']; id: string | Placeholder }) {
  return room.kind === 'city' ? eq(messages.cityId, room.id) : eq(messages.chatId, room.id)
}

/**
 * What `viewerId` may read: every message but those sent shadowed by someone else (only their
 * author sees those, chat/moderation.ts).
 */
export function visibleTo(viewerId: string | Placeholder) {
  return or(eq(messages.shadowed, false), eq(messages.authorId, viewerId))
}

/** A reply whose parent is a tombstone or gone (retention): one index lookup, replies only. */
const REPLY_TO_DELETED = sql<number>`(${messages.replyTo} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages AS parent WHERE parent.id = ${messages.replyTo} AND parent.is_deleted = 0))`

/** Messages joined with their authors; `flatten` turns a row into a MessageWithAuthor. */
export function selectWithAuthor(db: Db) {
  return db
    .select({ message: messages, author: AUTHOR_COLUMNS, replyToDeleted: REPLY_TO_DELETED })
    .from(messages)
    .innerJoin(users, eq(users.id, messages.authorId))
}

export const flatten = (row: {
  message: MessageRow
  author: AuthorRow
  replyToDeleted: number | boolean
}): MessageWithAuthor & { seq: number } => ({
  ...row.message,
  author: row.author,
  ...(row.replyToDeleted ? { replyToDeleted: true } : {}),
})

/** The message's columns in the order `selectWithAuthor` selects them, its author's next. */
const MESSAGE_COLUMNS = Object.entries(getTableColumns(messages))
const AUTHOR_AT = MESSAGE_COLUMNS.length

/**
 * A `selectWithAuthor` row read as an array (a query's `values()`), built into what `flatten`
 * builds from Drizzle's own row, without its generic per-field mapping (path walks, entity
 * checks and a nested object to spread again): a replay reads up to a thousand of them before
 * it can answer CONNECT. Each column still decodes through its own Drizzle column (booleans,
 * JSON), so both drivers give the same records.
 */
export function fromValues(row: readonly unknown[]): MessageWithAuthor & { seq: number } {
  const message: Record<string, unknown> = {}
  for (let i = 0; i < AUTHOR_AT; i++) {
    const [key, column] = MESSAGE_COLUMNS[i] as (typeof MESSAGE_COLUMNS)[number]
    const value = row[i]
    message[key] = value === null ? null : column.mapFromDriverValue(value)
  }
  message.author = {
    id: row[AUTHOR_AT],
    username: row[AUTHOR_AT + 1],
    fullName: row[AUTHOR_AT + 2],
    profilePhotoUrl: row[AUTHOR_AT + 3],
  }
  if (row[AUTHOR_AT + 4]) message.replyToDeleted = true
  return message as MessageWithAuthor & { seq: number }
}

export async function findMessageById(db: Db, id: string): Promise<MessageWithAuthor | undefined> {
  const [row] = await selectWithAuthor(db).where(eq(messages.id, id)).limit(1)
  return row && flatten(row)
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
  /** Seqs of the cursor messages (see messageSeq). */
  beforeSeq?: number | undefined
  afterSeq?: number | undefined
  limit: number
  /** Whose page it is: others' shadowed messages are left out. */
  viewerId: string
}

/** The seq of message `id` in `room`: the position history cursors stand for. */
export async function messageSeq(db: Db, room: RoomRef, id: string): Promise<number | undefined> {
  const [row] = await db
    .select({ seq: messages.seq })
    .from(messages)
    .where(and(roomCondition(room), eq(messages.id, id)))
  return row?.seq
}

/**
 * One page of a room's history, oldest first, in commit order (seq). Without `afterSeq` it is the
 * newest `limit` messages before `beforeSeq` (or the newest overall); with `afterSeq` it is the
 * oldest `limit` messages after it (and before `beforeSeq` if given). `hasMore` says whether more
 * exist in the direction of travel.
 */
export function listRoomMessages(
  db: Db,
  room: RoomRef,
  options: PageOptions
): Promise<{ messages: MessageWithAuthor[]; hasMore: boolean }> {
  return pageBySeq(db, roomCondition(room), options)
}

/** One page of the visible messages that `scope` selects, in seq order (see listRoomMessages). */
async function pageBySeq(
  db: Db,
  scope: SQL | undefined,
  { beforeSeq, afterSeq, limit, viewerId }: PageOptions
): Promise<{ messages: MessageWithAuthor[]; hasMore: boolean }> {
  const forward = afterSeq !== undefined
  const where = and(
    scope,
    visibleTo(viewerId),
    beforeSeq === undefined ? undefined : lt(messages.seq, beforeSeq),
    forward ? gt(messages.seq, afterSeq) : undefined
  )
  const rows = await selectWithAuthor(db)
    .where(where)
    .orderBy(forward ? asc(messages.seq) : desc(messages.seq))
    .limit(limit + 1)
  const hasMore = rows.length > limit
  const page = rows.slice(0, limit).map(flatten)
  if (!forward) page.reverse()
  return { messages: page, hasMore }
}

/** The newest message of each chat, by chat id. */
export async function lastMessagesOfChats(
  db: Db,
  chatIds: readonly string[]
): Promise<Map<string, MessageWithAuthor>> {
  if (chatIds.length === 0) return new Map()
  const newest = db
    .select({ seq: max(messages.seq) })
    .from(messages)
    .where(inArray(messages.chatId, [...chatIds]))
    .groupBy(messages.chatId)
  const rows = await selectWithAuthor(db).where(inArray(messages.seq, newest))
  return new Map(rows.map((row) => [row.message.chatId ?? '', flatten(row)]))
}

export async function latestMessageId(db: Db, room: RoomRef): Promise<string | null> {
  const [row] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(roomCondition(room))
    .orderBy(desc(messages.seq))
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
    .set({ content: '', mediaUrl: null, attachment: null, isDeleted: true, deletedAt })
    .where(eq(messages.id, id))
}

/**
 * Messages after the read position `lastReadMessageId` (all without one), by others, not deleted.
 * A read position retention purged counts from the room's start: every older message went first.
 */
function unreadIn(db: Db, room: RoomRef, userId: string, lastReadMessageId: string | null) {
  const readSeq = db
    .select({ seq: messages.seq })
    .from(messages)
    .where(eq(messages.id, lastReadMessageId ?? ''))
  return and(
    roomCondition(room),
    ne(messages.authorId, userId),
    eq(messages.isDeleted, false),
    lastReadMessageId ? gt(messages.seq, sql`coalesce((${readSeq}), 0)`) : undefined
  )
}

/** How many messages in the room the user has not read. */
export async function countUnreadMessages(
  db: Db,
  room: RoomRef,
  userId: string,
  lastReadMessageId: string | null
): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(messages)
    .where(unreadIn(db, room, userId, lastReadMessageId))
  return row?.n ?? 0
}

/**
 * How many unread messages in the room mention the user (walks only messages that mention
 * someone: messages_mentions_idx).
 */
export async function countUnreadMentions(
  db: Db,
  room: RoomRef,
  userId: string,
  lastReadMessageId: string | null
): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(messages)
    .where(
      and(
        room.kind === 'chat' ? isNull(messages.cityId) : undefined,
        sql`${messages.mentions} IS NOT NULL`,
        unreadIn(db, room, userId, lastReadMessageId),
        sql`EXISTS (SELECT 1 FROM json_each(${messages.mentions}) WHERE value = ${userId})`
      )
    )
  return row?.n ?? 0
}

/** A message as retention weighs it: its place, its age, whether the log may hold an edit of it. */
export interface AgedMessage {
  seq: number
  id: string
  createdAt: number
  editedAt: number | null
}

/** The columns of an AgedMessage, for selecting them. */
export const AGED_COLUMNS = {
  seq: messages.seq,
  id: messages.id,
  createdAt: messages.createdAt,
  editedAt: messages.editedAt,
}

/** The room's oldest messages, in seq order (retention walks a room from its start). */
export async function oldestMessages(db: Db, room: RoomRef, limit: number): Promise<AgedMessage[]> {
  return db
    .select(AGED_COLUMNS)
    .from(messages)
    .where(roomCondition(room))
    .orderBy(asc(messages.seq))
    .limit(limit)
}

/**
 * Private chats after `afterId` (id order) whose oldest message is older than `before`: one index
 * seek per chat, `limit` chats at most.
 */
export async function chatsWithMessagesBefore(
  db: Db,
  before: number,
  afterId: string,
  limit: number
): Promise<{ ids: string[]; scannedTo: string | null }> {
  const rows = (await db.all(sql`SELECT c.id AS id, (SELECT m.created_at FROM messages AS m
    WHERE m.chat_id = c.id ORDER BY m.seq LIMIT 1) AS oldest FROM chats AS c WHERE c.id > ${afterId}
    ORDER BY c.id LIMIT ${limit}`)) as { id: string; oldest: number | null }[]
  return {
    ids: rows.filter((row) => row.oldest !== null && row.oldest < before).map((row) => row.id),
    scannedTo: rows.length < limit ? null : (rows[rows.length - 1]?.id ?? null),
  }
}

/**
 * Deletes messages for good (retention), with what names them: their search index entries, their
 * notifications and reports, in one transaction. The offset floor rises in it too: a purged seq
 * is never given out again. The index entries go by one FTS5 'delete' over the slice's rows (no
 * per-row trigger: 0024), read from the rows themselves just before they go, so an entry leaves
 * exactly when its row does (a second 'delete' of the same entry would corrupt the index).
 */
export async function purgeMessages(db: Db, purged: readonly AgedMessage[]): Promise<void> {
  if (purged.length === 0) return
  const seqs = purged.map((row) => row.seq)
  const ids = purged.map((row) => row.id)
  const top = Math.max(...seqs)
  const seqList = sql.join(
    seqs.map((seq) => sql`${seq}`),
    sql`, `
  )
  await writeTogether(db, [
    db
      .update(offsetFloor)
      .set({ value: sql`max(${offsetFloor.value}, ${top})` })
      .where(eq(offsetFloor.id, 1)),
    db.delete(notifications).where(inArray(notifications.messageId, ids)),
    db.delete(reports).where(inArray(reports.messageId, ids)),
    sql`INSERT INTO messages_fts (messages_fts, rowid, content, scope)
      SELECT 'delete', seq, content, scope FROM messages_search_source WHERE seq IN (${seqList})`,
    db.delete(messages).where(inArray(messages.seq, seqs)),
  ])
}

/**
 * One page of a thread: the messages replying to `parentId`, oldest first, paged like a room's
 * history (messages_reply_idx walks them in seq order).
 */
export function listReplies(
  db: Db,
  parentId: string,
  options: PageOptions
): Promise<{ messages: MessageWithAuthor[]; hasMore: boolean }> {
  return pageBySeq(db, eq(messages.replyTo, parentId), options)
}

/** The seq of reply `id` of `parentId` (a thread page's cursor). */
export async function replySeq(db: Db, parentId: string, id: string): Promise<number | undefined> {
  const [row] = await db
    .select({ seq: messages.seq })
    .from(messages)
    .where(and(eq(messages.replyTo, parentId), eq(messages.id, id)))
  return row?.seq
}

/** Everyone who replied to `parentId` (not shadowed), once each. */
export async function repliersOf(db: Db, parentId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ authorId: messages.authorId })
    .from(messages)
    .where(and(eq(messages.replyTo, parentId), eq(messages.shadowed, false)))
  return rows.map((row) => row.authorId)
}
