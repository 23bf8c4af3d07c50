/**
 * @module The checkpoint thread over a real SQLite file: while messages are written, the WAL is
 * copied back into the database file by the thread (the main connection alone would leave every
 * page in the WAL until ~400 MB of it), under unbroken writes the WAL still restarts, and a WAL
 * file that grew past its limit is trimmed back.
 */
import { Database } from 'bun:sqlite'
import { expect, test } from 'bun:test'
import { closeSync, openSync, readSync, statSync } from 'node:fs'
import { type Database as ChatDatabase, WAL_FILE_LIMIT_BYTES } from '../../src/store/db.ts'
import { newId } from '../../src/store/ids.ts'
import { eventually } from '../helpers/eventually.ts'
import { tempDatabases } from '../helpers/store.ts'

const databases = tempDatabases()

/** A bound on one call, so a very slow machine fails on the byte count instead of hanging. */
const WRITE_BOUND_MS = 12_000

/**
 * Writes batches of 20 messages, `pauseMs` between batches, until `bytes` of content are written
 * (at least one batch); returns the bytes written. A byte count, not a duration: what the
 * checkpoint thread faces is the same on a fast machine and a slow one.
 */
async function writeMessages(
  database: ChatDatabase,
  authorId: string,
  { bytes, pauseMs }: { bytes: number; pauseMs: number }
): Promise<number> {
  const content = 'x'.repeat(2_000)
  const until = performance.now() + WRITE_BOUND_MS
  let written = 0
  do {
    await Promise.all(
      Array.from({ length: 20 }, () =>
        database.writer.insertMessage({
          id: newId(),
          cityId: 'mumbai',
          authorId,
          content,
          createdAt: Date.now(),
        })
      )
    )
    written += 20 * content.length
    if (pauseMs > 0) await Bun.sleep(pauseMs)
  } while (written < bytes && performance.now() < until)
  return written
}

test('the WAL is checkpointed off the event loop while writes go on', async () => {
  const { database, path, author } = await databases.seeded()
  const written = await writeMessages(database, author.id, { bytes: 8_000_000, pauseMs: 5 })
  await Bun.sleep(700)
  expect(written).toBeGreaterThanOrEqual(8_000_000)
  expect(statSync(path).size).toBeGreaterThan(written / 2)
}, 15_000)

/** The WAL header's checkpoint sequence number: SQLite adds one each time the log restarts. */
function walRestarts(path: string): number {
  const header = Buffer.alloc(16)
  const fd = openSync(`${path}-wal`, 'r')
  try {
    readSync(fd, header, 0, 16, 0)
  } finally {
    closeSync(fd)
  }
  return header.readUInt32BE(12)
}

test('under unbroken writes the WAL still restarts instead of growing with them', async () => {
  const { database, path, author } = await databases.seeded()
  const before = walRestarts(path)
  // A batch every millisecond or so: no quiet moment for a checkpoint to finish by itself in.
  // Well past the WAL length at which the thread restarts it (16 MB, store/db.ts).
  const written = await writeMessages(database, author.id, { bytes: 40_000_000, pauseMs: 1 })
  expect(written).toBeGreaterThanOrEqual(40_000_000)
  expect(walRestarts(path) - before).toBeGreaterThanOrEqual(2)
  // Without restarts every page stays appended: about three times `written` (2 KB of content in
  // each 4 KB page, plus index pages). With them, one or two checkpoint intervals' worth.
  expect(statSync(`${path}-wal`).size).toBeLessThan(2 * written)
}, 15_000)

test('a WAL that outgrew its limit is trimmed back once it restarts', async () => {
  const { database, path, author } = await databases.seeded()
  // A reader in a transaction keeps the WAL from restarting, so it grows past the limit.
  const reader = new Database(path, { readonly: true })
  reader.exec('BEGIN')
  reader.query('SELECT count(*) FROM messages').get()
  const until = performance.now() + 10_000
  while (statSync(`${path}-wal`).size <= WAL_FILE_LIMIT_BYTES && performance.now() < until) {
    await writeMessages(database, author.id, { bytes: 2_000_000, pauseMs: 0 })
  }
  expect(statSync(`${path}-wal`).size).toBeGreaterThan(WAL_FILE_LIMIT_BYTES)
  reader.exec('COMMIT')
  reader.close()
  // The thread copies everything back; the next commit after that restarts the WAL and trims
  // the file. Polled with a commit each time: on a loaded machine the copy takes its time.
  await eventually(
    async () => {
      await writeMessages(database, author.id, { bytes: 1, pauseMs: 0 })
      return statSync(`${path}-wal`).size <= WAL_FILE_LIMIT_BYTES
    },
    8_000,
    'the WAL trimmed back'
  )
  expect(statSync(`${path}-wal`).size).toBeLessThanOrEqual(WAL_FILE_LIMIT_BYTES)
}, 20_000)
