/** @module Audit log rows: appended by every moderation action, read newest first by admins. */
import { desc, lt } from 'drizzle-orm'
import type { Db } from './db.ts'
import { type AuditRow, auditLog } from './schema.ts'

export type NewAuditRow = Omit<AuditRow, 'id'>

export async function insertAudit(db: Db, row: NewAuditRow): Promise<void> {
  await db.insert(auditLog).values(row)
}

/** Newest first; `before` is an id (a page cursor). */
export async function listAudit(db: Db, limit: number, before?: number): Promise<AuditRow[]> {
  return db
    .select()
    .from(auditLog)
    .where(before === undefined ? undefined : lt(auditLog.id, before))
    .orderBy(desc(auditLog.id))
    .limit(limit)
}
