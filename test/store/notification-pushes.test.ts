/**
 * @module Notifications and their pushes commit together, on every store kind: a notification is
 * never stored without the pushes it made (a crash between two writes used to lose them), and a
 * push that cannot be written takes its notification's row back with it. The failing write is a
 * real one: a push for a subscription that is gone breaks the outbox's foreign key.
 */
import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { newId } from '../../src/store/ids.ts'
import { insertNotifications, listNotifications } from '../../src/store/notifications.ts'
import { claimDuePushes, type NewPushRow, savePushSubscription } from '../../src/store/push.ts'
import { type NotificationRow, pushOutbox } from '../../src/store/schema.ts'
import { rejectionOf } from '../helpers/rejection.ts'
import { STORE_KINDS, tempDatabases } from '../helpers/store.ts'

const databases = tempDatabases()
const COLLAPSE_MS = 60_000

async function setUp(kind: (typeof STORE_KINDS)[number]) {
  const { database, author } = await databases.seeded({ kind })
  const subscriptionId = newId()
  await savePushSubscription(database.db, {
    id: subscriptionId,
    userId: author.id,
    endpoint: `http://127.0.0.1:9/push/${subscriptionId}`,
    p256dh: 'key',
    auth: 'secret',
    createdAt: Date.now(),
  })
  const notification = (): NotificationRow => ({
    id: newId(),
    userId: author.id,
    kind: 'mention',
    roomKind: 'city',
    roomId: 'mumbai',
    messageId: null,
    actorId: author.id,
    createdAt: Date.now(),
    readAt: null,
  })
  const push = (to: string, count?: number): NewPushRow => ({
    pushId: newId(),
    subscriptionId: to,
    room: 'city:mumbai',
    payload: JSON.stringify({ preview: 'hi', ...(count ? { count } : {}) }),
    urgency: 'high',
    nextAt: Date.now(),
    collapseMs: COLLAPSE_MS,
    createdAt: Date.now(),
  })
  const feed = async () =>
    (await listNotifications(database.db, author.id, { limit: 50 })).notifications.map((n) => n.id)
  const outbox = () =>
    database.db.select().from(pushOutbox).where(eq(pushOutbox.subscriptionId, subscriptionId))
  return { db: database.db, subscriptionId, notification, push, feed, outbox }
}

describe.each(STORE_KINDS)('notifications with their pushes over %s', (kind) => {
  test('commit together, and a later one folds into the pending push', async () => {
    const { db, subscriptionId, notification, push, feed, outbox } = await setUp(kind)
    const first = notification()
    await insertNotifications(db, [first], [push(subscriptionId)])
    expect(await feed()).toEqual([first.id])
    expect((await outbox()).map((row) => row.state)).toEqual(['pending'])

    const second = notification()
    await insertNotifications(db, [second], [push(subscriptionId)])
    expect(await feed()).toEqual([second.id, first.id])
    const rows = await outbox()
    expect(rows).toHaveLength(1)
    expect(JSON.parse(rows[0]?.payload ?? '{}').count).toBe(2)
  })

  test("a push queued while the room's last one is under way waits out the collapse window", async () => {
    const { db, subscriptionId, notification, push, outbox } = await setUp(kind)
    await insertNotifications(db, [notification()], [push(subscriptionId)])
    const at = Date.now()
    const [claimed] = await claimDuePushes(db, at, at + 2 * COLLAPSE_MS, 10)
    expect(claimed?.state).toBe('sending')

    // Planned as due at once (its planner read no push under way): the write still waits.
    await insertNotifications(db, [notification()], [push(subscriptionId)])
    const pending = (await outbox()).filter((row) => row.state === 'pending')
    expect(pending).toHaveLength(1)
    expect(pending[0]?.nextAt).toBe(at + COLLAPSE_MS)
    expect(await claimDuePushes(db, at + COLLAPSE_MS - 1, at + 3 * COLLAPSE_MS, 10)).toEqual([])
    expect(await claimDuePushes(db, at + COLLAPSE_MS, at + 3 * COLLAPSE_MS, 10)).toHaveLength(1)
  })

  test('roll back together when the push cannot be written', async () => {
    const { db, subscriptionId, notification, push, feed, outbox } = await setUp(kind)
    const kept = notification()
    await insertNotifications(db, [kept], [push(subscriptionId)])

    const lost = notification()
    const error = await rejectionOf(
      insertNotifications(db, [lost], [push(subscriptionId), push(newId())])
    )
    expect(error.message + String((error as { cause?: unknown }).cause)).toContain('FOREIGN KEY')
    // Neither the notification nor the fold into the pending push happened.
    expect(await feed()).toEqual([kept.id])
    const rows = await outbox()
    expect(rows).toHaveLength(1)
    expect(JSON.parse(rows[0]?.payload ?? '{}').count).toBeUndefined()
  })

  test('a notification with no pushes is stored alone', async () => {
    const { db, notification, feed, outbox } = await setUp(kind)
    const alone = notification()
    await insertNotifications(db, [alone])
    expect(await feed()).toEqual([alone.id])
    expect(await outbox()).toHaveLength(0)
  })
})
