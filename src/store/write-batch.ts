/**
 * @module Write batches: the hot writes (a new message with its room-log row, or a room-log row
 * alone) and the bun:sqlite code that commits a batch of them in one transaction. The queueing
 * and settling around it is store/group-commit.ts.
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

/** A new message's log row: it names the message, whose packet is built again on replay. */
export type MessageLogRow = Omit<LogRow, 'packet'>

/**
 * A message insert (skipped on a clientId conflict) with its log row, written only when the
 * message was stored; or a log row alone. Either way committed together.
 */
export type WriteOp =
  | { message: NewMessageRow; log: MessageLogRow | null }
  | { message: null; log: LogRow }

/** What one op did: `stored` false means the author's clientId was already used (nothing written). */
export type WriteResult = { stored: boolean; offset: number | null } | { error: string }

/** The hot inserts as SQL, shared with the libSQL writer (group-commit.ts). */
export const INSERT_MESSAGE = `INSERT INTO messages (id, city_id, chat_id, author_id, content, message_type,
  media_url, reply_to, client_id, is_edited, is_deleted, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?) ON CONFLICT DO NOTHING`
export const INSERT_EVENT =
  'INSERT INTO room_events (room, packet, message_id, created_at) VALUES (?, ?, ?, ?)'

/** INSERT_MESSAGE's parameters, in order. */
export const messageParams = (m: NewMessageRow) =>
  [
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
  ] as const

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
    const { message: m, log } = op
    if (m) {
      insertMessage ??= sqlite.prepare(INSERT_MESSAGE)
      const { changes } = insertMessage.run(...messageParams(m))
      if (changes === 0) return { stored: false, offset: null }
    }
    if (!log) return { stored: true, offset: null }
    insertEvent ??= sqlite.prepare(INSERT_EVENT)
    const { lastInsertRowid } = op.message
      ? insertEvent.run(log.room, null, op.message.id, log.createdAt)
      : insertEvent.run(log.room, op.log.packet, null, log.createdAt)
    return { stored: true, offset: Number(lastInsertRowid) }
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
