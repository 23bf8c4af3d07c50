/** @module Refresh token rows: issue, rotate atomically, revoke a family, forget expired ones. */
import { and, eq, inArray, isNull, lt, ne } from 'drizzle-orm'
import type { Db } from './db.ts'
import { type RefreshTokenRow, refreshTokens } from './schema.ts'

export type NewRefreshToken = typeof refreshTokens.$inferInsert

export async function insertRefreshToken(db: Db, token: NewRefreshToken): Promise<void> {
  await db.insert(refreshTokens).values(token)
}

export async function findRefreshTokenByHash(
  db: Db,
  tokenHash: string
): Promise<RefreshTokenRow | undefined> {
  const [row] = await db
    .select()
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, tokenHash))
    .limit(1)
  return row
}

/**
 * Marks a token rotated if, and only if, nobody has rotated or revoked it yet. A single
 * conditional UPDATE, so two concurrent refreshes with the same token cannot both win.
 */
export async function claimRefreshToken(db: Db, id: string, now: number): Promise<boolean> {
  const rows = await db
    .update(refreshTokens)
    .set({ rotatedAt: now })
    .where(
      and(
        eq(refreshTokens.id, id),
        isNull(refreshTokens.rotatedAt),
        isNull(refreshTokens.revokedAt)
      )
    )
    .returning({ id: refreshTokens.id })
  return rows.length === 1
}

export async function revokeRefreshFamily(db: Db, familyId: string, now: number): Promise<void> {
  await db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)))
}

/** Revokes every token of the user, or all but those of family `keep`. */
export async function revokeUserRefreshTokens(
  db: Db,
  userId: string,
  now: number,
  keep?: string
): Promise<void> {
  await db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(
      and(
        eq(refreshTokens.userId, userId),
        isNull(refreshTokens.revokedAt),
        keep ? ne(refreshTokens.familyId, keep) : undefined
      )
    )
}

/** Deletes up to `limit` tokens that expired before `now`. */
export async function deleteExpiredRefreshTokens(
  db: Db,
  now: number,
  limit: number
): Promise<void> {
  const expired = db
    .select({ id: refreshTokens.id })
    .from(refreshTokens)
    .where(lt(refreshTokens.expiresAt, now))
    .limit(limit)
  await db.delete(refreshTokens).where(inArray(refreshTokens.id, expired))
}
