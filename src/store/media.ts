/**
 * @module Media rows: insert, look up, claim for one message, doom (mark for deletion), and the
 * sweeper's slices. The bytes themselves are in store/media-storage.ts.
 */
import { and, eq, inArray, isNotNull, isNull, lt, ne, sql } from 'drizzle-orm'
import type { Db } from './db.ts'
import { type MediaRow, media, messages, users } from './schema.ts'

export type NewMediaRow = typeof media.$inferInsert

export async function insertMedia(db: Db, row: NewMediaRow): Promise<void> {
  await db.insert(media).values(row)
}

/** A live (not doomed) media row. */
export async function findMedia(db: Db, id: string): Promise<MediaRow | undefined> {
  const [row] = await db
    .select()
    .from(media)
    .where(and(eq(media.id, id), isNull(media.deletedAt)))
    .limit(1)
  return row
}

/**
 * Takes an upload for one message: only its uploader's, only a message upload, only once. The
 * single UPDATE decides a race between two sends of the same upload.
 */
export async function claimMedia(
  db: Db,
  claim: {
    id: string
    uploaderId: string
    messageId: string
    cityId: string | null
    chatId: string | null
  }
): Promise<boolean> {
  const rows = await db
    .update(media)
    .set({ messageId: claim.messageId, cityId: claim.cityId, chatId: claim.chatId })
    .where(
      and(
        eq(media.id, claim.id),
        eq(media.uploaderId, claim.uploaderId),
        eq(media.purpose, 'message'),
        isNull(media.messageId),
        isNull(media.deletedAt)
      )
    )
    .returning({ id: media.id })
  return rows.length === 1
}

/** Undoes a claim whose message was not stored (its clientId was a retry). */
export async function releaseMedia(db: Db, id: string, messageId: string): Promise<void> {
  await db
    .update(media)
    .set({ messageId: null, cityId: null, chatId: null })
    .where(and(eq(media.id, id), eq(media.messageId, messageId)))
}

/** Bytes (originals and thumbnails) a user keeps stored, doomed rows excluded. */
export async function storedBytesOf(db: Db, uploaderId: string): Promise<number> {
  const [row] = await db
    .select({ bytes: sql<number>`coalesce(sum(${media.size} + ${media.thumbnailSize}), 0)` })
    .from(media)
    .where(and(eq(media.uploaderId, uploaderId), isNull(media.deletedAt)))
  return Number(row?.bytes ?? 0)
}

export async function doomMediaOfMessage(db: Db, messageId: string, at: number): Promise<number> {
  const rows = await db
    .update(media)
    .set({ deletedAt: at })
    .where(and(eq(media.messageId, messageId), isNull(media.deletedAt)))
    .returning({ id: media.id })
  return rows.length
}

/** The uploads of many messages at once (retention); how many were doomed. */
export async function doomMediaOfMessages(
  db: Db,
  messageIds: readonly string[],
  at: number
): Promise<number> {
  if (messageIds.length === 0) return 0
  const rows = await db
    .update(media)
    .set({ deletedAt: at })
    .where(and(inArray(media.messageId, [...messageIds]), isNull(media.deletedAt)))
    .returning({ id: media.id })
  return rows.length
}

export async function doomMediaOfUploader(db: Db, uploaderId: string, at: number): Promise<void> {
  await db
    .update(media)
    .set({ deletedAt: at })
    .where(and(eq(media.uploaderId, uploaderId), isNull(media.deletedAt)))
}

/** A user's avatars other than `keepId` (replaced photos). */
export async function doomOtherAvatars(
  db: Db,
  uploaderId: string,
  keepId: string,
  at: number
): Promise<void> {
  await db
    .update(media)
    .set({ deletedAt: at })
    .where(
      and(
        eq(media.uploaderId, uploaderId),
        eq(media.purpose, 'avatar'),
        ne(media.id, keepId),
        isNull(media.deletedAt)
      )
    )
}

/**
 * Dooms up to `limit` orphans created before `before`: message uploads no stored message holds
 * (never sent, or claimed by a send that never committed), and avatars no profile shows.
 * Returns how many.
 */
export async function doomOrphans(db: Db, before: number, limit: number): Promise<number> {
  const heldByMessage = sql`EXISTS (SELECT 1 FROM ${messages} WHERE ${messages.id} = ${media.messageId})`
  const shownByProfile = sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.profilePhotoUrl} = '/api/media/' || ${media.id})`
  const orphans = db
    .select({ id: media.id })
    .from(media)
    .where(
      and(
        isNull(media.deletedAt),
        lt(media.createdAt, before),
        sql`((${media.purpose} = 'message' AND NOT ${heldByMessage}) OR (${media.purpose} = 'avatar' AND NOT ${shownByProfile}))`
      )
    )
    .limit(limit)
  const rows = await db
    .update(media)
    .set({ deletedAt: Date.now() })
    .where(inArray(media.id, orphans))
    .returning({ id: media.id })
  return rows.length
}

/** The oldest doomed rows, for the sweeper to delete their files and then them. */
export async function listDoomed(db: Db, limit: number): Promise<MediaRow[]> {
  return db
    .select()
    .from(media)
    .where(isNotNull(media.deletedAt))
    .orderBy(media.deletedAt)
    .limit(limit)
}

export async function deleteMediaRows(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await db.delete(media).where(inArray(media.id, [...ids]))
}

/** Live bytes and files by storage (originals and thumbnails count as files each). */
export async function mediaTotals(
  db: Db
): Promise<{ storage: string; bytes: number; files: number }[]> {
  const rows = await db
    .select({
      storage: media.storage,
      bytes: sql<number>`coalesce(sum(${media.size} + ${media.thumbnailSize}), 0)`,
      files: sql<number>`count(*) + count(${media.thumbnailKey})`,
    })
    .from(media)
    .where(isNull(media.deletedAt))
    .groupBy(media.storage)
  return rows.map((row) => ({
    storage: row.storage,
    bytes: Number(row.bytes),
    files: Number(row.files),
  }))
}
