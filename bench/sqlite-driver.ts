/**
 * @module Driver benchmark: bun:sqlite vs @libsql/client, both through Drizzle and our store
 * functions, on a local WAL file. Decides the driver for file: URLs (see README).
 * Run: ./node_modules/.bin/bun bench/sqlite-driver.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BunSQLiteDatabase } from 'drizzle-orm/bun-sqlite'
import type { LibSQLDatabase } from 'drizzle-orm/libsql'
import { type DriverName, openDatabase } from '../src/store/db.ts'
import { newId } from '../src/store/ids.ts'
import { listRoomMessages, messageSeq } from '../src/store/messages.ts'
import { migrate } from '../src/store/migrate.ts'
import { messages } from '../src/store/schema.ts'
import { seedCities } from '../src/store/seed.ts'
import { insertUser } from '../src/store/users.ts'

const QUICK = process.argv.includes('--quick')
const SIZES = {
  single: QUICK ? 300 : 2_000,
  batch: QUICK ? 2_000 : 20_000,
  pages: QUICK ? 300 : 2_000,
}
const WARMUP = { single: 200, batch: 1_000, pages: 200 }

interface Row {
  driver: DriverName
  singleInsertsPerSec: number
  txInsertsPerSec: number
  pageReadsPerSec: number
}

const perSec = (n: number, ms: number) => Math.round((n / ms) * 1000)

async function measure(
  driver: DriverName,
  { single: SINGLE, batch: BATCH, pages: PAGES } = SIZES
): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-bench-'))
  const database = await openDatabase({ url: `file:${join(dir, 'bench.db')}`, driver })
  try {
    await migrate(database)
    await seedCities(database.db)
    const now = Date.now()
    const author = await insertUser(database.db, {
      id: newId(),
      username: 'bench',
      email: 'bench@example.test',
      fullName: 'Bench',
      createdAt: now,
      updatedAt: now,
    })
    const row = (i: number) => ({
      id: newId(),
      cityId: 'mumbai',
      authorId: author.id,
      content: `message ${i} ${'x'.repeat(80)}`,
      createdAt: Date.now(),
    })

    // 1. One autocommit insert per message, as a chat send does.
    let start = performance.now()
    for (let i = 0; i < SINGLE; i++) await database.db.insert(messages).values(row(i))
    const single = perSec(SINGLE, performance.now() - start)

    // 2. Many inserts in one transaction, each driver's own way (bun:sqlite's is synchronous).
    start = performance.now()
    if (driver === 'bun-sqlite') {
      const db = database.db as unknown as BunSQLiteDatabase
      db.transaction((tx) => {
        for (let i = 0; i < BATCH; i++) tx.insert(messages).values(row(i)).run()
      })
    } else {
      const db = database.db as unknown as LibSQLDatabase
      await db.transaction(async (tx) => {
        for (let i = 0; i < BATCH; i++) await tx.insert(messages).values(row(i))
      })
    }
    const tx = perSec(BATCH, performance.now() - start)

    // 3. History pages of 50 at random cursors, joined with the author.
    const room = { kind: 'city', id: 'mumbai' } as const
    const { messages: newest } = await listRoomMessages(database.db, room, {
      limit: 100,
      viewerId: '',
    })
    const cursors = await Promise.all(newest.map((m) => messageSeq(database.db, room, m.id)))
    start = performance.now()
    for (let i = 0; i < PAGES; i++) {
      const beforeSeq = cursors[i % cursors.length]
      await listRoomMessages(database.db, room, { beforeSeq, limit: 50, viewerId: '' })
    }
    const pages = perSec(PAGES, performance.now() - start)
    return { driver, singleInsertsPerSec: single, txInsertsPerSec: tx, pageReadsPerSec: pages }
  } finally {
    await database.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const DRIVERS = ['bun-sqlite', 'libsql'] as const
// Warm both code paths first so neither driver pays the JIT for the other.
for (const driver of DRIVERS) await measure(driver, WARMUP)
const rows: Row[] = []
for (const driver of DRIVERS) rows.push(await measure(driver))

const fmt = (n: number) => n.toLocaleString('en-US').padStart(12)
console.log(
  `SQLite driver benchmark (${QUICK ? 'quick' : 'full'}; Bun ${Bun.version}; ops/s, higher is better)`
)
console.log('| driver     | single inserts/s | inserts/s in one tx | history pages/s (50 rows) |')
console.log('| ---------- | ---------------: | ------------------: | ------------------------: |')
for (const r of rows) {
  console.log(
    `| ${r.driver.padEnd(10)} | ${fmt(r.singleInsertsPerSec)}     | ${fmt(r.txInsertsPerSec)}        | ${fmt(r.pageReadsPerSec)}              |`
  )
}
