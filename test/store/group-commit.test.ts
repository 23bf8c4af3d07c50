/**
 * @module Group commit over every store kind (bun:sqlite and libSQL files, a libSQL server): a
 * resolved write is committed (readable), offsets follow call order across messages and log rows
 * and never go back, a clientId retry stores nothing, a session is taken after the save queued
 * before it and only once, and one bad row fails alone. A held
 * bun:sqlite writer (the checkpoint thread restarting the WAL) commits nothing until released.
 */
import { Database as BunDatabase } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { deleteChat, insertChat } from '../../src/store/chats.ts'
import { createGroupWriter } from '../../src/store/group-commit.ts'
import { newId } from '../../src/store/ids.ts'
import { findMessageById, type NewMessageRow } from '../../src/store/messages.ts'
import { listRoomEventsAfter, listRoomMessagesAfter } from '../../src/store/room-stream.ts'
import { createBatchCommitter } from '../../src/store/write-batch.ts'
import { STORE_KINDS, type StoreKind, tempDatabases } from '../helpers/store.ts'

const databases = tempDatabases()

const logRow = (tag: unknown) => ({
  room: 'city:mumbai',
  packet: JSON.stringify(['e', tag]),
  createdAt: Date.now(),
})

async function fresh(kind: StoreKind, synchronous?: 'NORMAL' | 'FULL') {
  const { database, author } = await databases.seeded({ kind, synchronous })
  const message = (fields: Partial<NewMessageRow> = {}): NewMessageRow => ({
    id: newId(),
    cityId: 'mumbai',
    authorId: author.id,
    content: 'hello',
    messageType: 'text',
    createdAt: Date.now(),
    ...fields,
  })
  return { database, message, author }
}

describe.each(STORE_KINDS)('group commit over %s', (kind) => {
  test('resolved writes are readable; offsets follow call order across messages and log rows', async () => {
    const { database, message } = await fresh(kind)
    const rows = Array.from({ length: 50 }, () => message())
    // Messages and log rows interleaved, all queued at once.
    const offsets = await Promise.all(
      rows.flatMap((row, i) => [
        database.writer.insertMessage(row).then((result) => (result.stored ? result.offset : -1)),
        database.writer.appendRoomEvent(logRow(i)),
      ])
    )
    expect(offsets.every((offset, i) => i === 0 || offset > (offsets[i - 1] as number))).toBe(true)
    for (const row of rows) expect((await findMessageById(database.db, row.id))?.id).toBe(row.id)
    // A message's offset is its seq; it writes no log row.
    const replayed = await listRoomMessagesAfter(
      database.db,
      { kind: 'city', id: 'mumbai' },
      0,
      100,
      ''
    )
    expect(replayed.map((m) => m.seq)).toEqual(offsets.filter((_, i) => i % 2 === 0))
    const logged = await listRoomEventsAfter(database.db, ['city:mumbai'], 0, 100)
    expect(logged.map((row) => row.id)).toEqual(offsets.filter((_, i) => i % 2 === 1))
    expect(logged.map((row) => JSON.parse(row.packet)[1])).toEqual(rows.map((_, i) => i))
  })

  test('a session saved and taken in the same turn is taken after its save, and only once', async () => {
    const { database, author } = await fresh(kind)
    const session = {
      pid: newId(),
      socketId: newId(),
      userId: author.id,
      rooms: '["city:mumbai"]',
      expiresAt: Date.now() + 60_000,
      nodeId: null,
    }
    // Queued together, as a drop followed at once by someone's resume.
    const [, first, second] = await Promise.all([
      database.writer.saveSession(session),
      database.writer.takeSession(session.pid),
      database.writer.takeSession(session.pid),
    ])
    expect(first).toEqual(session)
    expect(second).toBeUndefined()
    expect(await database.writer.takeSession(newId())).toBeUndefined()
  })

  test('a clientId used twice stores one row, also within one batch, and takes no offset', async () => {
    const { database, message } = await fresh(kind)
    const results = await Promise.all([
      database.writer.insertMessage(message({ clientId: 'c1' })),
      database.writer.insertMessage(message({ clientId: 'c1' })),
      database.writer.insertMessage(message({ clientId: 'c2' })),
    ])
    expect(results.map((result) => result.stored)).toEqual([true, false, true])
    expect((await database.writer.insertMessage(message({ clientId: 'c1' }))).stored).toBe(false)
    // Offsets stay contiguous (a node delivering in offset order has no gap to read back).
    const next = await database.writer.insertMessage(message())
    const offsets = [results[0], results[2], next].map((result) =>
      result?.stored ? result.offset : -1
    )
    const first = offsets[0] as number
    expect(offsets).toEqual([first, first + 1, first + 2])
  })

  test('offsets never go back, not even when the newest messages go with their chat', async () => {
    const { database, message, author } = await fresh(kind)
    const chatId = newId()
    const chat = { id: chatId, name: 'gone', createdBy: author.id, createdAt: 1 }
    await insertChat(database.db, chat, [{ userId: author.id, role: 'owner' }])
    const offsetOf = async (row: NewMessageRow) => {
      const result = await database.writer.insertMessage(row)
      if (!result.stored) throw new Error('not stored')
      return result.offset
    }
    await offsetOf(message())
    const gone = message({ cityId: null, chatId })
    const newest = await offsetOf(gone)
    await deleteChat(database.db, chatId)
    expect(await findMessageById(database.db, gone.id)).toBeUndefined()
    expect(await offsetOf(message())).toBeGreaterThan(newest)
  })

  test('a row breaking a constraint fails alone', async () => {
    const { database, message } = await fresh(kind)
    const good = message()
    const results = await Promise.allSettled([
      database.writer.insertMessage(message({ authorId: 'nobody' })),
      database.writer.insertMessage(good),
    ])
    expect(results[0]?.status).toBe('rejected')
    expect(results[1]).toEqual({
      status: 'fulfilled',
      value: { stored: true, offset: expect.any(Number) },
    })
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

describe('commit delay', () => {
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

  /** A writer over the real committer that records each batch's size. */
  async function recording(delayMs: number) {
    const { path, author } = await databases.seeded()
    const sqlite = new BunDatabase(path, { strict: true })
    const commit = createBatchCommitter(sqlite)
    const batches: number[] = []
    const writer = createGroupWriter(
      (ops) => {
        batches.push(ops.length)
        return commit(ops)
      },
      { delayMs }
    )
    const write = () =>
      writer.insertMessage({
        id: newId(),
        cityId: 'mumbai',
        authorId: author.id,
        content: 'delayed',
        createdAt: Date.now(),
      })
    return { writer, write, batches, close: () => sqlite.close() }
  }

  /** One write, then one write on each of the next three turns. */
  async function burst(write: () => Promise<unknown>) {
    await write()
    const writes: Promise<unknown>[] = []
    for (let i = 0; i < 3; i++) {
      writes.push(write())
      await nextTurn()
    }
    await Promise.all(writes)
  }

  test('a busy writer waits after a commit, so the writes of the next turns commit together', async () => {
    // Long enough that the three turns fall inside it on a loaded machine; the test waits it out.
    const delayed = await recording(1_000)
    const eager = await recording(0)
    try {
      await burst(delayed.write)
      await burst(eager.write)
      expect(delayed.batches).toEqual([1, 3])
      expect(eager.batches).toEqual([1, 1, 1, 1])
    } finally {
      delayed.close()
      eager.close()
    }
  })

  test('an idle writer commits on the next turn, and a closing one at once', async () => {
    const { writer, write, batches, close } = await recording(10_000)
    try {
      let settled = false
      void write().then(() => {
        settled = true
      })
      for (let turn = 0; turn < 5 && !settled; turn++) await nextTurn()
      expect(settled).toBe(true)
      // Busy now: the next write would wait out the delay, but closing commits it at once.
      const last = write()
      await writer.close()
      expect((await last).stored).toBe(true)
      expect(batches).toEqual([1, 1])
    } finally {
      close()
    }
  })
})
