/**
 * @module Room log pruning over a real SQLite file: rows go once they are older than twice the
 * recovery window (by id marks, there is no created_at index), newer rows and sessions stay.
 */
import { expect, test } from 'bun:test'
import { createRoomLog } from '../../src/chat/recovery.ts'
import { createLogger } from '../../src/log.ts'
import { listRoomEventsAfter } from '../../src/store/recovery.ts'
import { tempDatabases } from '../helpers/store.ts'

const databases = tempDatabases()

test('log rows older than twice the window are pruned; newer ones stay', async () => {
  const { database } = await databases.migrated()
  const roomLog = createRoomLog({
    db: database.db,
    writer: database.writer,
    log: createLogger({ level: 'error' }),
    windowMs: 1_000,
    maxReplay: 100,
  })
  const record = (tag: string) =>
    roomLog.record({ room: 'city:mumbai', packet: ['e', tag] }, () => {})
  const logged = async () =>
    (await listRoomEventsAfter(database.db, ['city:mumbai'], 0, 100)).map(
      (row) => JSON.parse(row.packet)[1]
    )
  try {
    await record('old-1')
    await record('old-2')
    // Ticks every second: the 1 s mark covers the old rows, and is past the 2 s cutoff at 3 s.
    await Bun.sleep(2_300)
    await record('new')
    expect(await logged()).toEqual(['old-1', 'old-2', 'new'])
    await Bun.sleep(1_200)
    expect(await logged()).toEqual(['new'])
  } finally {
    roomLog.close()
  }
}, 10_000)
