/**
 * @module Audit log: every moderation action — roles, moderators, cities, deletes, restrictions,
 * slow mode, the word filter, resolved reports — is recorded with who did what to whom, where,
 * when and why. Admins read it (`GET /api/admin/audit`).
 */
import { ok, type Result } from '../errors.ts'
import * as store from '../store/audit.ts'
import type { Db } from '../store/db.ts'
import type { AuditRow, UserRow } from '../store/schema.ts'

export interface AuditEntry {
  actor: UserRow
  action: string
  targetUserId?: string | null | undefined
  cityId?: string | null | undefined
  messageId?: string | null | undefined
  reason?: string | null | undefined
  details?: Record<string, unknown> | undefined
}

/** @example await audit.record({ actor, action: 'restriction.add', targetUserId, cityId, reason }) */
export function createAudit({ db, now = Date.now }: { db: Db; now?: () => number }) {
  async function record(entry: AuditEntry): Promise<void> {
    await store.insertAudit(db, {
      actorId: entry.actor.id,
      action: entry.action,
      targetUserId: entry.targetUserId ?? null,
      cityId: entry.cityId ?? null,
      messageId: entry.messageId ?? null,
      reason: entry.reason ?? null,
      details: entry.details === undefined ? null : JSON.stringify(entry.details),
      createdAt: now(),
    })
  }

  /** Newest first (the caller checked the actor is an admin). */
  async function listAudit(limit: number, before?: number): Promise<Result<AuditRow[]>> {
    return ok(await store.listAudit(db, limit, before))
  }

  return { record, listAudit }
}

export type Audit = ReturnType<typeof createAudit>
