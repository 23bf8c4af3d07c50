/**
 * @module Write batches: the hot writes (a new message, a room-log row for an edit or delete, a
 * live socket session whose rooms changed) and the bun:sqlite code that commits a batch of them in
 * one transaction. The queueing and settling around it is store/group-commit.ts.
 *
 * Every write gets the next offset of one order shared by `messages.seq` and `room_events.id`,
 * given out inside the write transaction (so nodes sharing the database never give out one twice):
 * a new message is replayed from `messages` itself and needs no log row.
 */
import type { Database as BunDatabase, Statement } from 'bun:sqlite'
import type { NewMessageRow } from './messages.ts'
import { LATEST_OFFSET, type SocketSessionRow } from './room-stream.ts'
import { scopeOf } from './search.ts'

/** One row of the room event log; its id is the recovery offset clients get. */
export interface LogRow {
  room: string
  /** The socket packet as JSON, `[event, ...args]`. */
  packet: string
  createdAt: number
}

/**
 * A message insert (skipped on a clientId conflict), a log row, a socket session saved, or one
 * forgotten (by pid). Sessions take no offset.
 */
export type WriteOp =
  | { message: NewMessageRow; log?: never; session?: never; take?: never }
  | { message?: never; log: LogRow; session?: never; take?: never }
  | { message?: never; log?: never; session: SocketSessionRow; take?: never }
  | { message?: never; log?: never; session?: never; take: string }

/**
 * What one op did: `stored` false means the author's clientId was already used (nothing written);
 * `offset` is the stored row's seq or id.
 */
export type WriteResult =
  | { stored: true; offset: number; thread?: ThreadState | undefined }
  | { stored: false }
  | { taken: SocketSessionRow | undefined }
  | { error: string }

/** A parent message's thread after a reply was stored: its new count and newest reply's time. */
export interface ThreadState {
  replyCount: number
  lastReplyAt: number
}

/**
 * A stored reply moves its parent's thread in the same transaction (a shadowed one does not: only
 * its author sees it). Messages that reply to nothing never run it.
 */
const bumpThread = (guard: string) => `UPDATE messages SET reply_count = reply_count + 1,
  last_reply_at = max(coalesce(last_reply_at, 0), ?) WHERE id = ?${guard}
  RETURNING reply_count AS replyCount, last_reply_at AS lastReplyAt`
const BUMP_THREAD = bumpThread('')
/** For a writer that sends the insert and the bump together: only when the insert stored a row. */
export const BUMP_THREAD_IF_STORED = bumpThread(' AND changes() = 1')

/** Does storing this message move a thread? */
export const bumpsThread = (m: NewMessageRow): m is NewMessageRow & { replyTo: string } =>
  m.replyTo != null && !m.shadowed

/**
 * The hot inserts as SQL: the offset is `?` (given by the caller) or computed in the statement.
 * (`VALUES`, not `INSERT … SELECT`: 9.0 against 10.5 µs a message at 8 per commit.)
 */
const insertMessage = (offset: string) => `INSERT INTO messages (seq, id, city_id, chat_id,
  author_id, content, message_type, media_url, reply_to, client_id, is_edited, is_deleted,
  created_at, mentions, shadowed, attachment) VALUES (${offset}, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?)
  ON CONFLICT DO NOTHING`
const insertEvent = (offset: string) =>
  `INSERT INTO room_events (id, room, packet, created_at) VALUES (${offset}, ?, ?, ?)`

/** A session saved (the socket's rooms changed, or it dropped) and one forgotten. */
export const SAVE_SESSION = `INSERT INTO socket_sessions (pid, socket_id, user_id, rooms,
  expires_at, node_id) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (pid) DO UPDATE SET
  socket_id = excluded.socket_id, user_id = excluded.user_id, rooms = excluded.rooms,
  expires_at = excluded.expires_at, node_id = excluded.node_id`
/** Deletes a session and answers it, in one statement: a pid is taken at most once. */
export const TAKE_SESSION = `DELETE FROM socket_sessions WHERE pid = ? RETURNING pid,
  socket_id AS socketId, user_id AS userId, rooms, expires_at AS expiresAt, node_id AS nodeId`

/** A session's parameters, in order. */
export const sessionParams = (row: SocketSessionRow) =>
  [row.pid, row.socketId, row.userId, row.rooms, row.expiresAt, row.nodeId] as const

/** Inserts that take the next offset themselves, for writers committing one op at a time. */
export const INSERT_MESSAGE_NEXT = insertMessage(`(SELECT ${LATEST_OFFSET}) + 1`)
export const INSERT_EVENT_NEXT = insertEvent(`(SELECT ${LATEST_OFFSET}) + 1`)

/** What a message insert's parameters are bound to: a prepared statement, or a collector of them. */
interface MessageBinder<R> {
  run(offset: number, ...params: (string | number | null)[]): R
}

/**
 * `target.run(offset, ...)` with a message insert's parameters after the offset, in order: the one
 * list of the message's columns. The group writer binds them straight into its prepared insert
 * (no array per message, its hot path); messageParams collects them for the direct writer.
 */
function bindMessage<R>(target: MessageBinder<R>, offset: number, m: NewMessageRow): R {
  return target.run(
    offset,
    m.id,
    m.cityId ?? null,
    m.chatId ?? null,
    m.authorId,
    m.content,
    m.messageType ?? 'text',
    m.mediaUrl ?? null,
    m.replyTo ?? null,
    m.clientId ?? null,
    m.createdAt,
    m.mentions ?? null,
    // A shadowed author's message (chat/moderation.ts): only its author ever reads it back.
    m.shadowed ? 1 : 0,
    // An upload's metadata (chat/media.ts); text messages carry none.
    m.attachment ? JSON.stringify(m.attachment) : null
  )
}

/** Collects the parameters after the offset (INSERT_MESSAGE_NEXT computes its own). */
const PARAMS_AFTER_OFFSET: MessageBinder<(string | number | null)[]> = {
  run: (_offset, ...params) => params,
}

/** A message insert's parameters after the offset, in order. */
export const messageParams = (m: NewMessageRow) => bindMessage(PARAMS_AFTER_OFFSET, 0, m)

/**
 * A stored message enters the search index in its own transaction, from the writer (0022: half
 * the cost of a trigger). `INDEX_MESSAGE_BY_ID` is for writers that learn the offset only after
 * the insert: it indexes nothing when the insert stored nothing.
 */
const INDEX_MESSAGE = 'INSERT INTO messages_fts (rowid, content, scope) VALUES (?, ?, ?)'
export const INDEX_MESSAGE_BY_ID =
  'INSERT INTO messages_fts (rowid, content, scope) SELECT seq, content, ? FROM messages WHERE id = ?'

/** An event row's parameters after the offset, in order. */
export const eventParams = (log: LogRow) => [log.room, log.packet, log.createdAt] as const

/**
 * Commits batches on one bun:sqlite connection: the whole batch in one transaction (IMMEDIATE: it
 * reads the latest offset before writing); when that fails (one bad row, e.g. a foreign key), each
 * op again in its own, so only the bad one fails.
 * @example const commit = createBatchCommitter(sqlite); const [result] = commit([{ message }])
 */
export function createBatchCommitter(sqlite: BunDatabase): (ops: WriteOp[]) => WriteResult[] {
  // Prepared lazily: the tables exist only after migrations ran.
  let latest: Statement<{ offset: number }> | undefined
  let message: Statement | undefined
  let event: Statement | undefined
  let save: Statement | undefined
  let take: Statement<SocketSessionRow> | undefined
  let bump: Statement<ThreadState> | undefined
  let index: Statement | undefined
  const run = (op: WriteOp, offset: number): WriteResult => {
    if (op.session) {
      save ??= sqlite.prepare(SAVE_SESSION)
      save.run(...sessionParams(op.session))
      return { stored: false }
    }
    if (op.take !== undefined) {
      take ??= sqlite.prepare(TAKE_SESSION) as Statement<SocketSessionRow>
      return { taken: take.get(op.take) ?? undefined }
    }
    if (op.message) {
      message ??= sqlite.prepare(insertMessage('?'))
      const { changes } = bindMessage(message, offset, op.message)
      if (changes === 0) return { stored: false }
      index ??= sqlite.prepare(INDEX_MESSAGE)
      index.run(offset, op.message.content, scopeOf(op.message))
      if (!bumpsThread(op.message)) return { stored: true, offset }
      bump ??= sqlite.prepare(BUMP_THREAD) as Statement<ThreadState>
      const thread = bump.get(op.message.createdAt, op.message.replyTo) ?? undefined
      return { stored: true, offset, thread }
    }
    event ??= sqlite.prepare(insertEvent('?'))
    event.run(offset, op.log.room, op.log.packet, op.log.createdAt)
    return { stored: true, offset }
  }
  const transaction = sqlite.transaction((ops: WriteOp[]) => {
    latest ??= sqlite.prepare(`SELECT ${LATEST_OFFSET} AS offset`)
    let offset = (latest.get() as { offset: number }).offset
    // A message not stored (its clientId was used) takes no offset: offsets stay contiguous, so
    // a node delivering in offset order has no gap to read back (realtime/adapters/ordered.ts).
    return ops.map((op) => {
      const result = run(op, offset + 1)
      if ('stored' in result && result.stored) offset += 1
      return result
    })
  })
  return (ops) => {
    try {
      return transaction.immediate(ops)
    } catch {
      return ops.map((op) => {
        try {
          return transaction.immediate([op])[0] as WriteResult
        } catch (error) {
          return { error: error instanceof Error ? error.message : String(error) }
        }
      })
    }
  }
}
