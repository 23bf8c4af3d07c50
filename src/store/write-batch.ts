/**
 * @module Write batches: the hot writes (a new message with its room-log row, or a room-log row
 * alone) as plain data, and the bun:sqlite code that commits a batch of them in one transaction.
 * Plain data so a batch can cross to the writer thread (store/writer-thread.ts) unchanged.
 */
import type { Database as BunDatabase, Statement } from 'bun:sqlite'
import type { NewMessageRow } from './messages.ts'

/** One row of the room event log; its id is the recovery offset clients get. */
export interface LogRow {
  room: string
  /** The socket packet as JSON, `[event, ...args]`. */
  packet: string
  createdAt: number
}

/** A message insert (skipped on a clientId conflict) and/or a log row, committed together. */
export interface WriteOp {
  message: MessageValues | null
  /** Written only when the message was stored (or when there is no message). */
  log: LogRow | null
}

/** What one op did: `stored` false means the author's clientId was already used (nothing written). */
export type WriteResult = { stored: boolean; offset: number | null } | { error: string }

/** The message columns in INSERT_MESSAGE order. */
type MessageValues = [
  id: string,
  cityId: string | null,
  chatId: string | null,
  authorId: string,
  content: string,
  messageType: string,
  mediaUrl: string | null,
  replyTo: string | null,
  clientId: string | null,
  createdAt: number,
]

export function messageValues(row: NewMessageRow): MessageValues {
  return [
    row.id,
    row.cityId ?? null,
    row.chatId ?? null,
    row.authorId,
    row.content,
    row.messageType ?? 'text',
    row.mediaUrl ?? null,
    row.replyTo ?? null,
    row.clientId ?? null,
    row.createdAt,
  ]
}

const INSERT_MESSAGE = `INSERT INTO messages (id, city_id, chat_id, author_id, content, message_type,
  media_url, reply_to, client_id, is_edited, is_deleted, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?) ON CONFLICT DO NOTHING`
const INSERT_EVENT = 'INSERT INTO room_events (room, packet, created_at) VALUES (?, ?, ?)'

/**
 * Commits batches on one bun:sqlite connection: the whole batch in one transaction; when that
 * fails (one bad row, e.g. a foreign key), each op again in its own, so only the bad one fails.
 * @example const commit = createBatchCommitter(sqlite); const [result] = commit([{ message, log }])
 */
export function createBatchCommitter(sqlite: BunDatabase): (ops: WriteOp[]) => WriteResult[] {
  // Prepared lazily: the tables exist only after migrations ran.
  let insertMessage: Statement | undefined
  let insertEvent: Statement | undefined
  const run = (op: WriteOp): WriteResult => {
    if (op.message) {
      insertMessage ??= sqlite.prepare(INSERT_MESSAGE)
      if (insertMessage.run(...op.message).changes === 0) return { stored: false, offset: null }
    }
    if (!op.log) return { stored: true, offset: null }
    insertEvent ??= sqlite.prepare(INSERT_EVENT)
    const { room, packet, createdAt } = op.log
    return {
      stored: true,
      offset: Number(insertEvent.run(room, packet, createdAt).lastInsertRowid),
    }
  }
  const transaction = sqlite.transaction((ops: WriteOp[]) => ops.map(run))
  return (ops) => {
    try {
      return transaction(ops)
    } catch {
      return ops.map((op) => {
        try {
          return transaction([op])[0] as WriteResult
        } catch (error) {
          return { error: error instanceof Error ? error.message : String(error) }
        }
      })
    }
  }
}
