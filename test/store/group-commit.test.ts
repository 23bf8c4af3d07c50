/**
 * @module Group commit over both drivers: a resolved write is committed (readable), room event
 * ids follow call order, a clientId retry stores nothing, and one bad row fails alone.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Database, type DriverName, openDatabase } from '../../src/store/db.ts'
import { newId } from '../../src/store/ids.ts'
import { findMessageById, type NewMessageRow } from '../../src/store/messages.ts'
import { migrate } from '../../src/store/migrate.ts'
import { listRoomEventsAfter } from '../../src/store/recovery.ts'
import { seedCities } from '../../src/store/seed.ts'
import { insertUser } from '../../src/store/users.ts'

let open: Array<{ database: Database; dir: string }> = []
afterEach(() => {
  for (const { database, dir } of open) {
    database.close()
    rmSync(dir, { recursive: true, force: true })
  }
  open = []
})

async function fresh(driver: DriverName, synchronous?: 'NORMAL' | 'FULL') {
  const dir = mkdtempSync(join(tmpdir(), 'chat-group-'))
  const database = await openDatabase({ url: `file:${join(dir, 'x.db')}`, driver, synchronous })
  open.push({ database, dir })
  await migrate(database)
  await seedCities(database.db)
  const now = Date.now()
  const author = await insertUser(database.db, {
    id: newId(now),
    username: 'writer',
    email: 'writer@example.com',
    fullName: 'Writer',
    createdAt: now,
    updatedAt: now,
  })
  const message = (fields: Partial<NewMessageRow> = {}): NewMessageRow => ({
    id: newId(),
    cityId: 'mumbai',
    authorId: author.id,
    content: 'hello',
    messageType: 'text',
    createdAt: Date.now(),
    ...fields,
  })
  return { database, message }
}

describe.each(['bun-sqlite', 'libsql'] as DriverName[])('group commit over %s', (driver) => {
  test('resolved writes are readable; event ids follow call order', async () => {
    const { database, message } = await fresh(driver)
    const rows = Array.from({ length: 50 }, () => message())
    const stored = await Promise.all(rows.map((row) => database.writer.insertMessage(row)))
    expect(stored.every(Boolean)).toBe(true)
    for (const row of rows) expect((await findMessageById(database.db, row.id))?.id).toBe(row.id)

    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        database.writer.appendRoomEvent('city:mumbai', JSON.stringify(['e', i]), Date.now())
      )
    )
    expect([...ids].sort((a, b) => a - b)).toEqual(ids)
    const logged = await listRoomEventsAfter(database.db, ['city:mumbai'], 0, 100)
    expect(logged.map((row) => JSON.parse(row.packet)[1])).toEqual(ids.map((_, i) => i))
  })

  test('a clientId used twice stores one row, also within one batch', async () => {
    const { database, message } = await fresh(driver)
    const results = await Promise.all([
      database.writer.insertMessage(message({ clientId: 'c1' })),
      database.writer.insertMessage(message({ clientId: 'c1' })),
    ])
    expect(results).toEqual([true, false])
    expect(await database.writer.insertMessage(message({ clientId: 'c1' }))).toBe(false)
  })

  test('a row breaking a constraint fails alone', async () => {
    const { database, message } = await fresh(driver)
    const good = message()
    const results = await Promise.allSettled([
      database.writer.insertMessage(message({ authorId: 'nobody' })),
      database.writer.insertMessage(good),
    ])
    expect(results[0]?.status).toBe('rejected')
    expect(results[1]).toEqual({ status: 'fulfilled', value: true })
    expect(await findMessageById(database.db, good.id)).toBeDefined()
  })
})

test('synchronous FULL opens and writes', async () => {
  const { database, message } = await fresh('bun-sqlite', 'FULL')
  expect(await database.queryRows('PRAGMA synchronous')).toEqual([[2]])
  expect(await database.writer.insertMessage(message())).toBe(true)
})
