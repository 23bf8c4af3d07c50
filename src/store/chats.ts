/** @module Private chat rows and their members (role, read position). */
import { and, count, eq, gt, inArray, ne, sql } from 'drizzle-orm'
import { type Db, writeTogether } from './db.ts'
import {
  type ChatMemberRow,
  type ChatRole,
  type ChatRow,
  chatMembers,
  chats,
  messages,
} from './schema.ts'

export async function insertChat(
  db: Db,
  chat: typeof chats.$inferInsert,
  members: Array<{ userId: string; role: ChatRole }>
): Promise<void> {
  // No transaction: bun:sqlite's Drizzle transactions are synchronous only. The chat row goes
  // first and the members in one multi-row statement; members were validated beforehand.
  await db.insert(chats).values(chat)
  await addChatMembers(db, chat.id, members, chat.createdAt)
}

export async function findChatById(db: Db, id: string): Promise<ChatRow | undefined> {
  const [row] = await db.select().from(chats).where(eq(chats.id, id)).limit(1)
  return row
}

export async function findChatMember(
  db: Db,
  chatId: string,
  userId: string
): Promise<ChatMemberRow | undefined> {
  const [row] = await db
    .select()
    .from(chatMembers)
    .where(and(eq(chatMembers.chatId, chatId), eq(chatMembers.userId, userId)))
    .limit(1)
  return row
}

export async function listChatMembers(
  db: Db,
  chatIds: readonly string[]
): Promise<ChatMemberRow[]> {
  if (chatIds.length === 0) return []
  return db
    .select()
    .from(chatMembers)
    .where(inArray(chatMembers.chatId, [...chatIds]))
    .orderBy(chatMembers.joinedAt)
}

export async function listChatIdsForUser(db: Db, userId: string): Promise<string[]> {
  const rows = await db
    .select({ chatId: chatMembers.chatId })
    .from(chatMembers)
    .where(eq(chatMembers.userId, userId))
  return rows.map((row) => row.chatId)
}

export async function findChatsByIds(db: Db, ids: readonly string[]): Promise<ChatRow[]> {
  if (ids.length === 0) return []
  return db
    .select()
    .from(chats)
    .where(inArray(chats.id, [...ids]))
}

/** Adds members, ignoring ones already present. */
export async function addChatMembers(
  db: Db,
  chatId: string,
  members: Array<{ userId: string; role: ChatRole }>,
  now: number
): Promise<void> {
  if (members.length === 0) return
  await db
    .insert(chatMembers)
    .values(members.map((member) => ({ chatId, ...member, joinedAt: now })))
    .onConflictDoNothing()
}

export async function removeChatMember(db: Db, chatId: string, userId: string): Promise<boolean> {
  const rows = await db
    .delete(chatMembers)
    .where(and(eq(chatMembers.chatId, chatId), eq(chatMembers.userId, userId)))
    .returning({ userId: chatMembers.userId })
  return rows.length === 1
}

export async function setChatMemberRole(
  db: Db,
  chatId: string,
  userId: string,
  role: ChatRole
): Promise<void> {
  await db
    .update(chatMembers)
    .set({ role })
    .where(and(eq(chatMembers.chatId, chatId), eq(chatMembers.userId, userId)))
}

export async function setReadPosition(
  db: Db,
  chatId: string,
  userId: string,
  messageId: string | null,
  readAt: number
): Promise<void> {
  await db
    .update(chatMembers)
    .set({ lastReadMessageId: messageId, lastReadAt: readAt })
    .where(and(eq(chatMembers.chatId, chatId), eq(chatMembers.userId, userId)))
}

/** Messages after the member's read position, not their own and not deleted. */
export async function countUnread(
  db: Db,
  chatId: string,
  userId: string,
  lastReadMessageId: string | null
): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(messages)
    .where(
      and(
        eq(messages.chatId, chatId),
        ne(messages.authorId, userId),
        eq(messages.isDeleted, false),
        lastReadMessageId
          ? gt(
              messages.seq,
              db
                .select({ seq: messages.seq })
                .from(messages)
                .where(eq(messages.id, lastReadMessageId))
            )
          : undefined
      )
    )
  return row?.n ?? 0
}

/**
 * Deletes the chat and, by cascade, its messages: their search index entries go first, in the
 * same transaction (no trigger takes a deleted row out of the index: 0024).
 */
export async function deleteChat(db: Db, chatId: string): Promise<void> {
  await writeTogether(db, [
    sql`INSERT INTO messages_fts (messages_fts, rowid, content, scope)
      SELECT 'delete', seq, content, scope FROM messages_search_source
      WHERE seq IN (SELECT seq FROM messages WHERE chat_id = ${chatId})`,
    db.delete(chats).where(eq(chats.id, chatId)),
  ])
}
