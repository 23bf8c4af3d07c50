/**
 * @module Web Push rows: browsers' subscriptions, and the push outbox (one row per push to one
 * subscription: queued, folded, claimed under a lease, sent, retried, dead).
 */
import { and, asc, count, eq, inArray, lt, lte, or, sql } from 'drizzle-orm'
import type { Db, Statement } from './db.ts'
import {
  type PushOutboxRow,
  type PushSubscriptionRow,
  pushOutbox,
  pushSubscriptions,
} from './schema.ts'

/** Saves a subscription; an endpoint already known is moved to this user with the new keys. */
export async function savePushSubscription(db: Db, row: PushSubscriptionRow): Promise<void> {
  await db
    .insert(pushSubscriptions)
    .values(row)
    .onConflictDoUpdate({
      target: pushSubscriptions.endpoint,
      set: { userId: row.userId, p256dh: row.p256dh, auth: row.auth },
    })
}

export async function findPushSubscription(
  db: Db,
  endpoint: string
): Promise<PushSubscriptionRow | undefined> {
  const [row] = await db
    .select()
    .from(pushSubscriptions)
    .where(eq(pushSubscriptions.endpoint, endpoint))
  return row
}

export async function countPushSubscriptions(db: Db, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(pushSubscriptions)
    .where(eq(pushSubscriptions.userId, userId))
  return row?.n ?? 0
}

/** Every subscription of these users. */
export async function pushSubscriptionsOf(
  db: Db,
  userIds: readonly string[]
): Promise<PushSubscriptionRow[]> {
  if (userIds.length === 0) return []
  return db
    .select()
    .from(pushSubscriptions)
    .where(inArray(pushSubscriptions.userId, [...userIds]))
}

export async function findPushSubscriptionById(
  db: Db,
  id: string
): Promise<PushSubscriptionRow | undefined> {
  const [row] = await db.select().from(pushSubscriptions).where(eq(pushSubscriptions.id, id))
  return row
}

/** Removes one subscription (its pending pushes go with it); whether it was there. */
export async function deletePushSubscription(
  db: Db,
  where: { id: string } | { userId: string; endpoint: string }
): Promise<boolean> {
  const rows = await db
    .delete(pushSubscriptions)
    .where(
      'id' in where
        ? eq(pushSubscriptions.id, where.id)
        : and(
            eq(pushSubscriptions.userId, where.userId),
            eq(pushSubscriptions.endpoint, where.endpoint)
          )
    )
    .returning({ id: pushSubscriptions.id })
  return rows.length > 0
}

export async function deleteUserPushSubscriptions(db: Db, userId: string): Promise<void> {
  await db.delete(pushSubscriptions).where(eq(pushSubscriptions.userId, userId))
}

/**
 * A push to queue: due at `nextAt`, but never sooner than `collapseMs` after the room's last push
 * to the subscription went out (sent, or under way). The statement that stores it decides that.
 */
export type NewPushRow = Pick<
  PushOutboxRow,
  'pushId' | 'subscriptionId' | 'room' | 'payload' | 'urgency' | 'nextAt' | 'createdAt'
> & { collapseMs: number }

/**
 * The statement that queues pushes (run by store/notifications.ts in the transaction that stores
 * their notifications). Where the subscription already has one pending for the room (waiting out
 * the collapse window), the newer payload replaces it, in one statement (so two nodes cannot
 * queue two): the partial unique index on pending rows makes the conflict. Otherwise the push is
 * due when the room's last push went out plus its collapse window, read by the same statement:
 * a push claimed between the notification's planning and this write (no longer pending, so
 * nothing to fold into) still holds the window, and the new one waits for it.
 */
export function queuePushesStatement(db: Db, rows: NewPushRow[]): Statement {
  return db
    .insert(pushOutbox)
    .values(
      rows.map(({ collapseMs, nextAt, ...row }) => ({
        ...row,
        nextAt: sql`(SELECT max(${nextAt}, coalesce(max(${pushOutbox.sentAt}) + ${collapseMs}, 0)) FROM ${pushOutbox} WHERE ${pushOutbox.subscriptionId} = ${row.subscriptionId} AND ${pushOutbox.room} = ${row.room} AND ${pushOutbox.sentAt} IS NOT NULL)`,
      }))
    )
    .onConflictDoUpdate({
      target: [pushOutbox.subscriptionId, pushOutbox.room],
      targetWhere: sql`state = 'pending'`,
      set: {
        // The newer message, and how many this push stands for.
        payload: sql`json_set(excluded.payload, '$.count', coalesce(json_extract(${pushOutbox.payload}, '$.count'), 1) + 1)`,
        urgency: sql`CASE WHEN excluded.urgency = 'high' THEN 'high' ELSE ${pushOutbox.urgency} END`,
      },
    })
}

/** Due pending rows, and rows whose sender's lease ran out (it died mid-send). */
const claimable = (now: number) =>
  or(
    and(eq(pushOutbox.state, 'pending'), lte(pushOutbox.nextAt, now)),
    and(eq(pushOutbox.state, 'sending'), lt(pushOutbox.leaseUntil, now))
  )

/**
 * Takes up to `limit` due pushes for this node until `leaseUntil`: each by one UPDATE that only
 * one node can win, counting the attempt and stamping when it went out.
 */
export async function claimDuePushes(
  db: Db,
  now: number,
  leaseUntil: number,
  limit: number
): Promise<PushOutboxRow[]> {
  const due = await db
    .select({ id: pushOutbox.id })
    .from(pushOutbox)
    .where(claimable(now))
    .orderBy(asc(pushOutbox.id))
    .limit(limit)
  const claimed: PushOutboxRow[] = []
  for (const { id } of due) {
    const [row] = await db
      .update(pushOutbox)
      .set({
        state: 'sending',
        leaseUntil,
        attempts: sql`${pushOutbox.attempts} + 1`,
        sentAt: now,
      })
      .where(and(eq(pushOutbox.id, id), claimable(now)))
      .returning()
    if (row) claimed.push(row)
  }
  return claimed
}

/** The push service took it (or it will never take it: dead). Only the lease holder's mark counts. */
export async function finishPush(
  db: Db,
  row: PushOutboxRow,
  outcome: { state: 'sent' | 'dead'; status: number | null; error: string | null; at: number }
): Promise<boolean> {
  const done = await db
    .update(pushOutbox)
    .set({
      state: outcome.state,
      lastStatus: outcome.status,
      lastError: outcome.error,
      leaseUntil: null,
      ...(outcome.state === 'sent' ? { sentAt: outcome.at } : {}),
    })
    .where(
      and(
        eq(pushOutbox.id, row.id),
        eq(pushOutbox.state, 'sending'),
        eq(pushOutbox.leaseUntil, row.leaseUntil as number)
      )
    )
    .returning({ id: pushOutbox.id })
  return done.length === 1
}

/**
 * Back to pending until `nextAt`. If a newer push for the room was queued meanwhile, this one is
 * folded into it instead (the newer payload says more), leaving one pending per room.
 */
export async function retryPush(
  db: Db,
  row: PushOutboxRow,
  outcome: { nextAt: number; status: number | null; error: string | null }
): Promise<void> {
  const mine = and(
    eq(pushOutbox.id, row.id),
    eq(pushOutbox.state, 'sending'),
    eq(pushOutbox.leaseUntil, row.leaseUntil as number)
  )
  const fields = { lastStatus: outcome.status, lastError: outcome.error, leaseUntil: null }
  try {
    await db
      .update(pushOutbox)
      .set({ ...fields, state: 'pending', nextAt: outcome.nextAt, sentAt: null })
      .where(mine)
  } catch {
    // The partial unique index: a newer pending push of this room exists.
    await db
      .update(pushOutbox)
      .set({ ...fields, state: 'collapsed' })
      .where(mine)
  }
}

/** Finished rows older than `before` (sent, collapsed, dead) go; newer ones hold the collapse time. */
export async function pruneFinishedPushes(db: Db, before: number): Promise<void> {
  await db
    .delete(pushOutbox)
    .where(
      and(
        inArray(pushOutbox.state, ['sent', 'collapsed', 'dead']),
        lt(pushOutbox.createdAt, before)
      )
    )
}
