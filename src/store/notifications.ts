/** @module Notification rows: per-room settings, and the feed (made, listed, marked read). */
import { and, count, desc, eq, inArray, isNull, lt, lte } from 'drizzle-orm'
import { type Db, writeTogether } from './db.ts'
import { flatten, type MessageWithAuthor, selectWithAuthor } from './messages.ts'
import { type NewPushRow, queuePushesStatement } from './push.ts'
import {
  messages,
  type NotificationRow,
  type NotificationSettingRow,
  notificationSettings,
  notifications,
} from './schema.ts'

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
