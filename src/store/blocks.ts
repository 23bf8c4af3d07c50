/** @module Block rows: who blocked whom. */
import { and, asc, eq, inArray } from 'drizzle-orm'
import type { Db } from './db.ts'
import { userBlocks } from './schema.ts'

export async function putBlock(db: Db, blockerId: string, blockedId: string, now: number) {
  await db.insert(userBlocks).values({ blockerId, blockedId, createdAt: now }).onConflictDoNothing()
}

export async function deleteBlock(db: Db, blockerId: string, blockedId: string) {
  await db
    .delete(userBlocks)
    .where(and(eq(userBlocks.blockerId, blockerId), eq(userBlocks.blockedId, blockedId)))
}

export async function listBlocked(db: Db, blockerId: string) {
  return db
    .select({ userId: userBlocks.blockedId, createdAt: userBlocks.createdAt })
    .from(userBlocks)
    .where(eq(userBlocks.blockerId, blockerId))
    .orderBy(asc(userBlocks.createdAt))
}

/** Which of `blockerIds` blocked `blockedId`. */
export async function blockersAmong(
  db: Db,
  blockerIds: readonly string[],
  blockedId: string
): Promise<string[]> {
  if (blockerIds.length === 0) return []
  const rows = await db
    .select({ id: userBlocks.blockerId })
    .from(userBlocks)
    .where(and(inArray(userBlocks.blockerId, [...blockerIds]), eq(userBlocks.blockedId, blockedId)))
  return rows.map((row) => row.id)
}
