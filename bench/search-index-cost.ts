/**
 * @module What the search index costs the hot write path: the real group writer (store/db.ts over
 * store/write-batch.ts) on a migrated WAL file, 16 messages queued per turn like a busy room, with
 * the index and without it (a plain table in its place), in alternating rounds. Reports
 * the process CPU µs per stored message and messages/s. Nothing here is a test.
 * Run: ./node_modules/.bin/bun bench/search-index-cost.ts [--rounds N] [--messages N]
 */
import { parseArgs } from 'node:util'
import { newId } from '../src/store/ids.ts'
import { seededDatabase } from '../test/helpers/temp-database.ts'

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    rounds: { type: 'string', default: '3' },
    messages: { type: 'string', default: '40000' },
  },
})
const ROUNDS = Number(values.rounds)
const MESSAGES = Number(values.messages)
const IN_FLIGHT = 16
/** The persistence scenario's content shape (bench/load/worker.ts), then a sentence of words. */
const CONTENTS = [
  `t:${Date.now()}.123|3|7|${'x'.repeat(48)}`,
  'is anyone taking the 8:15 local from Dadar to Churchgate tomorrow morning?',
]

async function round(indexed: boolean, content: string) {
  const { database, author, remove } = await seededDatabase({}, 'cost')
  try {
    // Without the index, the writer's insert into it lands in a plain table instead (a b-tree
    // row, as any other write), so the difference is FTS5's own work.
    if (!indexed) {
      await database.executeAll([
        'DROP TABLE messages_fts',
        'CREATE TABLE messages_fts (content TEXT, scope TEXT)',
      ])
    }
    const started = performance.now()
    const cpu = process.cpuUsage()
    for (let sent = 0; sent < MESSAGES; sent += IN_FLIGHT) {
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, () =>
          database.writer.insertMessage({
            id: newId(),
            authorId: author.id,
            cityId: 'mumbai',
            content,
            createdAt: Date.now(),
          })
        )
      )
    }
    const used = process.cpuUsage(cpu)
    const seconds = (performance.now() - started) / 1_000
    return { cpuUs: (used.user + used.system) / MESSAGES, perSec: MESSAGES / seconds }
  } finally {
    await remove()
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

for (const content of CONTENTS) {
  const off: Array<{ cpuUs: number; perSec: number }> = []
  const on: Array<{ cpuUs: number; perSec: number }> = []
  for (let i = 0; i < ROUNDS; i++) {
    off.push(await round(false, content))
    on.push(await round(true, content))
  }
  const show = (rows: typeof on) =>
    `${median(rows.map((r) => r.cpuUs)).toFixed(1)} µs CPU/msg, ${Math.round(median(rows.map((r) => r.perSec)))} msg/s`
  console.log(`content ${JSON.stringify(content.slice(0, 40))}…`)
  console.log(`  without the index: ${show(off)}`)
  console.log(`  with the index:    ${show(on)}`)
}
