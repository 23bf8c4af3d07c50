/**
 * @module Group commit: the hot writes (new messages, room-log rows, live socket sessions) are
 * queued and committed together, and every caller's promise resolves only after the COMMIT that
 * holds its row, so nothing is acknowledged or broadcast before it is durable. One transaction per
 * batch instead of one per row is what lets SQLite take tens of thousands of messages a second.
 *
 * A batch is committed on the next turn of the event loop (everything that arrived meanwhile,
 * e.g. all frames of one TCP read, goes together), or at once when `maxBatch` ops are waiting.
 * A busy writer, one that committed less than `delayMs` ago, waits until `delayMs` after that
 * commit instead (PostgreSQL's commit_delay, Kafka's linger): a commit's fixed cost (the COMMIT,
 * the search index's new segment) then spreads over more messages, while an idle writer's first
 * write still commits on the next turn.
 * Ops keep their queue order, so offsets (message seqs and log ids) follow call order, and
 * callers are resolved in that order too. While held (the checkpoint thread restarting the WAL,
 * store/checkpointer.ts), ops wait in the queue and go in one batch on release.
 */
import type { Client as LibsqlClient } from '@libsql/client'
import type { NewMessageRow } from './messages.ts'
import type { SocketSessionRow } from './room-stream.ts'
import { scopeOf } from './search.ts'
import {
  BUMP_THREAD_IF_STORED,
  bumpsThread,
  eventParams,
  INDEX_MESSAGE_BY_ID,
  INSERT_EVENT_NEXT,
  INSERT_MESSAGE_NEXT,
  type LogRow,
  messageParams,
  SAVE_SESSION,
  sessionParams,
  TAKE_SESSION,
  type ThreadState,
  type WriteOp,
  type WriteResult,
} from './write-batch.ts'

/** A message insert: not stored when its author already used its clientId (nothing written). */
type StoredMessage =
  | { stored: true; offset: number; thread?: ThreadState | undefined }
  | { stored: false }

export interface GroupWriter {
  /** Stores a message; its offset (seq) orders it among every message and log row. */
  insertMessage(row: NewMessageRow): Promise<StoredMessage>
  /** Appends to the room event log; the row id is the recovery offset. */
  appendRoomEvent(log: LogRow): Promise<number>
  /** Saves a socket session (insert or replace by pid), committed with the writes around it. */
  saveSession(row: SocketSessionRow): Promise<void>
  /**
   * Deletes a socket session by pid and answers what it held, after every write queued before it
   * (a session saved on a drop is there to take, however soon the take comes).
   */
  takeSession(pid: string): Promise<SocketSessionRow | undefined>
  /** Commits whatever is queued and stops taking work (shutdown). */
  close(): Promise<void>
}

/** The bun:sqlite writer can also be held: nothing commits until the returned function is called. */
export interface HoldableGroupWriter extends GroupWriter {
  hold(): () => void
}

/** What a committed op answers (a failed one rejects instead). */
type Done = Exclude<WriteResult, { error: string }>

export interface GroupWriterOptions {
  /** Ops that commit at once, without waiting for the turn or the delay. */
  maxBatch?: number
  /** How long after a commit the next one waits when work arrives meanwhile (ms); 0: none. */
  delayMs?: number
}

/**
 * @example
 * const writer = createGroupWriter(createBatchCommitter(sqlite), { delayMs: 1 })
 * const result = await writer.insertMessage(row) // { stored: true, offset } once committed
 */
export function createGroupWriter(
  commit: (ops: WriteOp[]) => WriteResult[],
  { maxBatch = 1_024, delayMs = 0 }: GroupWriterOptions = {}
): HoldableGroupWriter {
  /** The queued ops, and at the same index each one's promise to settle after its COMMIT. */
  let queue: WriteOp[] = []
  let waiting: PromiseWithResolvers<Done>[] = []
  let scheduled = false
  let closed = false
  let held = false
  /** When the last commit ended (performance.now()); -Infinity before the first. */
  let committedAt = Number.NEGATIVE_INFINITY

  function flush(): void {
    scheduled = false
    const batch = queue
    if (batch.length === 0 || (held && !closed)) return
    const settling = waiting
    queue = []
    waiting = []
    const results = commit(batch)
    committedAt = performance.now()
    // Committed: now, and in queue order, the callers may acknowledge and publish.
    for (let i = 0; i < settling.length; i++) {
      const settle = settling[i] as PromiseWithResolvers<Done>
      const result = results[i] as WriteResult
      if ('error' in result) settle.reject(new Error(result.error))
      else settle.resolve(result)
    }
  }

  /** One object and the promise per op (no executor closure, no wrapper per pending op). */
  function enqueue(op: WriteOp): Promise<Done> {
    if (closed) return Promise.reject(new Error('the database is closing'))
    const settle = Promise.withResolvers<Done>()
    queue.push(op)
    waiting.push(settle)
    if (queue.length >= maxBatch) flush()
    else schedule()
    return settle.promise
  }

  function schedule(): void {
    if (scheduled) return
    scheduled = true
    const wait = committedAt + delayMs - performance.now()
    if (wait > 0) setTimeout(flush, wait)
    else setImmediate(flush)
  }

  return {
    insertMessage: (message) => enqueue({ message }) as Promise<StoredMessage>,
    appendRoomEvent: async (log) => {
      const result = await enqueue({ log })
      if (!('stored' in result && result.stored)) throw new Error('a log row is always stored')
      return result.offset
    },
    saveSession: async (session) => {
      await enqueue({ session })
    },
    takeSession: async (take) => {
      const result = await enqueue({ take })
      return 'taken' in result ? result.taken : undefined
    },
    async close() {
      closed = true
      flush()
    },
    hold() {
      held = true
      return () => {
        held = false
        schedule()
      }
    },
  }
}

/**
 * The libSQL writer: each write is its own round trip (its statement takes the next offset
 * itself), one after another so offsets still follow call order. (libSQL's round trips are the
 * cost there, not SQLite commits.)
 */
export function createDirectWriter(client: LibsqlClient): GroupWriter {
  let chain: Promise<unknown> = Promise.resolve()
  const inOrder = <T>(write: () => Promise<T>): Promise<T> => {
    const next = chain.then(write)
    chain = next.catch(() => {})
    return next
  }
  return {
    insertMessage: (row) =>
      inOrder(async () => {
        // The row, its search entry and a reply's thread bump in one transaction (the entry and
        // the bump only when the row was stored: the bump's changes() guard reads the entry's
        // insert, one row exactly when the message's was).
        const statements = [
          { sql: INSERT_MESSAGE_NEXT, args: [...messageParams(row)] },
          { sql: INDEX_MESSAGE_BY_ID, args: [scopeOf(row), row.id] },
        ]
        if (bumpsThread(row)) {
          statements.push({ sql: BUMP_THREAD_IF_STORED, args: [row.createdAt, row.replyTo] })
        }
        const [inserted, , bumped] = await client.batch(statements, 'write')
        if (!inserted || inserted.rowsAffected !== 1) return { stored: false }
        const state = bumped?.rows[0]
        const thread = state
          ? { replyCount: Number(state.replyCount), lastReplyAt: Number(state.lastReplyAt) }
          : undefined
        return { stored: true, offset: Number(inserted.lastInsertRowid), thread }
      }),
    appendRoomEvent: (log) =>
      inOrder(async () => {
        const { lastInsertRowid } = await client.execute({
          sql: INSERT_EVENT_NEXT,
          args: [...eventParams(log)],
        })
        return Number(lastInsertRowid)
      }),
    saveSession: (row) =>
      inOrder(async () => {
        await client.execute({ sql: SAVE_SESSION, args: [...sessionParams(row)] })
      }),
    takeSession: (pid) =>
      inOrder(async () => {
        const { rows } = await client.execute({ sql: TAKE_SESSION, args: [pid] })
        const row = rows[0]
        if (!row) return undefined
        return {
          pid: String(row.pid),
          socketId: String(row.socketId),
          userId: String(row.userId),
          rooms: String(row.rooms),
          expiresAt: Number(row.expiresAt),
          nodeId: row.nodeId === null ? null : String(row.nodeId),
        }
      }),
    async close() {
      await chain
    },
  }
}
