/** @module Moderation rows: city moderators, restrictions (ban, mute, shadow) and the word filter. */
import { and, eq } from 'drizzle-orm'
import { type Db, type Statement, writeTogether } from './db.ts'
import {
  cityModerators,
  type FilterAction,
  type RestrictionRow,
  restrictions,
  wordFilter,
} from './schema.ts'

export async function listCityModerators(
  db: Db
): Promise<Array<{ cityId: string; userId: string }>> {
  return db
    .select({ cityId: cityModerators.cityId, userId: cityModerators.userId })
    .from(cityModerators)
}

export async function listModeratorsOfCity(db: Db, cityId: string): Promise<string[]> {
  const rows = await db
    .select({ userId: cityModerators.userId })
    .from(cityModerators)
    .where(eq(cityModerators.cityId, cityId))
  return rows.map((row) => row.userId)
}

export async function addCityModerator(db: Db, cityId: string, userId: string, now: number) {
  await db.insert(cityModerators).values({ cityId, userId, createdAt: now }).onConflictDoNothing()
}

export async function removeCityModerator(db: Db, cityId: string, userId: string) {
  await db
    .delete(cityModerators)
    .where(and(eq(cityModerators.cityId, cityId), eq(cityModerators.userId, userId)))
}

export async function listRestrictions(db: Db, cityId?: string): Promise<RestrictionRow[]> {
  const query = db.select().from(restrictions)
  return cityId === undefined ? query : query.where(eq(restrictions.cityId, cityId))
}

export async function listUserRestrictions(
  db: Db,
  cityId: string,
  userId: string
): Promise<RestrictionRow[]> {
  return db
    .select()
    .from(restrictions)
    .where(and(eq(restrictions.cityId, cityId), eq(restrictions.userId, userId)))
}

/** One restriction of each kind per user and city: a new one replaces the old. */
export async function putRestriction(db: Db, row: RestrictionRow): Promise<void> {
  await db
    .insert(restrictions)
    .values(row)
    .onConflictDoUpdate({
      target: [restrictions.cityId, restrictions.userId, restrictions.kind],
      set: {
        until: row.until,
        reason: row.reason,
        createdBy: row.createdBy,
        createdAt: row.createdAt,
      },
    })
}

/** Lifts every restriction of the user in the city; how many there were. */
export async function deleteUserRestrictions(db: Db, cityId: string, userId: string) {
  const gone = await db
    .delete(restrictions)
    .where(and(eq(restrictions.cityId, cityId), eq(restrictions.userId, userId)))
    .returning({ kind: restrictions.kind })
  return gone.length
}

export async function listWordFilter(
  db: Db
): Promise<Array<{ term: string; action: FilterAction }>> {
  return db.select().from(wordFilter)
}

/** The whole filter replaced in one transaction. */
export async function replaceWordFilter(
  db: Db,
  terms: Array<{ term: string; action: FilterAction }>
): Promise<void> {
  // One transaction on every driver (an async drizzle transaction on bun:sqlite commits at its
  // first await, which left the delete and the insert apart).
  const statements: Statement[] = [db.delete(wordFilter)]
  if (terms.length > 0) statements.push(db.insert(wordFilter).values(terms).onConflictDoNothing())
  await writeTogether(db, statements)
}
