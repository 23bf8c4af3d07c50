/**
 * @module Reaction rows: add (at most one per user, emoji and message, and a bounded number of
 * distinct emojis per message, in one statement), remove, count, and the summaries of a page of
 * messages in one query.
 */
import { and, eq, sql } from 'drizzle-orm'
import type { Db } from './db.ts'
import { messageReactions } from './schema.ts'

/** One emoji on one message as a viewer sees it: how many, and the first users (by time). */
export interface ReactionSummary {
  emoji: string
  count: number
  userIds: string[]
}

export interface NewReaction {
  messageId: string
  emoji: string
  userId: string
  shadowed: boolean
  createdAt: number
}

/** The one row of `userId`'s `emoji` on the message. */
const isReactionOf = (messageId: string, emoji: string, userId: string) =>
  and(
    eq(messageReactions.messageId, messageId),
    eq(messageReactions.emoji, emoji),
    eq(messageReactions.userId, userId)
  )

/**
 * Adds the reaction unless the user has it already (`exists`) or the message has `maxEmojis`
 * other emojis already (`full`). One statement, so concurrent adds never pass the bound.
 */
export async function addReaction(
  db: Db,
  reaction: NewReaction,
  maxEmojis: number
): Promise<'added' | 'exists' | 'full'> {
  const { messageId, emoji, userId, shadowed, createdAt } = reaction
  const inserted = await db.all(sql`INSERT INTO message_reactions
    (message_id, emoji, user_id, shadowed, created_at)
    SELECT ${messageId}, ${emoji}, ${userId}, ${shadowed ? 1 : 0}, ${createdAt}
    WHERE EXISTS (SELECT 1 FROM message_reactions WHERE message_id = ${messageId} AND emoji = ${emoji})
       OR (SELECT count(DISTINCT emoji) FROM message_reactions WHERE message_id = ${messageId}) < ${maxEmojis}
    ON CONFLICT DO NOTHING RETURNING user_id`)
  if (inserted.length === 1) return 'added'
  const [row] = await db
    .select({ userId: messageReactions.userId })
    .from(messageReactions)
    .where(isReactionOf(messageId, emoji, userId))
  return row ? 'exists' : 'full'
}

/** Removes the user's reaction; false when there was none. */
export async function removeReaction(
  db: Db,
  messageId: string,
  emoji: string,
  userId: string
): Promise<boolean> {
  const removed = await db
    .delete(messageReactions)
    .where(isReactionOf(messageId, emoji, userId))
    .returning({ userId: messageReactions.userId })
  return removed.length > 0
}

/** How many users reacted with `emoji`: everyone's that are not shadowed, plus `viewerId`'s own. */
export async function countReaction(
  db: Db,
  messageId: string,
  emoji: string,
  viewerId?: string
): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(messageReactions)
    .where(
      and(
        eq(messageReactions.messageId, messageId),
        eq(messageReactions.emoji, emoji),
        sql`(${messageReactions.shadowed} = 0 OR ${messageReactions.userId} = ${viewerId ?? ''})`
      )
    )
  return Number(row?.n ?? 0)
}

/**
 * The reactions of these messages as `viewerId` sees them (others' shadowed ones left out), by
 * message id, each sorted by count (then by first reaction), with at most `usersPerEmoji` user
 * ids (the first to react). One query for a whole page.
 */
export async function reactionsOfMessages(
  db: Db,
  messageIds: readonly string[],
  viewerId: string,
  usersPerEmoji: number
): Promise<Map<string, ReactionSummary[]>> {
  const found = new Map<string, ReactionSummary[]>()
  if (messageIds.length === 0) return found
  const ids = sql.join(
    messageIds.map((id) => sql`${id}`),
    sql`, `
  )
  const rows = (await db.all(sql`SELECT message_id AS messageId, emoji, user_id AS userId, n, first
    FROM (SELECT message_id, emoji, user_id,
        count(*) OVER (PARTITION BY message_id, emoji) AS n,
        min(created_at) OVER (PARTITION BY message_id, emoji) AS first,
        row_number() OVER (PARTITION BY message_id, emoji ORDER BY created_at, user_id) AS rank
      FROM message_reactions
      WHERE message_id IN (${ids}) AND (shadowed = 0 OR user_id = ${viewerId}))
    WHERE rank <= ${usersPerEmoji}
    ORDER BY message_id, n DESC, first, emoji, rank`)) as {
    messageId: string
    emoji: string
    userId: string
    n: number
  }[]
  for (const row of rows) {
    let list = found.get(row.messageId)
    if (!list) {
      list = []
      found.set(row.messageId, list)
    }
    const last = list[list.length - 1]
    if (last && last.emoji === row.emoji) last.userIds.push(row.userId)
    else list.push({ emoji: row.emoji, count: Number(row.n), userIds: [row.userId] })
  }
  return found
}
