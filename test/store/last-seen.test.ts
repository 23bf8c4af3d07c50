/**
 * @module Last seen's storage on each driver (real files, sqld where installed): a batch writes
 * the heartbeat, the online list and the times together; settling gives a dead node's listed
 * users its heartbeat's time (never moving a later time back), leaves live nodes alone, and
 * settles a previous process of a node id whatever its age; a settled node's next beat finds no
 * heartbeat (so it lists its users again).
 */
import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import type { Db } from '../../src/store/db.ts'
import { newId } from '../../src/store/ids.ts'
import { beat, forgetNode, saveBatch, settleDeadNodes } from '../../src/store/last-seen.ts'
import { nodeHeartbeats, nodeUsers, users } from '../../src/store/schema.ts'
import { insertUser } from '../../src/store/users.ts'
import { STORE_KINDS, tempDatabases } from '../helpers/store.ts'

const databases = tempDatabases()

async function user(db: Db, name: string): Promise<string> {
  const now = Date.now()
  const row = await insertUser(db, {
    id: newId(now),
    username: name,
    email: `${name}@example.test`,
    fullName: name,
    createdAt: now,
    updatedAt: now,
  })
  return row.id
}

const lastSeen = async (db: Db, id: string) =>
  (await db.select({ at: users.lastSeenAt }).from(users).where(eq(users.id, id)))[0]?.at ?? null
const listed = async (db: Db, nodeId: string) =>
  (await db.select().from(nodeUsers).where(eq(nodeUsers.nodeId, nodeId))).map((r) => r.userId)
const heartbeats = async (db: Db) =>
  (await db.select().from(nodeHeartbeats)).map((r) => r.nodeId).sort()

const batch = (nodeId: string, at: number, online: string[], offline: string[] = []) => ({
  nodeId,
  at,
  seen: new Map<string, number>(),
  online,
  offline,
})

describe.each(STORE_KINDS)('last seen storage (%s)', (kind) => {
  test('a batch lists and unlists users and writes times that never move back', async () => {
    const { db } = (await databases.migrated({ kind })).database
    const [ann, ben] = [await user(db, 'ann'), await user(db, 'ben')]
    expect(await beat(db, 'n1', 1_000)).toBe(false)
    await saveBatch(db, { ...batch('n1', 1_000, [ann, ben]), seen: new Map([[ann, 900]]) })
    expect(await beat(db, 'n1', 2_000)).toBe(true)
    expect((await listed(db, 'n1')).sort()).toEqual([ann, ben].sort())
    await saveBatch(db, { ...batch('n1', 2_000, [], [ben]), seen: new Map([[ann, 500]]) })
    expect(await listed(db, 'n1')).toEqual([ann])
    expect(await lastSeen(db, ann)).toBe(900)
  })

  test('settling gives a dead node its heartbeat time and leaves live nodes alone', async () => {
    const { db } = (await databases.migrated({ kind })).database
    const [ann, ben, cat] = [await user(db, 'ann'), await user(db, 'ben'), await user(db, 'cat')]
    await saveBatch(db, batch('dead', 1_000, [ann, ben]))
    await saveBatch(db, batch('live', 5_000, [cat]))
    // Ben was seen later than the dead node's heartbeat (elsewhere): that time stays.
    await saveBatch(db, { ...batch('live', 5_000, []), seen: new Map([[ben, 4_000]]) })
    const settled = await settleDeadNodes(db, 3_000)
    expect(settled).toEqual([{ nodeId: 'dead', aliveAt: 1_000 }])
    expect(await lastSeen(db, ann)).toBe(1_000)
    expect(await lastSeen(db, ben)).toBe(4_000)
    expect(await lastSeen(db, cat)).toBeNull()
    expect(await heartbeats(db)).toEqual(['live'])
    expect(await listed(db, 'dead')).toEqual([])
    expect(await listed(db, 'live')).toEqual([cat])
    // Settled once: nothing left to settle.
    expect(await settleDeadNodes(db, 3_000)).toEqual([])
  })

  test("a node id's previous process is settled whatever its heartbeat's age", async () => {
    const { db } = (await databases.migrated({ kind })).database
    const ann = await user(db, 'ann')
    await saveBatch(db, batch('solo', 9_000, [ann]))
    expect(await settleDeadNodes(db, 1_000)).toEqual([])
    expect(await settleDeadNodes(db, 1_000, 'solo')).toEqual([{ nodeId: 'solo', aliveAt: 9_000 }])
    expect(await lastSeen(db, ann)).toBe(9_000)
    // Its next first beat finds no heartbeat: it lists its users again from scratch.
    expect(await beat(db, 'solo', 10_000)).toBe(false)
  })

  test('a clean shutdown leaves nothing to settle', async () => {
    const { db } = (await databases.migrated({ kind })).database
    const ann = await user(db, 'ann')
    await saveBatch(db, batch('n1', 1_000, [ann]))
    await forgetNode(db, 'n1')
    expect(await heartbeats(db)).toEqual([])
    expect(await settleDeadNodes(db, Number.MAX_SAFE_INTEGER)).toEqual([])
    expect(await lastSeen(db, ann)).toBeNull()
  })
})
