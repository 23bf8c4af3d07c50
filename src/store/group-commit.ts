/**
 * @module Group commit: the hot writes (new messages, room event log rows) are queued and written
 * together in one transaction, and every caller's promise resolves only after that COMMIT, so
 * nothing is acknowledged or broadcast before it is durable. One transaction per batch instead of
 * one per row is what lets SQLite take tens of thousands of messages a second.
 *
 * A batch is flushed on the next turn of the event loop (everything that arrived meanwhile, e.g.
 * all frames of one TCP read, goes together), or at once when `maxBatch` rows are waiting. Rows
 * keep their queue order, so room event ids (recovery offsets) are assigned in the order callers
 * asked, and callers are resolved in that order too. When a batch fails (one bad row), each of its
 * rows is retried in its own transaction so only the bad one fails.
 */
import type { Database as BunDatabase, Statement } from 'bun:sqlite'
import type { Db } from './db.ts'
import { insertMessage, type NewMessageRow } from './messages.ts'
import { appendRoomEvent } from './recovery.ts'

export interface GroupWriter {
  /** Stores a message; false when this author already used its clientId (nothing stored). */
  insertMessage(row: NewMessageRow): Promise<boolean>
  /** Appends to the room event log; the row id is the recovery offset. */
  appendRoomEvent(room: string, packet: string, createdAt: number): Promise<number>
  /** Writes whatever is queued now (shutdown). */
  flush(): void
}

type Op =
  | { kind: 'message'; row: NewMessageRow; resolve(value: boolean): void; reject(e: unknown): void }
  | {
      kind: 'event'
      room: string
      packet: string
      createdAt: number
      resolve(value: number): void
      reject(e: unknown): void
    }

const INSERT_MESSAGE = `INSERT INTO messages (id, city_id, chat_id, author_id, content, message_type,
  media_url, reply_to, client_id, is_edited, is_deleted, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?) ON CONFLICT DO NOTHING`
const INSERT_EVENT = 'INSERT INTO room_events (room, packet, created_at) VALUES (?, ?, ?)'

/**
 * The bun:sqlite writer (synchronous driver: one flush is one `db.transaction`).
 * @example const writer = createGroupWriter(sqlite); const stored = await writer.insertMessage(row)
 */
export function createGroupWriter(sqlite: BunDatabase, maxBatch = 1_024): GroupWriter {
  let insertMessageStmt: Statement | undefined
  let insertEventStmt: Statement | undefined
  let queue: Op[] = []
  let scheduled = false

  // Prepared lazily: the tables exist only after migrations ran.
  const run = (op: Op): boolean | number => {
    if (op.kind === 'message') {
      insertMessageStmt ??= sqlite.prepare(INSERT_MESSAGE)
      const r = op.row
      return (
        insertMessageStmt.run(
          r.id,
          r.cityId ?? null,
          r.chatId ?? null,
          r.authorId,
          r.content,
          r.messageType ?? 'text',
          r.mediaUrl ?? null,
          r.replyTo ?? null,
          r.clientId ?? null,
          r.createdAt
        ).changes > 0
      )
    }
    insertEventStmt ??= sqlite.prepare(INSERT_EVENT)
    return Number(insertEventStmt.run(op.room, op.packet, op.createdAt).lastInsertRowid)
  }
  const transaction = sqlite.transaction((ops: Op[]) => ops.map(run))

  function settle(op: Op, value: boolean | number): void {
    if (op.kind === 'message') op.resolve(value as boolean)
    else op.resolve(value as number)
  }

  function flush(): void {
    scheduled = false
    const batch = queue
    if (batch.length === 0) return
    queue = []
    let results: (boolean | number)[]
    try {
      results = transaction(batch)
    } catch {
      // One row broke the batch (a foreign key, a check): the others must not fail with it.
      for (const op of batch) {
        try {
          settle(op, transaction([op])[0] as boolean | number)
        } catch (error) {
          op.reject(error)
        }
      }
      return
    }
    // Committed: now, and in queue order, the callers may acknowledge and publish.
    for (let i = 0; i < batch.length; i++) settle(batch[i] as Op, results[i] as boolean | number)
  }

  function enqueue(op: Op): void {
    queue.push(op)
    if (queue.length >= maxBatch) flush()
    else if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }

  return {
    insertMessage: (row) =>
      new Promise((resolve, reject) => enqueue({ kind: 'message', row, resolve, reject })),
    appendRoomEvent: (room, packet, createdAt) =>
      new Promise((resolve, reject) =>
        enqueue({ kind: 'event', room, packet, createdAt, resolve, reject })
      ),
    flush,
  }
}

/**
 * The libSQL writer: each write is its own statement through Drizzle, one after another so event
 * ids still follow call order. (libSQL's round trips are the cost there, not SQLite commits.)
 */
export function createDirectWriter(db: Db): GroupWriter {
  let chain: Promise<unknown> = Promise.resolve()
  const inOrder = <T>(write: () => Promise<T>): Promise<T> => {
    const next = chain.then(write)
    chain = next.catch(() => {})
    return next
  }
  return {
    insertMessage: (row) => inOrder(async () => (await insertMessage(db, row)) !== undefined),
    appendRoomEvent: (room, packet, createdAt) =>
      inOrder(() => appendRoomEvent(db, room, packet, createdAt)),
    flush() {},
  }
}
