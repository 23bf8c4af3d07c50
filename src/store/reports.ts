/** @module Report rows: one per reporter and message, open until a moderator resolves them. */
import { and, asc, eq, inArray, isNotNull } from 'drizzle-orm'
import type { Db } from './db.ts'
import { type ReportRow, type ReportStatus, reports } from './schema.ts'

/** False when the reporter already reported this message (the unique index said so). */
export async function insertReport(db: Db, row: ReportRow): Promise<boolean> {
  const inserted = await db
    .insert(reports)
    .values(row)
    .onConflictDoNothing()
    .returning({ id: reports.id })
  return inserted.length > 0
}

export async function findReport(db: Db, id: string): Promise<ReportRow | undefined> {
  const [row] = await db.select().from(reports).where(eq(reports.id, id)).limit(1)
  return row
}

/**
 * Which reports a reader gets: `everything` (city and private-chat reports), `cities` (every
 * city's), or the reports of these cities.
 */
export type ReportScope = 'everything' | 'cities' | string[]

/** Reports with this status in the scope, oldest first. */
export async function listReports(
  db: Db,
  status: ReportStatus,
  scope: ReportScope,
  limit: number
): Promise<ReportRow[]> {
  return db
    .select()
    .from(reports)
    .where(
      and(
        eq(reports.status, status),
        scope === 'everything'
          ? undefined
          : scope === 'cities'
            ? isNotNull(reports.cityId)
            : inArray(reports.cityId, scope)
      )
    )
    .orderBy(asc(reports.createdAt))
    .limit(limit)
}

/** Resolves an open report; false when it was no longer open (someone else resolved it). */
export async function resolveReport(
  db: Db,
  id: string,
  changes: Pick<ReportRow, 'status' | 'action' | 'resolvedBy' | 'resolvedAt'>
): Promise<boolean> {
  const done = await db
    .update(reports)
    .set(changes)
    .where(and(eq(reports.id, id), eq(reports.status, 'open')))
    .returning({ id: reports.id })
  return done.length > 0
}
