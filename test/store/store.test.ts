/**
 * @module Store over every kind: the same functions give the same answers on bun:sqlite and libSQL
 * files, and on a libSQL server (sqld).
 */
import { describe, expect, test } from 'bun:test'
import { listCities } from '../../src/store/cities.ts'
import { type Database, isUniqueViolation } from '../../src/store/db.ts'
import { createIdSource, ID_PATTERN, idTime, newId } from '../../src/store/ids.ts'
import { listRoomMessages, type NewMessageRow } from '../../src/store/messages.ts'
import { DEFAULT_CITIES, seedCities } from '../../src/store/seed.ts'
import { insertUser, searchUsers } from '../../src/store/users.ts'
import { rejectionOf } from '../helpers/rejection.ts'
import { STORE_KINDS, type StoreKind, tempDatabases } from '../helpers/store.ts'

describe('ids', () => {
  test('24 hex, strictly increasing within a process, and carry their time', () => {
    const now = Date.now()
    const ids = Array.from({ length: 2000 }, () => newId())
    expect(ids.every((id) => ID_PATTERN.test(id))).toBe(true)
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
    expect(Math.abs(idTime(ids[0] ?? '') - now)).toBeLessThan(1000)
  })

  test('a clock that steps back does not break ordering', () => {
    // A source of its own: the shared one would keep the future millisecond for 10 s.
    const nextId = createIdSource()
    const a = nextId(Date.now() + 10_000)
    const b = nextId(Date.now())
    expect(b > a).toBe(true)
    expect(idTime(b)).toBe(idTime(a))
  })
})

const databases = tempDatabases()

async function fresh(kind: StoreKind): Promise<Database> {
  return (await databases.migrated({ kind })).database
}

describe.each(STORE_KINDS)('store over %s', (kind) => {
  test('seeding is idempotent and has mumbai', async () => {
    const { db } = await fresh(kind)
    await seedCities(db)
    await seedCities(db)
    const cities = await listCities(db)
    expect(cities).toHaveLength(DEFAULT_CITIES.length)
    expect(cities.length).toBeGreaterThanOrEqual(20)
    expect(cities.map((c) => c.id)).toContain('mumbai')
  })

  test('users, messages and pages round-trip; foreign keys are enforced', async () => {
    const { db, writer } = await fresh(kind)
    await seedCities(db)
    const now = Date.now()
    const user = await insertUser(db, {
      id: newId(),
      username: 'zed',
      email: 'zed@example.test',
      fullName: 'Zed',
      createdAt: now,
      updatedAt: now,
    })
    expect(user.isActive).toBe(true)
    expect((await searchUsers(db, 'ze', 10)).map((u) => u.id)).toEqual([user.id])
    const message = (fields: Partial<NewMessageRow>): NewMessageRow => ({
      id: newId(),
      authorId: user.id,
      content: 'x',
      createdAt: now,
      ...fields,
    })
    for (let i = 0; i < 3; i++) {
      await writer.insertMessage(message({ cityId: 'mumbai', content: `m${i}` }))
    }
    const page = await listRoomMessages(
      db,
      { kind: 'city', id: 'mumbai' },
      { limit: 2, viewerId: '' }
    )
    expect(page.messages.map((m) => m.content)).toEqual(['m1', 'm2'])
    expect(page.messages[0]?.author.username).toBe('zed')
    expect(page.hasMore).toBe(true)
    expect(
      (await rejectionOf(writer.insertMessage(message({ cityId: 'nowhere' })))).message
    ).toContain('FOREIGN KEY')
    // The one-room check: a message is in a city or a chat, never neither.
    expect((await rejectionOf(writer.insertMessage(message({})))).message).toContain('CHECK')
  })
})

describe.each(STORE_KINDS)('unique violations over %s', (kind) => {
  test('are recognised whichever driver threw them', async () => {
    const { db } = await fresh(kind)
    const user = {
      id: newId(),
      username: 'u',
      email: 'u@example.test',
      fullName: 'U',
      createdAt: 1,
      updatedAt: 1,
    }
    await insertUser(db, user)
    const error = await insertUser(db, { ...user, id: newId() }).catch((e: unknown) => e)
    expect(isUniqueViolation(error)).toBe(true)
    expect(isUniqueViolation(new Error('disk I/O error'))).toBe(false)
  })
})
