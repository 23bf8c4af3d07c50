/**
 * @module The checkpoint thread over a real SQLite file: while messages are written, the WAL is
 * copied back into the database file by the thread (the main connection alone would leave every
 * page in the WAL until ~400 MB of it).
 */
import { expect, test } from 'bun:test'
import { statSync } from 'node:fs'
import { newId } from '../../src/store/ids.ts'
import { tempDatabases } from '../helpers/store.ts'

const databases = tempDatabases()

test('the WAL is checkpointed off the event loop while writes go on', async () => {
  const { database, path, author } = await databases.seeded()
  const content = 'x'.repeat(2_000)
  let written = 0
  const until = performance.now() + 2_000
  while (performance.now() < until) {
    await Promise.all(
      Array.from({ length: 20 }, () =>
        database.writer.insertMessage({
          id: newId(),
          cityId: 'mumbai',
          authorId: author.id,
          content,
          createdAt: Date.now(),
        })
      )
    )
    written += 20 * content.length
    await Bun.sleep(5)
  }
  await Bun.sleep(700)
  expect(written).toBeGreaterThan(8_000_000)
  expect(statSync(path).size).toBeGreaterThan(written / 2)
}, 10_000)
