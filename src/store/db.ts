/** @module Database: opens bun:sqlite for local files and libSQL for remote or replica URLs, behind one type. */
import { Database as BunDatabase } from 'bun:sqlite'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { is, SQL } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { BunSQLiteDatabase, drizzle as drizzleBun } from 'drizzle-orm/bun-sqlite'
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core'
import { FALLBACK_CHECKPOINT_PAGES, startCheckpointer } from './checkpointer.ts'
import { createDirectWriter, createGroupWriter, type GroupWriter } from './group-commit.ts'
import * as schema from './schema.ts'
import { createBatchCommitter } from './write-batch.ts'

/** Both drivers' Drizzle databases. Store functions `await` every query so either fits. */
export type Db = BaseSQLiteDatabase<'sync' | 'async', unknown, typeof schema>

export type DriverName = 'bun-sqlite' | 'libsql'

/** A write statement built but not run yet (an insert, update or delete builder). */
export type Statement = BatchItem<'sqlite'>

/**
 * Runs write statements in one transaction on either driver: all commit, or none (one that
 * throws rolls back those before it). bun:sqlite's transactions are synchronous, so the
 * statements run there with no turn of the event loop in between (Drizzle's `db.transaction`
 * with an async callback would commit after the first await); libSQL's go in one batch. A raw
 * `sql` statement (one no builder makes, e.g. an FTS5 command) may be among them.
 * @example await writeTogether(db, [db.insert(a).values(rowA), db.insert(b).values(rowB)])
 */
export async function writeTogether(
  db: Db,
  statements: readonly (Statement | SQL)[]
): Promise<void> {
  if (statements.length === 0) return
  if (is(db, BunSQLiteDatabase)) {
    const sync = db as unknown as { run(query: SQL): unknown }
    db.transaction(
      () => {
        for (const statement of statements)
          if (is(statement, SQL)) sync.run(statement)
          else (statement as unknown as { run(): unknown }).run()
      },
      { behavior: 'immediate' }
    )
    return
  }
  // On libSQL `db.run` builds a batch item rather than running.
  const [first, ...rest] = statements.map((statement) =>
    is(statement, SQL) ? (db.run(statement) as unknown as Statement) : statement
  ) as [Statement, ...Statement[]]
  const batching = db as unknown as { batch(items: [Statement, ...Statement[]]): Promise<unknown> }
  await batching.batch([first, ...rest])
}

export interface DatabaseOptions {
  /** file:<path>, :memory:, libsql://…, http(s)://… */
  url: string
  authToken?: string
  /** Remote primary for an embedded replica; `url` must then be a file: URL. */
  syncUrl?: string
  /** Force a driver for a file: URL (the driver benchmark compares both). */
  driver?: DriverName
  /** Local files: NORMAL (durable across process crashes in WAL mode) or FULL (fsync per commit). */
  synchronous?: 'NORMAL' | 'FULL'
  /** bun:sqlite: how long a busy group writer waits after a commit before the next (ms). */
  commitDelayMs?: number
}

export interface Database {
  db: Db
  driver: DriverName
  /** Message and room event inserts, group-committed (see group-commit.ts). */
  writer: GroupWriter
  /** Runs statements atomically (migrations). */
  executeAll(statements: string[]): Promise<void>
  /** Rows as arrays (migrations bookkeeping). */
  queryRows(statement: string): Promise<unknown[][]>
  /** Throws when the database cannot answer (readiness probe). */
  ping(): Promise<void>
  /** Commits pending writes, then closes. */
  close(): Promise<void>
}

/** Measured in bench/sqlite-driver.ts: bun:sqlite wins for local files, so it is the file: default. */
function pickDriver({ url, syncUrl, driver }: DatabaseOptions): DriverName {
  if (syncUrl) return 'libsql'
  if (url === ':memory:' || url.startsWith('file:')) return driver ?? 'bun-sqlite'
  return 'libsql'
}

function filePath(url: string): string {
  return url === ':memory:' ? ':memory:' : url.slice('file:'.length)
}

function ensureParentDir(path: string): void {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
}

/**
 * How often the checkpoint thread copies the WAL back: the WAL stays near this much traffic (about
 * 35 MB at the bench's 45k msg/s; 500 ms let it reach 95-130 MB for the same throughput).
 */
const CHECKPOINT_EVERY_MS = 100
/**
 * Past 16 MB of WAL the thread restarts it, holding commits while it copies the last 2 MB or less
 * (a few milliseconds), so the log never grows long enough to slow every page lookup.
 */
const WAL_RESTART = { restartFrames: 4_096, finishFrames: 512 }
/**
 * SQLite keeps the `-wal` file at its peak size and reuses it. After a WAL longer than this (a
 * long reader holding it, a burst faster than the copies) the first commit after the restart trims
 * it back (journal_size_limit), so one burst does not keep its disk space.
 */
export const WAL_FILE_LIMIT_BYTES = 64 * 1024 * 1024

async function openBun(
  path: string,
  synchronous: 'NORMAL' | 'FULL' = 'NORMAL',
  commitDelayMs = 0
): Promise<Database> {
  ensureParentDir(path)
  const sqlite = new BunDatabase(path, { create: true, strict: true })
  // WAL lets readers run beside the writer; NORMAL is durable across app crashes in WAL mode,
  // FULL also across power loss (an fsync per commit, which group commit amortises).
  sqlite.exec('PRAGMA journal_mode = WAL')
  sqlite.exec('PRAGMA busy_timeout = 5000')
  sqlite.exec(`PRAGMA synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`)
  sqlite.exec('PRAGMA foreign_keys = ON')
  sqlite.exec(`PRAGMA journal_size_limit = ${WAL_FILE_LIMIT_BYTES}`)
  // Deleted and overwritten content is zeroed in the pages that held it (an erasure must leave
  // no byte of it in the file; chat/erasure.ts then truncates the WAL, which held older copies).
  sqlite.exec('PRAGMA secure_delete = ON')
  const writer = createGroupWriter(createBatchCommitter(sqlite), { delayMs: commitDelayMs })
  // Checkpoints run on their own thread (store/checkpointer.ts): on the event loop, one stalled
  // every send for 30-50 ms about once a second under load. It holds the writer to restart the WAL.
  const checkpointer =
    path === ':memory:'
      ? undefined
      : await startCheckpointer(
          { path, intervalMs: CHECKPOINT_EVERY_MS, ...WAL_RESTART },
          writer.hold
        )
  sqlite.exec(`PRAGMA wal_autocheckpoint = ${checkpointer ? FALLBACK_CHECKPOINT_PAGES : 1_000}`)
  const db = drizzleBun(sqlite, { schema }) as unknown as Db
  return {
    db,
    driver: 'bun-sqlite',
    writer,
    async executeAll(statements) {
      sqlite.transaction(() => {
        for (const statement of statements) sqlite.run(statement)
      })()
    },
    async queryRows(statement) {
      return sqlite.query(statement).values() as unknown[][]
    },
    async ping() {
      sqlite.query('SELECT 1').get()
    },
    async close() {
      await writer.close()
      checkpointer?.stop()
      sqlite.close()
    },
  }
}

/**
 * libSQL's client, loaded on demand. A remote URL takes its pure-JavaScript entry (HTTP or
 * WebSocket, the same code as the default entry's), so the compiled binary, which carries no
 * native module, reaches a libSQL server too. Local libSQL files and embedded replicas need the
 * native module: from a compiled binary that is a clear error, not a missing-module trace.
 */
async function loadLibsqlClient(
  local: boolean
): Promise<Pick<typeof import('@libsql/client'), 'createClient'>> {
  if (!local) return import('@libsql/client/web')
  try {
    return await import('@libsql/client')
  } catch (error) {
    throw new Error(
      "libSQL files and embedded replicas (DATABASE_SYNC_URL) need libSQL's native module, which " +
        'this build cannot load (a compiled binary carries none): run `bun src/main.ts`, or use ' +
        'a remote libSQL URL',
      { cause: error }
    )
  }
}

async function openLibsql({
  url,
  authToken,
  syncUrl,
  synchronous,
}: DatabaseOptions): Promise<Database> {
  const local = url === ':memory:' || url.startsWith('file:')
  const { createClient } = await loadLibsqlClient(local)
  // Drizzle's web entry takes any libSQL client; `drizzle-orm/libsql` would load the native one.
  const { drizzle: drizzleLibsql } = await import('drizzle-orm/libsql/web')
  if (local && url !== ':memory:') ensureParentDir(filePath(url))
  const client = createClient({
    url,
    ...(authToken ? { authToken } : {}),
    ...(syncUrl ? { syncUrl } : {}),
  })
  if (syncUrl) await client.sync()
  // An embedded replica's file belongs to libSQL (it refuses these PRAGMAs), and its writes go to
  // the primary, which enforces foreign keys itself.
  if (local && !syncUrl) {
    await client.execute('PRAGMA journal_mode = WAL')
    await client.execute('PRAGMA busy_timeout = 5000')
    await client.execute(`PRAGMA synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`)
    await client.execute('PRAGMA secure_delete = ON')
  }
  await client.execute('PRAGMA foreign_keys = ON')
  const db = drizzleLibsql(client, { schema }) as unknown as Db
  const writer = createDirectWriter(client)
  return {
    db,
    driver: 'libsql',
    writer,
    async executeAll(statements) {
      await client.batch(statements, 'write')
    },
    async queryRows(statement) {
      const result = await client.execute(statement)
      return result.rows.map((row) => Array.from(row))
    },
    async ping() {
      await client.execute('SELECT 1')
    },
    async close() {
      await writer.close()
      client.close()
    },
  }
}

/**
 * Opens the database for a URL: bun:sqlite for `file:`/`:memory:`, libSQL for remote URLs and
 * embedded replicas. The rest of the code sees only `Database.db`.
 * @example const database = await openDatabase({ url: 'file:./data/chat.db' })
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return pickDriver(options) === 'bun-sqlite'
    ? openBun(filePath(options.url), options.synchronous, options.commitDelayMs)
    : openLibsql(options)
}

/**
 * True when a write failed on a UNIQUE index, whichever driver threw it (Drizzle wraps libSQL's
 * error in a "Failed query" error whose cause carries the SQLite code).
 */
export function isUniqueViolation(error: unknown): boolean {
  for (
    let e: unknown = error, depth = 0;
    e && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if (/UNIQUE constraint failed/.test(String((e as { message?: unknown }).message ?? e)))
      return true
  }
  return false
}

/**
 * A query built and prepared once per database (and per key, e.g. a LIMIT baked into the SQL), on
 * first use: for the reads asked so often that Drizzle's building per call shows in the CPU (the
 * handshake's session check, the notifier's poll, the replay).
 * @example const newest = preparedPerDatabase((db) => db.select(...).from(t).prepare()); await newest(db).all()
 */
export function preparedPerDatabase<T, Key extends [] | [number] = []>(
  prepare: (db: Db, ...key: Key) => T
): (db: Db, ...key: Key) => T {
  const made = new WeakMap<Db, Map<number | undefined, T>>()
  return (db, ...key) => {
    let byKey = made.get(db)
    if (!byKey) {
      byKey = new Map()
      made.set(db, byKey)
    }
    let query = byKey.get(key[0])
    if (query === undefined) {
      query = prepare(db, ...key)
      byKey.set(key[0], query)
    }
    return query
  }
}
