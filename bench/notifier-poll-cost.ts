/**
 * @module What the notifier's poll read costs (store/notifications.ts messagesToNotify) on a
 * migrated WAL file holding 100k plain city messages and a few that may notify (mentions, replies,
 * private messages, plain messages in a city where someone chose `all`), over the whole file and
 * over the last 2,500 rows (about what the bench's 45k msg/s stores between two 50 ms polls); then
 * the room-log half of the poll (store/room-stream.ts listNotifiedEvents) over LOG log rows after
 * the messages, most of kinds the notifier skips (thread updates, pins), and the whole poll (the
 * newest offset, the messages, the log) over the last 2,500 offsets.
 * Reports process CPU µs per read (median of five rounds). Nothing here is a test.
 * Run: ./node_modules/.bin/bun bench/notifier-poll-cost.ts [--plain N] [--log N] [--reads N]
 */
import { parseArgs } from 'node:util'
import { messagesToNotify, newestMessageSeq } from '../src/store/notifications.ts'
import { latestOffset, listNotifiedEvents } from '../src/store/room-stream.ts'
import { seededDatabase } from '../test/helpers/temp-database.ts'

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    plain: { type: 'string', default: '100000' },
    log: { type: 'string', default: '2000' },
    reads: { type: 'string', default: '200' },
  },
})
const PLAIN = Number(values.plain)
const READS = Number(values.reads)
const LOG = Number(values.log)
/** Of each kind that may notify, spread through the file. */
const RELEVANT = 10

const { database, author, remove } = await seededDatabase({}, 'poll')
try {
  const step = Math.floor(PLAIN / RELEVANT)
  await database.executeAll([
    `INSERT INTO chats (id, name, created_by, created_at) VALUES ('c0', NULL, '${author.id}', 0)`,
    // The plain rows, in one statement; every step-th seq is left for a relevant one.
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${PLAIN})
     INSERT INTO messages (seq, id, city_id, author_id, content, created_at)
     SELECT i, printf('p%023d', i), 'pune', '${author.id}', 'a plain message', i FROM n
     WHERE i % ${step} <> 0`,
    ...Array.from({ length: RELEVANT }, (_, k) => {
      const seq = (k + 1) * step
      const id = `'r${String(seq).padStart(23, '0')}'`
      // Mentions, replies, private messages, and plain ones in delhi (someone chose `all`).
      const [room, extra] = [
        [`'pune', NULL`, `'["${author.id}"]', NULL`],
        [`'pune', NULL`, `NULL, 'p${'0'.repeat(22)}1'`],
        [`NULL, 'c0'`, 'NULL, NULL'],
        [`'delhi', NULL`, 'NULL, NULL'],
      ][k % 4] as [string, string]
      return `INSERT INTO messages (seq, id, city_id, chat_id, author_id, content, created_at,
        mentions, reply_to) VALUES (${seq}, ${id}, ${room}, '${author.id}', 'x', ${seq}, ${extra})`
    }),
  ])
  const head = await newestMessageSeq(database.db)
  // The log after the messages: one in a hundred rows a kind the notifier reads (an edit, a
  // membership change), the rest thread updates and pins, which it skips.
  await database.executeAll([
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${LOG})
     INSERT INTO room_events (id, room, packet, created_at)
     SELECT ${head} + i, 'city:pune', CASE
       WHEN i % 100 = 0 THEN '["city-message-edited",{"_id":"x","cityId":"pune"}]'
       WHEN i % 100 = 50 THEN '["chat-members-added",{"chatId":"c0","actorId":"a","userIds":["b"]}]'
       WHEN i % 2 = 0 THEN '["city-message-thread-updated",{"messageId":"x","reply_count":1,"cityId":"pune"}]'
       ELSE '["city-message-pinned",{"messageId":"x","cityId":"pune","pinned_by":"a"}]' END, i
     FROM n`,
  ])
  const newest = await latestOffset(database.db)
  /** The median of five rounds of READS reads: process CPU µs per read (the machine is shared). */
  const time = async (label: string, until: number, after: number, read: () => Promise<number>) => {
    let found = 0
    const rounds: number[] = []
    for (let i = 0; i < 20; i += 1) await read()
    for (let round = 0; round < 5; round += 1) {
      const cpu = process.cpuUsage()
      for (let i = 0; i < READS; i += 1) found = await read()
      const used = process.cpuUsage(cpu)
      rounds.push((used.user + used.system) / READS)
    }
    const median = rounds.sort((a, b) => a - b)[2] as number
    console.log(
      `${label}: ${median.toFixed(1)} µs CPU per read (${found} found of ${until - after})`
    )
  }
  const messages = (after: number, until: number) =>
    messagesToNotify(database.db, after, until, 256, ['delhi'])
  const log = (after: number, until: number) => listNotifiedEvents(database.db, after, until, 256)
  await time('whole file', head, 0, async () => (await messages(0, head)).length)
  const last = head - 2_500
  await time('last 2,500 rows', head, last, async () => (await messages(last, head)).length)
  await time(`log, ${LOG} rows`, newest, head, async () => (await log(head, newest)).length)
  // The poll as it was (the newest seq, then the messages) and as it is (the newest offset, then
  // the messages and the log), over the last 2,500 offsets of each.
  await time('poll before: newest seq + messages', head, last, async () => {
    const until = await newestMessageSeq(database.db)
    return (await messages(last, until)).length
  })
  const tail = newest - 2_500
  await time('poll now: newest offset + messages + log', newest, tail, async () => {
    const until = await latestOffset(database.db)
    return (await messages(tail, until)).length + (await log(tail, until)).length
  })
} finally {
  await remove()
}
