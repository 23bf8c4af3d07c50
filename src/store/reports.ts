/** @module Report rows: one per reporter and message, open until a moderator resolves them. */
import { and, asc, eq, inArray } from 'drizzle-orm'
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

/** Reports with this status, oldest first; in these cities only when `cityIds` is given. */
export async function listReports(
  db: Db,
  status: ReportStatus,
  cityIds: string[] | undefined,
  limit: number
): Promise<ReportRow[]> {
  return db
    .select()
    .from(reports)
    .where(
      and(
        eq(reports.status, status),
        cityIds === undefined ? undefined : inArray(reports.cityId, cityIds)
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
