/** @module Session rows: one per login (a refresh token family), for the owner's device list. */
import { and, desc, eq, gt, ne, sql } from 'drizzle-orm'
import { type Db, preparedPerDatabase } from './db.ts'
import { type SessionRow, sessions } from './schema.ts'

export type NewSession = typeof sessions.$inferInsert

export async function insertSession(db: Db, session: NewSession): Promise<void> {
  await db.insert(sessions).values(session)
}

/**
 * A refresh used the session: when, from where, and its new expiry. A family issued before
 * sessions were recorded gets its row now.
 */
export async function touchSession(
  db: Db,
  session: {
    id: string
    userId: string
    lastUsedAt: number
    expiresAt: number
    address: string | null
  }
): Promise<void> {
  const { lastUsedAt, expiresAt, address } = session
  await db
    .insert(sessions)
    .values({ ...session, createdAt: lastUsedAt })
    .onConflictDoUpdate({ target: sessions.id, set: { lastUsedAt, expiresAt, address } })
}

export async function findSession(db: Db, id: string): Promise<SessionRow | undefined> {
  const [row] = await db.select().from(sessions).where(eq(sessions.id, id)).limit(1)
  return row
}

/**
 * The handshake's revocation check, prepared once per database: every socket handshake asks it,
 * and building the query per call (Drizzle) cost more server CPU than the rest of the handshake.
 */
const existsQuery = preparedPerDatabase((db: Db) =>
  db
    .select({ id: sessions.id })
    .from(sessions)
    .where(eq(sessions.id, sql.placeholder('id')))
    .limit(1)
    .prepare()
)

/** Whether the session is still on record (not signed out, its password not changed or reset). */
export async function sessionExists(db: Db, id: string): Promise<boolean> {
  const rows = await existsQuery(db).all({ id })
  return rows.length > 0
}

/** The user's unexpired sessions, most recently used first. */
export async function listSessions(db: Db, userId: string, now: number): Promise<SessionRow[]> {
  return db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, now)))
    .orderBy(desc(sessions.lastUsedAt))
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, id))
}

/** Deletes the user's sessions except `keep` (every one when undefined); returns their ids. */
export async function deleteUserSessions(db: Db, userId: string, keep?: string): Promise<string[]> {
  const rows = await db
    .delete(sessions)
    .where(and(eq(sessions.userId, userId), keep ? ne(sessions.id, keep) : undefined))
    .returning({ id: sessions.id })
  return rows.map((row) => row.id)
}
