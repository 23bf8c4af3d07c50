/**
 * @module Webhook rows: the hooks an admin registered, and the outbox (queued, claimed by a node
 * under a lease, delivered, retried, dead).
 */
import { and, asc, count, desc, eq, isNull, lt, lte, or, sql } from 'drizzle-orm'
import type { Db } from './db.ts'
import { type WebhookOutboxRow, type WebhookRow, webhookOutbox, webhooks } from './schema.ts'

export async function insertWebhook(db: Db, row: WebhookRow): Promise<void> {
  await db.insert(webhooks).values(row)
}

export async function findWebhook(db: Db, id: string): Promise<WebhookRow | undefined> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id))
  return row
}

export async function listWebhooks(db: Db): Promise<WebhookRow[]> {
  return db.select().from(webhooks).orderBy(asc(webhooks.id))
}

export async function countWebhooks(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(webhooks)
  return row?.n ?? 0
}

/** Removes a hook and what it still had to deliver; whether it existed. */
export async function deleteWebhook(db: Db, id: string): Promise<boolean> {
  const gone = await db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id })
  if (gone.length === 0) return false
  await db
    .delete(webhookOutbox)
    .where(and(eq(webhookOutbox.hookId, id), eq(webhookOutbox.state, 'pending')))
  return true
}

/** One hook's deliveries, newest first, before the outbox id `before`. */
export async function listWebhookDeliveries(
  db: Db,
  hookId: string,
  { before, limit }: { before?: number | undefined; limit: number }
): Promise<{ deliveries: WebhookOutboxRow[]; hasMore: boolean }> {
  const rows = await db
    .select()
    .from(webhookOutbox)
    .where(
      and(
        eq(webhookOutbox.hookId, hookId),
        before === undefined ? undefined : lt(webhookOutbox.id, before)
      )
    )
    .orderBy(desc(webhookOutbox.id))
    .limit(limit + 1)
  return { deliveries: rows.slice(0, limit), hasMore: rows.length > limit }
}

export type NewWebhookRow = typeof webhookOutbox.$inferInsert

export async function insertWebhookRows(db: Db, rows: NewWebhookRow[]): Promise<void> {
  if (rows.length === 0) return
  await insertWebhookRowsStatement(db, rows)
}

/** The insert of outbox rows, to commit with other writes (writeTogether). */
export function insertWebhookRowsStatement(db: Db, rows: NewWebhookRow[]) {
  return db.insert(webhookOutbox).values(rows)
}

/**
 * The oldest pending row of each hook and room, when it is due and nobody holds it, up to
 * `limit`; each returned row is leased to the caller until `leaseUntil`. A room's later rows for
 * the same hook wait for it: order per room and receiver (one dead receiver holds up no other).
 */
export async function claimDueWebhooks(
  db: Db,
  now: number,
  leaseUntil: number,
  limit: number
): Promise<WebhookOutboxRow[]> {
  const heads = await db
    .select()
    .from(webhookOutbox)
    .where(
      and(
        eq(webhookOutbox.state, 'pending'),
        sql`${webhookOutbox.id} = (SELECT min(o.id) FROM webhook_outbox o WHERE o.room = ${webhookOutbox.room} AND o.hook_id = ${webhookOutbox.hookId} AND o.state = 'pending')`,
        lte(webhookOutbox.nextAt, now),
        or(isNull(webhookOutbox.leaseUntil), lt(webhookOutbox.leaseUntil, now))
      )
    )
    .orderBy(asc(webhookOutbox.id))
    .limit(limit)
  const claimed: WebhookOutboxRow[] = []
  for (const row of heads) {
    // Another node may have taken it since the read: the lease is taken by one UPDATE.
    const taken = await db
      .update(webhookOutbox)
      .set({ leaseUntil })
      .where(
        and(
          eq(webhookOutbox.id, row.id),
          eq(webhookOutbox.state, 'pending'),
          or(isNull(webhookOutbox.leaseUntil), lt(webhookOutbox.leaseUntil, now))
        )
      )
      .returning({ id: webhookOutbox.id })
    if (taken.length === 1) claimed.push({ ...row, leaseUntil })
  }
  return claimed
}

/** What one attempt did: delivered, to be retried at `nextAt`, or dead. */
export async function recordWebhookAttempt(
  db: Db,
  id: number,
  outcome: {
    state: 'pending' | 'delivered' | 'dead'
    attempts: number
    nextAt: number
    status: number | null
    error: string | null
    at: number
  }
): Promise<void> {
  await db
    .update(webhookOutbox)
    .set({
      state: outcome.state,
      attempts: outcome.attempts,
      nextAt: outcome.nextAt,
      lastStatus: outcome.status,
      lastError: outcome.error,
      leaseUntil: null,
      doneAt: outcome.state === 'pending' ? null : outcome.at,
    })
    .where(eq(webhookOutbox.id, id))
}

/**
 * The first outbox id at or after which rows were written at `before` or later (ids follow time):
 * a binary search of rowid seeks, so finding it reads a few dozen rows whatever the table's size.
 */
export async function firstWebhookIdFrom(db: Db, before: number): Promise<number> {
  const [bounds] = await db
    .select({
      lo: sql<number | null>`min(${webhookOutbox.id})`,
      hi: sql<number | null>`max(${webhookOutbox.id})`,
    })
    .from(webhookOutbox)
  if (bounds?.lo == null || bounds.hi == null) return 0
  let lo = Number(bounds.lo)
  let hi = Number(bounds.hi) + 1
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    const [row] = await db
      .select({ id: webhookOutbox.id, createdAt: webhookOutbox.createdAt })
      .from(webhookOutbox)
      .where(sql`${webhookOutbox.id} >= ${mid}`)
      .orderBy(asc(webhookOutbox.id))
      .limit(1)
    if (row && row.createdAt < before) lo = row.id + 1
    else hi = mid
  }
  return lo
}

/** The oldest outbox id, 0 for an empty outbox. */
export async function oldestWebhookId(db: Db): Promise<number> {
  const [row] = await db
    .select({ id: sql<number | null>`min(${webhookOutbox.id})` })
    .from(webhookOutbox)
  return Number(row?.id ?? 0)
}

/** Deletes the delivered and dead rows with `fromId <= id < toId` (one rowid range); how many. */
export async function deleteFinishedWebhooks(
  db: Db,
  fromId: number,
  toId: number
): Promise<number> {
  const rows = await db
    .delete(webhookOutbox)
    .where(
      and(
        sql`${webhookOutbox.id} >= ${fromId}`,
        lt(webhookOutbox.id, toId),
        sql`${webhookOutbox.state} <> 'pending'`
      )
    )
    .returning({ id: webhookOutbox.id })
  return rows.length
}
