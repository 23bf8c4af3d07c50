/**
 * @module Group commit over both drivers: a resolved write is committed (readable), room event
 * ids follow call order, a clientId retry stores nothing, and one bad row fails alone. A held
 * bun:sqlite writer (the checkpoint thread restarting the WAL) commits nothing until released.
 */
import { Database as BunDatabase } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import type { DriverName } from '../../src/store/db.ts'
import { createGroupWriter } from '../../src/store/group-commit.ts'
import { newId } from '../../src/store/ids.ts'
import { findMessageById, type NewMessageRow } from '../../src/store/messages.ts'
import { listRoomEventsAfter } from '../../src/store/recovery.ts'
import { createBatchCommitter } from '../../src/store/write-batch.ts'
import { tempDatabases } from '../helpers/store.ts'

const databases = tempDatabases()

const logRow = (tag: unknown) => ({
  room: 'city:mumbai',
  packet: JSON.stringify(['e', tag]),
  createdAt: Date.now(),
})

async function fresh(driver: DriverName, synchronous?: 'NORMAL' | 'FULL') {
  const { database, author } = await databases.seeded({ driver, synchronous })
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
    expect(stored.every((result) => result.stored && result.offset === null)).toBe(true)
    for (const row of rows) expect((await findMessageById(database.db, row.id))?.id).toBe(row.id)

    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) => database.writer.appendRoomEvent(logRow(i)))
    )
    expect([...ids].sort((a, b) => a - b)).toEqual(ids)
    const logged = await listRoomEventsAfter(database.db, ['city:mumbai'], 0, 100)
    expect(logged.map((row) => JSON.parse(row.packet ?? 'null')[1])).toEqual(ids.map((_, i) => i))
  })

  test('a clientId used twice stores one row, also within one batch', async () => {
    const { database, message } = await fresh(driver)
    const results = await Promise.all([
      database.writer.insertMessage(message({ clientId: 'c1' })),
      database.writer.insertMessage(message({ clientId: 'c1' })),
    ])
    expect(results.map((result) => result.stored)).toEqual([true, false])
    expect((await database.writer.insertMessage(message({ clientId: 'c1' }))).stored).toBe(false)
  })

  test('a message and its log row commit together; a duplicate logs nothing', async () => {
    const { database, message } = await fresh(driver)
    const first = message({ clientId: 'c1' })
    const other = message()
    const at = { room: 'city:mumbai', createdAt: Date.now() }
    const [stored, again, storedOther] = await Promise.all([
      database.writer.insertMessage(first, at),
      database.writer.insertMessage(message({ clientId: 'c1' }), at),
      database.writer.insertMessage(other, at),
    ])
    expect(stored?.stored).toBe(true)
    expect(again).toEqual({ stored: false, offset: null })
    expect(storedOther?.stored).toBe(true)
    // A message's row names it instead of holding a packet (replay builds the packet again).
    const logged = await listRoomEventsAfter(database.db, ['city:mumbai'], 0, 100)
    expect(logged.map(({ id, packet, messageId }) => [id, packet, messageId])).toEqual([
      [stored?.offset, null, first.id],
      [storedOther?.offset, null, other.id],
    ])
  })

  test('a message whose log row cannot be written is not stored either', async () => {
    const { database, message } = await fresh(driver)
    const row = message()
    // room is NOT NULL: the log insert fails after the message insert succeeded.
    const broken = { room: null as unknown as string, createdAt: Date.now() }
    await expect(database.writer.insertMessage(row, broken)).rejects.toThrow()
    expect(await findMessageById(database.db, row.id)).toBeUndefined()
  })

  test('a row breaking a constraint fails alone', async () => {
    const { database, message } = await fresh(driver)
    const good = message()
    const results = await Promise.allSettled([
      database.writer.insertMessage(message({ authorId: 'nobody' })),
      database.writer.insertMessage(good),
    ])
    expect(results[0]?.status).toBe('rejected')
    expect(results[1]).toEqual({ status: 'fulfilled', value: { stored: true, offset: null } })
    expect(await findMessageById(database.db, good.id)).toBeDefined()
  })
})

test('synchronous FULL opens and writes', async () => {
  const { database, message } = await fresh('bun-sqlite', 'FULL')
  expect(await database.queryRows('PRAGMA synchronous')).toEqual([[2]])
  expect((await database.writer.insertMessage(message())).stored).toBe(true)
})

test('a held writer commits nothing until released, then everything it was given', async () => {
  const { database, path, author } = await databases.seeded()
  // A second connection to the same file, as the checkpoint thread's holds see it.
  const sqlite = new BunDatabase(path, { strict: true })
  try {
    const writer = createGroupWriter(createBatchCommitter(sqlite))
    const release = writer.hold()
    const rows = Array.from({ length: 5 }, () => ({
      id: newId(),
      cityId: 'mumbai',
      authorId: author.id,
      content: 'held',
      createdAt: Date.now(),
    }))
    let settled = 0
    const writes = rows.map((row) => writer.insertMessage(row).then(() => settled++))
    await Bun.sleep(20)
    expect(settled).toBe(0)
    expect(await findMessageById(database.db, rows[0]?.id ?? '')).toBeUndefined()
    release()
    await Promise.all(writes)
    for (const row of rows) expect((await findMessageById(database.db, row.id))?.id).toBe(row.id)
  } finally {
    sqlite.close()
  }
})
