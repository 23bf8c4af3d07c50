/**
 * @module A retention purge cut by SIGKILL: a node purging 200,000 old rows is killed in the
 * middle, the search index is still consistent (each slice's rows and index entries go in one
 * transaction), and the next process finishes the purge where the data says.
 */
import { Database } from 'bun:sqlite'
import { afterAll, expect, test } from 'bun:test'
import { registerUser } from '../helpers/api.ts'
import { eventually } from '../helpers/eventually.ts'
import { clusterEnv, type Node, startNode } from './cluster.ts'

const ROWS = 200_000
const DAY = 86_400_000
const cluster = clusterEnv(undefined, { MESSAGE_RETENTION: '30d', RETENTION_INTERVAL: '1h' })
const path = (cluster.env.DATABASE_URL ?? '').slice('file:'.length)
let node: Node | undefined
afterAll(async () => {
  await node?.kill()
  cluster.cleanup()
})

function withFile<T>(use: (file: Database) => T): T {
  const file = new Database(path)
  file.exec('PRAGMA busy_timeout = 5000')
  try {
    return use(file)
  } finally {
    file.close()
  }
}
const left = () =>
  withFile(
    (file) =>
      (
        file.query(`SELECT count(*) AS n FROM messages WHERE city_id = 'delhi'`).get() as {
          n: number
        }
      ).n
  )
/** FTS5's own check of the index against its content: throws when they disagree. */
const checkIndex = () =>
  withFile((file) =>
    file.run(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`)
  )
const found = (word: string) =>
  withFile(
    (file) =>
      (
        file
          .query(`SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH ?`)
          .get(word) as {
          n: number
        }
      ).n
  )

test('SIGKILL in the middle of a purge: the index stays consistent, the next process finishes it', async () => {
  node = await startNode(cluster.env, 'r1')
  const author = await registerUser(node.url)
  await node.kill()
  // Old rows and their index entries, as the writer would have stored them.
  withFile((file) => {
    file.run(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS})
      INSERT INTO messages (seq, id, city_id, author_id, content, created_at)
      SELECT 1000000 + i, printf('rc%022d', i), 'delhi', '${author.user._id}', 'purgeable words', ${Date.now() - 400 * DAY} FROM n`)
    file.run(`INSERT INTO messages_fts (rowid, content, scope)
      SELECT seq, content, scope FROM messages_search_source WHERE seq > 1000000`)
  })
  expect(found('purgeable')).toBe(ROWS)

  // The first run starts with the process; it is killed once part of the rows went.
  node = await startNode(cluster.env, 'r1')
  await eventually(() => left() < ROWS * 0.9, 60_000, 'the purge under way')
  await node.kill()
  const afterKill = left()
  expect(afterKill).toBeGreaterThan(0)
  checkIndex()
  expect(found('purgeable')).toBe(afterKill)

  node = await startNode(cluster.env, 'r1')
  await eventually(() => left() === 0, 90_000, 'the purge finished by the next process')
  checkIndex()
  expect(found('purgeable')).toBe(0)
}, 180_000)
