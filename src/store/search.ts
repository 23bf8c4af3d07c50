/**
 * @module Message search rows: the FTS5 index `messages_fts` (drizzle/0016_search_index.sql,
 * 0018_search_scope.sql, its scope tokens shortened by 0028_search_index_lean.sql; kept in step with `messages`
 * inside every writing transaction: the writers index new messages, a trigger takes edits and
 * soft deletes, the purge and a chat's deletion their rows: 0022, 0024) queried for one scope of
 * rooms, newest first.
 */
import { eq, inArray, type SQL, sql } from 'drizzle-orm'
import type { Db } from './db.ts'
import { flatten, type MessageWithAuthor, selectWithAuthor } from './messages.ts'
import { messages } from './schema.ts'

/** Marks the matched terms in `snippet` (private-use code points: no text means them). */
export const MATCH_START = '\uE000'
export const MATCH_END = '\uE001'
/** Tokens of context a snippet keeps around the matched terms (FTS5 allows up to 64). */
const SNIPPET_TOKENS = 24

export interface SearchScope {
  /**
   * The user's terms as a well-formed FTS5 expression (chat/search-query.ts builds it; never raw
   * input). It is applied to the `content` column only.
   */
  match: string
  /** Rooms to look in; a message in any other room is never read. */
  cityIds: readonly string[]
  chatIds: readonly string[]
  /** Whose search it is: others' shadowed messages are left out. */
  viewerId: string
  /** Only messages by this sender. */
  authorId?: string | undefined
  /** Only messages older than this seq (the cursor's). */
  beforeSeq?: number | undefined
  limit: number
}

export interface SearchHit {
  message: MessageWithAuthor
  /** FTS5's bm25() of the match: lower (more negative) is a better match. */
  bm25: number
  /** The matched passage, terms between MATCH_START and MATCH_END, cut with '…'. */
  snippet: string
}

/**
 * Up to this many cities (a named room, a narrow scope) the index is asked for the scope's rooms
 * by token. Past it (the default: every city) it is not: most matches are then in scope, the
 * join drops the rest, and intersecting with a token every city message holds cost more than it
 * saved (bench: p50 4 against 40 ms over 1M messages).
 */
const ROOM_TOKENS_MAX = 8

/** An id the index holds as it is: one word to unicode61, already folded (chat/user ids, most slugs). */
const PLAIN_ID = /^[a-z0-9]+$/

/** Tokens made so far, by prefix and id, for the ids that need the hex (a hyphenated slug). */
const tokens = new Map<string, string>()
const TOKENS_KEPT = 50_000

/**
 * A scope token as the index holds it: a prefix, then the id itself when it is lower-case
 * letters and digits (ids from store/ids.ts, slugs without a hyphen), else `x` and the id's UTF-8
 * in upper-case hex (SQL's hex(), so the text is byte for byte what the view computes). Two ids
 * may share a token (`x41` is both an id and the hex of `A`): that only widens what the index
 * narrows to, and the join checks the rooms and the sender again.
 */
function scopeToken(prefix: 'c' | 'h' | 'u', id: string): string {
  if (PLAIN_ID.test(id)) return prefix + id
  const key = prefix + id
  let made = tokens.get(key)
  if (made === undefined) {
    made = `${prefix}x${Buffer.from(id, 'utf8').toString('hex').toUpperCase()}`
    if (tokens.size >= TOKENS_KEPT) tokens.clear()
    tokens.set(key, made)
  }
  return made
}
const token = (prefix: 'c' | 'h' | 'u', id: string) => `"${scopeToken(prefix, id)}"`

/**
 * A new message's `scope` column, as the writer indexes it (store/write-batch.ts). The same text as
 * the view `messages_search_source` computes in SQL (0028), which a rebuild and every 'delete'
 * read.
 */
export const scopeOf = (m: { cityId?: string | null; chatId?: string | null; authorId: string }) =>
  `${m.cityId != null ? scopeToken('c', m.cityId) : scopeToken('h', m.chatId ?? '')} ${scopeToken('u', m.authorId)}`

/**
 * The MATCH expression: the user's terms in `content`, and, in `scope`, a narrow scope's rooms
 * and the sender, so that FTS5 intersects doclists instead of the join walking every match of a
 * common word to find the few in one small chat. The join below checks the rooms again: the
 * index narrows, the table decides.
 */
function matchExpression({ match, cityIds, chatIds, authorId }: SearchScope): string {
  const parts = [`content : (${match})`]
  if (cityIds.length + chatIds.length <= ROOM_TOKENS_MAX) {
    const rooms = [...cityIds.map((id) => token('c', id)), ...chatIds.map((id) => token('h', id))]
    parts.push(`scope : (${rooms.join(' OR ')})`)
  }
  if (authorId !== undefined) parts.push(`scope : ${token('u', authorId)}`)
  return parts.join(' AND ')
}

interface HitRow {
  seq: number
  bm25: number
  snippet: string
}

function roomsCondition({ cityIds, chatIds }: SearchScope): SQL {
  const parts: SQL[] = []
  if (cityIds.length > 0)
    parts.push(
      sql`m.city_id IN (${sql.join(
        cityIds.map((id) => sql`${id}`),
        sql`, `
      )})`
    )
  if (chatIds.length > 0)
    parts.push(
      sql`m.chat_id IN (${sql.join(
        chatIds.map((id) => sql`${id}`),
        sql`, `
      )})`
    )
  return sql`(${sql.join(parts, sql` OR `)})`
}

/**
 * One page of matches in the scope's rooms, newest first (seq descending: commit order), at most
 * `limit`, and whether more exist before the last one. FTS5 walks the intersection of the terms'
 * and the scope's rows from the newest end (the ORDER BY is its rowid's) and the join reads each
 * candidate's row by primary key, so a page costs about its own rows; bm25 and the snippet are
 * computed only for the rows returned.
 */
export async function searchMessages(
  db: Db,
  scope: SearchScope
): Promise<{ hits: SearchHit[]; hasMore: boolean }> {
  if (scope.cityIds.length === 0 && scope.chatIds.length === 0) return { hits: [], hasMore: false }
  const rows = await db.all<HitRow>(sql`
    SELECT messages_fts.rowid AS seq, bm25(messages_fts, 1.0, 0.0) AS bm25,
      snippet(messages_fts, 0, ${MATCH_START}, ${MATCH_END}, '…', ${SNIPPET_TOKENS}) AS snippet
    FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
    WHERE messages_fts MATCH ${matchExpression(scope)}
      ${scope.beforeSeq === undefined ? sql`` : sql`AND messages_fts.rowid < ${scope.beforeSeq}`}
      AND ${roomsCondition(scope)}
      AND m.is_deleted = 0
      AND (m.shadowed = 0 OR m.author_id = ${scope.viewerId})
      ${scope.authorId === undefined ? sql`` : sql`AND m.author_id = ${scope.authorId}`}
    ORDER BY messages_fts.rowid DESC
    LIMIT ${scope.limit + 1}`)
  const page = rows.slice(0, scope.limit)
  const seqs = page.map((row) => Number(row.seq))
  const found =
    seqs.length === 0
      ? []
      : (await selectWithAuthor(db).where(inArray(messages.seq, seqs))).map(flatten)
  const bySeq = new Map(found.map((message) => [message.seq, message]))
  const hits: SearchHit[] = []
  for (const row of page) {
    const message = bySeq.get(Number(row.seq))
    // A row deleted between the two reads is simply not a hit any more.
    if (message) hits.push({ message, bm25: Number(row.bm25), snippet: String(row.snippet) })
  }
  return { hits, hasMore: rows.length > scope.limit }
}

/** A message with its seq (a search cursor's position), if it exists. */
export async function findMessageWithSeq(
  db: Db,
  id: string
): Promise<(MessageWithAuthor & { seq: number }) | undefined> {
  const [row] = await selectWithAuthor(db).where(eq(messages.id, id)).limit(1)
  return row && flatten(row)
}
