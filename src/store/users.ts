/** @module User rows: lookups, inserts and profile updates. */
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm'
import type { Db } from './db.ts'
import { type UserRole, type UserRow, users } from './schema.ts'

export type NewUser = typeof users.$inferInsert

export async function insertUser(db: Db, user: NewUser): Promise<UserRow> {
  const [row] = await db.insert(users).values(user).returning()
  if (!row) throw new Error('insert into users returned no row')
  return row
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1)
  return row
}

export async function findUserByLogin(db: Db, login: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(or(eq(users.username, login), eq(users.email, login)))
    .limit(1)
  return row
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.email, email)).limit(1)
  return row
}

export async function findUserByUsername(db: Db, username: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.username, username)).limit(1)
  return row
}

export async function findUserByExternalSubject(
  db: Db,
  subject: string
): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.externalSubject, subject)).limit(1)
  return row
}

/** Which of username / email are already taken (to answer 409 with the clashing field). */
export async function findTakenFields(
  db: Db,
  username: string,
  email: string
): Promise<Array<'username' | 'email'>> {
  const rows = await db
    .select({ username: users.username, email: users.email })
    .from(users)
    .where(or(eq(users.username, username), eq(users.email, email)))
  const taken = new Set<'username' | 'email'>()
  for (const row of rows) {
    if (row.username === username) taken.add('username')
    if (row.email === email) taken.add('email')
  }
  return [...taken]
}

export async function findUsersByIds(db: Db, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return []
  return db
    .select()
    .from(users)
    .where(inArray(users.id, [...new Set(ids)]))
}

/** Active users whose username or full name contains `search` (case-insensitive for ASCII). */
export async function searchUsers(db: Db, search: string, limit: number): Promise<UserRow[]> {
  const pattern = `%${search.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`
  // LIKE with an explicit escape so '%' and '_' in the search are literal.
  const text = or(
    sql`${users.username} LIKE ${pattern} ESCAPE '\\'`,
    sql`${users.fullName} LIKE ${pattern} ESCAPE '\\'`
  )
  return db
    .select()
    .from(users)
    .where(and(eq(users.isActive, true), search ? text : undefined))
    .orderBy(asc(users.username))
    .limit(limit)
}

export async function updateUser(
  db: Db,
  id: string,
  changes: Partial<
    Pick<
      UserRow,
      'fullName' | 'profilePhotoUrl' | 'isActive' | 'passwordHash' | 'email' | 'emailVerifiedAt'
    >
  > & {
    updatedAt: number
  }
): Promise<UserRow | undefined> {
  const [row] = await db.update(users).set(changes).where(eq(users.id, id)).returning()
  return row
}

/** Active users with these (lower-cased) usernames: what `@name` in a message resolves to. */
export async function findActiveUsersByUsernames(
  db: Db,
  usernames: readonly string[]
): Promise<Array<{ id: string; username: string }>> {
  if (usernames.length === 0) return []
  return db
    .select({ id: users.id, username: users.username })
    .from(users)
    .where(and(inArray(users.username, [...new Set(usernames)]), eq(users.isActive, true)))
}

export async function setUserRole(db: Db, id: string, role: UserRole, now: number) {
  const [row] = await db
    .update(users)
    .set({ role, updatedAt: now })
    .where(eq(users.id, id))
    .returning()
  return row
}

/** Makes admins of these usernames (ADMIN_USERNAMES); unknown names are skipped. */
export async function promoteAdmins(db: Db, usernames: readonly string[], now: number) {
  if (usernames.length === 0) return
  await db
    .update(users)
    .set({ role: 'admin', updatedAt: now })
    .where(inArray(users.username, [...usernames]))
}

/** Admins' ids (they read private-chat reports). */
export async function listAdminIds(db: Db): Promise<string[]> {
  const rows = await db.select({ id: users.id }).from(users).where(eq(users.role, 'admin'))
  return rows.map((row) => row.id)
}

/** Ids of global moderators and admins (they moderate every city). */
export async function listStaffIds(db: Db): Promise<string[]> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(inArray(users.role, ['moderator', 'admin']))
  return rows.map((row) => row.id)
}
