/** @module Notification rows: per-room settings, and the feed (made, listed, marked read). */
import { and, asc, count, desc, eq, inArray, isNull, lt, lte, max, or, sql } from 'drizzle-orm'
import { type Db, preparedPerDatabase, writeTogether } from './db.ts'
import { flatten, type MessageWithAuthor, selectWithAuthor } from './messages.ts'
import { type NewPushRow, queuePushesStatement } from './push.ts'
import {
  messages,
  type NotificationRow,
  type NotificationSettingRow,
  notificationSettings,
  notifications,
  notifierLease,
  notifierProgress,
} from './schema.ts'
import { insertWebhookRowsStatement, type NewWebhookRow } from './webhooks.ts'

type RoomKind = NotificationSettingRow['roomKind']

export async function saveSetting(db: Db, row: NotificationSettingRow): Promise<void> {
  await db
    .insert(notificationSettings)
    .values(row)
    .onConflictDoUpdate({
      target: [
        notificationSettings.userId,
        notificationSettings.roomKind,
        notificationSettings.roomId,
      ],
      set: { level: row.level, muteUntil: row.muteUntil },
    })
}

/** The settings these users chose for one room (users without a row have the default). */
export async function settingsOf(
  db: Db,
  roomKind: RoomKind,
  roomId: string,
  userIds: readonly string[]
): Promise<NotificationSettingRow[]> {
  if (userIds.length === 0) return []
  return db
    .select()
    .from(notificationSettings)
    .where(
      and(
        eq(notificationSettings.roomKind, roomKind),
        eq(notificationSettings.roomId, roomId),
        inArray(notificationSettings.userId, [...userIds])
      )
    )
}

/** Who chose `all` in which city (a city's default is mentions only, so these are few). */
export async function listCityAllChoosers(
  db: Db
): Promise<Array<{ userId: string; cityId: string }>> {
  return db
    .select({ userId: notificationSettings.userId, cityId: notificationSettings.roomId })
    .from(notificationSettings)
    .where(and(eq(notificationSettings.roomKind, 'city'), eq(notificationSettings.level, 'all')))
}

/**
 * Stores notifications and the pushes they make in one transaction: both commit or neither, so a
 * crash between them cannot leave a notification whose push was never queued.
 */
export async function insertNotifications(
  db: Db,
  rows: NotificationRow[],
  pushes: NewPushRow[] = []
): Promise<void> {
  if (rows.length === 0) return
  await writeTogether(db, [
    db.insert(notifications).values(rows),
    ...(pushes.length > 0 ? [queuePushesStatement(db, pushes)] : []),
  ])
}

export type NotificationWithMessage = NotificationRow & { message: MessageWithAuthor | null }

/** The user's feed, newest first, before the notification id `before`. */
export async function listNotifications(
  db: Db,
  userId: string,
  { before, limit }: { before?: string | undefined; limit: number }
): Promise<{ notifications: NotificationWithMessage[]; hasMore: boolean }> {
  const rows = await db
    .select()
    .from(notifications)
    .where(and(eq(notifications.userId, userId), before ? lt(notifications.id, before) : undefined))
    .orderBy(desc(notifications.id))
    .limit(limit + 1)
  const page = rows.slice(0, limit)
  const ids = page.flatMap((row) => (row.messageId ? [row.messageId] : []))
  const found = ids.length === 0 ? [] : await selectWithAuthor(db).where(inArray(messages.id, ids))
  const byId = new Map(found.map((row) => [row.message.id, flatten(row)]))
  return {
    notifications: page.map((row) => ({
      ...row,
      message: row.messageId ? (byId.get(row.messageId) ?? null) : null,
    })),
    hasMore: rows.length > limit,
  }
}

/** Marks the user's unread notifications up to and including `upTo` read; how many changed. */
export async function markNotificationsRead(
  db: Db,
  userId: string,
  upTo: string,
  readAt: number
): Promise<number> {
  const rows = await db
    .update(notifications)
    .set({ readAt })
    .where(
      and(
        eq(notifications.userId, userId),
        lte(notifications.id, upTo),
        isNull(notifications.readAt)
      )
    )
    .returning({ id: notifications.id })
  return rows.length
}

export async function countUnreadNotifications(db: Db, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(notifications)
    .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)))
  return row?.n ?? 0
}

/** The notifier's watermark: every message up to this seq was handled (store/schema.ts). */
export async function notifierWatermark(db: Db): Promise<number> {
  const [row] = await db
    .select({ untilSeq: notifierProgress.untilSeq })
    .from(notifierProgress)
    .orderBy(desc(notifierProgress.afterSeq))
    .limit(1)
  return row?.untilSeq ?? 0
}

/** The newest message's seq (0 with none): one rowid lookup. */
export async function newestMessageSeq(db: Db): Promise<number> {
  const [row] = await db.select({ seq: max(messages.seq) }).from(messages)
  return row?.seq ?? 0
}

/**
 * What may notify someone whatever the room's settings: a private-chat message, a reply, a
 * mention. The partial index messages_notify_idx (drizzle/0026) has this WHERE, so a query with
 * it walks that index, never the plain city messages.
 */
const NOTIFIABLE = sql`(${messages.chatId} IS NOT NULL OR ${messages.replyTo} IS NOT NULL OR ${messages.mentions} IS NOT NULL)`

const AFTER = sql.placeholder('after')
const UNTIL = sql.placeholder('until')
/** A JSON array of city ids. */
const CITIES = sql.placeholder('cities')

/**
 * The poll's read, with its bounds as placeholders (it runs every 50 ms: prepared once, built
 * once) and `limit` in the SQL (a bound LIMIT cost about 40 µs more a read). `filtered`: the notifiable messages (through messages_notify_idx) and the plain ones of
 * the cities in `cities` (where someone chose `all`, through messages_city_idx), each arm at most
 * `limit`, so no plain city message of another city is read; otherwise every message in range.
 */
export function messagesToNotifyQuery(db: Db, limit: number, filtered: boolean) {
  const LIMIT = sql.raw(String(Math.trunc(limit)))
  const range = sql`${messages.seq} > ${AFTER} AND ${messages.seq} <= ${UNTIL}`
  const notifiable = sql`SELECT seq FROM (SELECT ${messages.seq} FROM ${messages} WHERE ${range} AND ${NOTIFIABLE} ORDER BY ${messages.seq} LIMIT ${LIMIT})`
  const plain = sql`SELECT seq FROM (SELECT ${messages.seq} FROM ${messages} WHERE ${messages.cityId} IN (SELECT value FROM json_each(${CITIES})) AND ${range} AND ${messages.replyTo} IS NULL AND ${messages.mentions} IS NULL ORDER BY ${messages.seq} LIMIT ${LIMIT})`
  const every = sql`SELECT ${messages.seq} FROM ${messages} WHERE ${range} ORDER BY ${messages.seq} LIMIT ${LIMIT}`
  // No outer LIMIT: the arms bound the rows (at most twice `limit`; the caller keeps `limit`).
  return selectWithAuthor(db)
    .where(sql`${messages.seq} IN (${filtered ? sql`${notifiable} UNION ALL ${plain}` : every})`)
    .orderBy(asc(messages.seq))
}

/** Per database, per limit (the notifier uses one). */
const prepared = preparedPerDatabase((db: Db, limit: number) => ({
  every: messagesToNotifyQuery(db, limit, false).prepare(),
  filtered: messagesToNotifyQuery(db, limit, true).prepare(),
}))

/**
 * Messages in (`after`, `until`], in seq order, at most `limit`. With `plainCities`, a city
 * message with no reply and no mention is left out unless its city is one of them (where someone
 * chose `all`): the notifier's fast decision, in the query, which reads no row it leaves out.
 */
export async function messagesToNotify(
  db: Db,
  after: number,
  until: number,
  limit: number,
  plainCities: readonly string[] | null
): Promise<Array<MessageWithAuthor & { seq: number }>> {
  const queries = prepared(db, limit)
  const rows =
    plainCities === null
      ? await queries.every.all({ after, until })
      : await queries.filtered.all({ after, until, cities: JSON.stringify(plainCities) })
  return rows.slice(0, limit).map(flatten)
}

/** What the notifier made for the messages in (`afterSeq`, `untilSeq`], committed as one. */
export interface NotifiedBatch {
  notifications: NotificationRow[]
  pushes: NewPushRow[]
  webhooks: NewWebhookRow[]
  progress: typeof notifierProgress.$inferInsert
}

/**
 * Stores a batch's notifications, pushes and webhook events with its watermark row, in one
 * transaction. Throws a UNIQUE violation (nothing written) when another node already committed
 * the range after the same watermark.
 */
export async function commitNotified(db: Db, batch: NotifiedBatch): Promise<void> {
  await writeTogether(db, [
    ...(batch.notifications.length > 0
      ? [db.insert(notifications).values(batch.notifications)]
      : []),
    ...(batch.pushes.length > 0 ? [queuePushesStatement(db, batch.pushes)] : []),
    ...(batch.webhooks.length > 0 ? [insertWebhookRowsStatement(db, batch.webhooks)] : []),
    db.insert(notifierProgress).values(batch.progress),
  ])
}

/**
 * Forgets watermark rows older than `before` (ms), keeping the newest. A batch still under way
 * after that long could commit a range again: batches take milliseconds.
 */
export async function pruneNotifierProgress(db: Db, before: number): Promise<void> {
  const newest = await notifierWatermark(db)
  await db
    .delete(notifierProgress)
    .where(and(lt(notifierProgress.createdAt, before), lt(notifierProgress.untilSeq, newest)))
}

/**
 * Takes or keeps the notifier lease for `ttlMs` (it is free, lapsed, or already this node's);
 * whether this node holds it now.
 */
export async function holdNotifierLease(
  db: Db,
  nodeId: string,
  now: number,
  ttlMs: number
): Promise<boolean> {
  await db
    .insert(notifierLease)
    .values({ id: 1, nodeId, until: now + ttlMs })
    .onConflictDoUpdate({
      target: notifierLease.id,
      set: { nodeId, until: now + ttlMs },
      setWhere: or(eq(notifierLease.nodeId, nodeId), lt(notifierLease.until, now)),
    })
  const [row] = await db.select().from(notifierLease).where(eq(notifierLease.id, 1))
  return row?.nodeId === nodeId
}

/** Gives the lease up (a clean stop): the next node takes it at once. */
export async function releaseNotifierLease(db: Db, nodeId: string): Promise<void> {
  await db.delete(notifierLease).where(eq(notifierLease.nodeId, nodeId))
}
