/** @module Email token rows: mailed single-use tokens (verify an address, reset a password), hashed. */
import { and, eq, gt, isNull, lt, or } from 'drizzle-orm'
import type { Db } from './db.ts'
import { type EmailTokenPurpose, type EmailTokenRow, emailTokens } from './schema.ts'

export type NewEmailToken = typeof emailTokens.$inferInsert

/** Stores a token; the user's expired or used tokens go at the same time (no sweeper needed). */
export async function insertEmailToken(db: Db, token: NewEmailToken): Promise<void> {
  await db
    .delete(emailTokens)
    .where(
      and(
        eq(emailTokens.userId, token.userId),
        or(lt(emailTokens.expiresAt, token.createdAt), gt(emailTokens.usedAt, 0))
      )
    )
  await db.insert(emailTokens).values(token)
}

/**
 * Marks the token used if, and only if, it is unused, unexpired and for `purpose`: one
 * conditional UPDATE, so the same link clicked twice at once works once.
 */
export async function claimEmailToken(
  db: Db,
  tokenHash: string,
  purpose: EmailTokenPurpose,
  now: number
): Promise<EmailTokenRow | undefined> {
  const [row] = await db
    .update(emailTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(emailTokens.tokenHash, tokenHash),
        eq(emailTokens.purpose, purpose),
        isNull(emailTokens.usedAt),
        gt(emailTokens.expiresAt, now)
      )
    )
    .returning()
  return row
}

/** Every unused token of the user for `purpose` stops working (a reset done, a newer link sent). */
export async function voidEmailTokens(
  db: Db,
  userId: string,
  purpose: EmailTokenPurpose,
  now: number
): Promise<void> {
  await db
    .update(emailTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(emailTokens.userId, userId),
        eq(emailTokens.purpose, purpose),
        isNull(emailTokens.usedAt)
      )
    )
}
