/**
 * @module Room log pruning over a real SQLite file: rows go once they are older than twice the
 * recovery window (by id marks, there is no created_at index), newer rows and sessions stay, and
 * a restart does not delay it; rows the notifier has not handled yet stay (recovery off too, where
 * events are logged all the same). Ids (offsets) never go back, not even when everything was pruned.
 * The upgrade to shared offsets (migration 0006) keeps message order.
 */
import { expect, test } from 'bun:test'
import { createAudit } from '../../src/chat/audit.ts'
import { SINGLE_NODE } from '../../src/chat/change-feed.ts'
import { createCities } from '../../src/chat/cities.ts'
import { createModeration } from '../../src/chat/moderation.ts'
import { createRoles } from '../../src/chat/roles.ts'
import { createRoomAccess } from '../../src/chat/room-access.ts'
import { createRoomStream } from '../../src/chat/room-stream.ts'
import { createUserCache } from '../../src/chat/user-cache.ts'
import { createLogger } from '../../src/log.ts'
import type { Database } from '../../src/store/db.ts'
import { newId } from '../../src/store/ids.ts'
import { listRoomMessages } from '../../src/store/messages.ts'
import { loadMigrations, migrate } from '../../src/store/migrate.ts'
import { listRoomEventsAfter, pruneRecovery } from '../../src/store/room-stream.ts'
import { notifierProgress } from '../../src/store/schema.ts'
import { eventually } from '../helpers/eventually.ts'
import { tempDatabases } from '../helpers/store.ts'

const databases = tempDatabases()

/** The room access rule over the database, as the chat service builds it. */
function accessOf(db: Database['db']) {
  const log = createLogger({ level: 'error' })
  const audit = createAudit({ db })
  const feed = SINGLE_NODE
  const roles = createRoles({ db, audit, feed, userCache: createUserCache() })
  const cities = createCities({ db, audit, feed, roles })
  const moderation = createModeration({ db, audit, feed, roles, cities, log })
  return createRoomAccess({ db, cities, moderation })
}

/** The notifier's persisted watermark moved to `offset` (it handled the log up to there). */
async function handledUpTo(database: Database, offset: number): Promise<void> {
  await database.db
    .insert(notifierProgress)
    .values({ afterSeq: offset, untilSeq: offset, nodeId: 'test', createdAt: Date.now() })
}

/**
 * A room log with a 1 s window (prune ticks every second; 0: recovery off) and what it has
 * logged. `handled`: the notifier has handled everything (else it has handled nothing).
 */
function roomLogOf(database: Database, { windowMs = 1_000, handled = true } = {}) {
  const db = database.db
  if (handled) void handledUpTo(database, Number.MAX_SAFE_INTEGER)
  const roomLog = createRoomStream({
    db,
    writer: database.writer,
    log: createLogger({ level: 'error' }),
    access: accessOf(db),
    nodeId: 'n1',
    windowMs,
    maxReplay: 100,
  })
  const record = (tag: string) =>
    roomLog.append({ room: { kind: 'city', id: 'mumbai' }, event: 'e', args: [tag] })
  const logged = async () =>
    (await listRoomEventsAfter(database.db, ['city:mumbai'], 0, 100)).map(
      (row) => JSON.parse(row.packet)[1]
    )
  return { roomLog, record, logged }
}

test('log rows older than twice the window are pruned; newer ones stay', async () => {
  const { database } = await databases.migrated()
  const { roomLog, record, logged } = roomLogOf(database)
  try {
    await record('old-1')
    await record('old-2')
    // Ticks every second: the 1 s mark covers the old rows, and is past the 2 s cutoff at 3 s.
    await Bun.sleep(2_300)
    await record('new')
    expect(await logged()).toEqual(['old-1', 'old-2', 'new'])
    // Pruned at the 3 s tick (the 4 s one when the timer runs late); polled, so a loaded machine's
    // late timers do not fail it. Pruning 'new' too would never match.
    await eventually(
      async () => Bun.deepEquals(await logged(), ['new']),
      2_200,
      'the old rows pruned'
    )
  } finally {
    roomLog.close()
  }
}, 10_000)

test('after a restart, rows written before it go twice the window after they were written', async () => {
  const { database } = await databases.migrated()
  const before = roomLogOf(database)
  for (const tag of ['old-1', 'old-2', 'old-3']) await before.record(tag)
  before.roomLog.close()
  await Bun.sleep(2_100)
  // The restarted log prunes at its first tick, not two windows after it started (the newest
  // row always stays: it holds the latest offset).
  const after = roomLogOf(database, { handled: false })
  try {
    expect(await after.logged()).toEqual(['old-1', 'old-2', 'old-3'])
    // By the first tick (1 s), well before the 3 s tick a log that ignored its rows' age would need.
    await eventually(
      async () => Bun.deepEquals(await after.logged(), ['old-3']),
      1_800,
      'the rows written before the restart pruned'
    )
  } finally {
    after.roomLog.close()
  }
}, 10_000)

test('rows the notifier has not handled stay past the window, and go once it has', async () => {
  const { database } = await databases.migrated()
  const { roomLog, record, logged } = roomLogOf(database, { handled: false })
  try {
    await record('a')
    await record('b')
    const [first] = await listRoomEventsAfter(database.db, ['city:mumbai'], 0, 1)
    await record('c')
    // Three ticks past twice the window: nothing goes while the watermark is behind all three.
    await Bun.sleep(3_300)
    expect(await logged()).toEqual(['a', 'b', 'c'])
    // Handled up to the first: only it goes (never past the watermark).
    await handledUpTo(database, first?.id as number)
    await eventually(
      async () => Bun.deepEquals(await logged(), ['b', 'c']),
      2_200,
      'the handled row pruned'
    )
    await Bun.sleep(1_100)
    expect(await logged()).toEqual(['b', 'c'])
  } finally {
    roomLog.close()
  }
}, 12_000)

test('with recovery off, events are still logged (no offset handed over) until handled', async () => {
  const { database } = await databases.migrated()
  const { roomLog, record, logged } = roomLogOf(database, { windowMs: 0, handled: false })
  const handed: Array<number | undefined> = []
  roomLog.attach({ publish: (_topic, _json, offset) => handed.push(offset) })
  try {
    await record('a')
    await record('b')
    await record('c')
    expect(handed).toEqual([undefined, undefined, undefined])
    expect(await logged()).toEqual(['a', 'b', 'c'])
    await Bun.sleep(1_300)
    expect(await logged()).toEqual(['a', 'b', 'c'])
    // Handled: pruned at the next tick (the newest stays, it holds the latest offset).
    await handledUpTo(database, Number.MAX_SAFE_INTEGER)
    await eventually(
      async () => Bun.deepEquals(await logged(), ['c']),
      2_200,
      'the handled rows pruned'
    )
  } finally {
    roomLog.close()
  }
}, 10_000)

const logRow = { room: 'city:mumbai', packet: '["e"]', createdAt: 0 }

test('pruning everything keeps the newest row, so the next id still follows it', async () => {
  const { database } = await databases.migrated()
  const ids = []
  for (let i = 0; i < 3; i++) ids.push(await database.writer.appendRoomEvent(logRow))
  await pruneRecovery(database.db, ids[2] as number, Date.now())
  const left = await listRoomEventsAfter(database.db, ['city:mumbai'], 0, 10)
  expect(left.map((row) => row.id)).toEqual([ids[2] as number])
  expect(await database.writer.appendRoomEvent(logRow)).toBe((ids[2] as number) + 1)
})

test('a large prune lets the event loop run between its slices', async () => {
  const { database } = await databases.migrated()
  const ids = await Promise.all(
    Array.from({ length: 20_000 }, () => database.writer.appendRoomEvent(logRow))
  )
  const newest = Math.max(...ids)
  let turns = 0
  let pruning = true
  const turn = () => {
    turns++
    if (pruning) setImmediate(turn)
  }
  setImmediate(turn)
  await pruneRecovery(database.db, newest, Date.now())
  pruning = false
  // In one statement the whole prune ran before any other callback (0 turns).
  expect(turns).toBeGreaterThanOrEqual(3)
  const left = await listRoomEventsAfter(database.db, ['city:mumbai'], 0, 10)
  expect(left.map((row) => row.id)).toEqual([newest])
})

test('a log emptied before the rowid migration keeps its high-water mark', async () => {
  // The AUTOINCREMENT log of migrations 0001-0003, ids 1-5 used and every row pruned.
  const { database } = await databases.migrated(
    {},
    loadMigrations().filter((migration) => migration.tag < '0004')
  )
  await database.executeAll([
    ...Array.from(
      { length: 5 },
      () => "INSERT INTO room_events (room, packet, created_at) VALUES ('city:mumbai', '[]', 0)"
    ),
    'DELETE FROM room_events',
  ])
  expect(await migrate(database)).toContain('0004_room_events_reference_messages')
  expect(await database.writer.appendRoomEvent(logRow)).toBe(6)
})

test('upgrading to shared offsets: messages keep their order, the old log and sessions go', async () => {
  const { database } = await databases.migrated(
    {},
    loadMigrations().filter((migration) => migration.tag < '0006')
  )
  const author = newId()
  const ids = [newId(), newId(), newId()]
  await database.executeAll([
    // Raw SQL: the schema of today has columns these old tables lack.
    "INSERT INTO cities (id, name, country, created_at) VALUES ('mumbai', 'Mumbai', 'India', 0)",
    `INSERT INTO users (id, username, email, full_name, created_at, updated_at)
      VALUES ('${author}', 'old', 'old@example.test', 'Old', 0, 0)`,
    // Stored out of id order: the rowids said nothing about the order before.
    ...[2, 0, 1].map(
      (i) => `INSERT INTO messages (id, city_id, author_id, content, created_at)
        VALUES ('${ids[i]}', 'mumbai', '${author}', 'm${i}', 0)`
    ),
    ...Array.from(
      { length: 40 },
      () => "INSERT INTO room_events (room, packet, created_at) VALUES ('city:mumbai', '[]', 0)"
    ),
    `INSERT INTO socket_sessions (pid, socket_id, user_id, rooms, expires_at)
      VALUES ('p', 's', '${author}', '[]', ${Date.now() + 60_000})`,
  ])
  // Up to 0006: the upgrade this test is about (later migrations have tests of their own).
  const upTo0006 = loadMigrations().filter((migration) => migration.tag < '0007')
  expect(await migrate(database, upTo0006)).toEqual(['0006_message_offsets'])
  // The rest, so today's reads (which know later columns) work.
  await migrate(database)
  const page = await listRoomMessages(
    database.db,
    { kind: 'city', id: 'mumbai' },
    { limit: 10, viewerId: '' }
  )
  expect(page.messages.map((m) => m.content)).toEqual(['m0', 'm1', 'm2'])
  expect(await listRoomEventsAfter(database.db, ['city:mumbai'], 0, 100)).toEqual([])
  expect(await database.queryRows('SELECT count(*) FROM socket_sessions')).toEqual([[0]])
  // Offsets clients may hold (log ids up to 40) are never given out again.
  expect(await database.writer.appendRoomEvent(logRow)).toBe(41)
})
