/**
 * @module Media: the rules of uploads. What may be stored (type from the bytes, size, pixels,
 * quota, rate), how images are cleaned and thumbnailed, which message may carry an upload (one,
 * its uploader's), who may read it (avatars anyone, city media any user, chat media members), and
 * when it goes (its message deleted, its account removed; orphans by the sweeper).
 */
import { rm } from 'node:fs/promises'
import { fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import { newId } from '../store/ids.ts'
import * as store from '../store/media.ts'
import type { MediaStorage } from '../store/media-storage.ts'
import type { Attachment, MediaPurpose, MediaRow, MessageType, UserRow } from '../store/schema.ts'
import { updateUser } from '../store/users.ts'
import type { createChats } from './chats.ts'
import {
  type ImageHeader,
  readImageHeader,
  STRIPPABLE_IMAGES,
  stripMetadata,
} from './image-header.ts'
import { AVATAR_PX, AVATAR_SMALL_PX, type Imaging } from './images.ts'
import { createMediaSweeper } from './media-sweeper.ts'
import { isAllowedType, PROCESSED_IMAGES, SNIFF_BYTES, sniffContentType } from './media-types.ts'
import type { RateLimiter } from './rate-limit.ts'
import type { RoomRef } from './rooms.ts'
import type { UserCache } from './user-cache.ts'

export interface MediaLimits {
  maxBytes: number
  maxPixels: number
  types: readonly string[]
  /** 0: no quota. */
  quotaBytes: number
}

interface Deps {
  db: Db
  storage: MediaStorage
  /** null: sharp did not load; images are stripped losslessly (image-header.ts), no thumbnails. */
  imaging: Imaging | null
  limits: MediaLimits
  /** Uploads spend the message rate (REST and sockets share it). */
  sendLimiter: RateLimiter
  chats: ReturnType<typeof createChats>
  userCache: UserCache
  log: Logger
  orphanTtlMs: number
  sweepIntervalMs: number
}

/** An upload spooled to a local temp file by the HTTP edge (http/multipart.ts). */
export interface Spooled {
  path: string
  head: Uint8Array
  size: number
  name: string
}

export type { MediaRow }

/** What admission found: the sniffed type, and an image's header (null for other files). */
interface Admitted {
  type: string
  header: ImageHeader | null
}

const NAME_MAX = 200

/** Display name only: no path, no control characters, bounded. */
function cleanName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? ''
  const clean = base
    .replace(/[\u0000-\u001f\u007f"]/g, '')
    .trim()
    .slice(0, NAME_MAX)
  return clean === '' ? 'file' : clean
}

/** The URL a stored avatar is shown at (what `profile_photo_url` holds). */
export const mediaPath = (id: string) => `/api/media/${id}`

/**
 * @example
 * const media = createMedia({ db, storage, imaging, limits, sendLimiter, chats, userCache, log })
 * const row = await media.upload(actor, spooled, 'message')
 */
export function createMedia(deps: Deps) {
  const { db, storage, imaging, limits } = deps
  const sweeper = createMediaSweeper({
    db,
    storage,
    log: deps.log,
    orphanTtlMs: deps.orphanTtlMs,
    intervalMs: deps.sweepIntervalMs,
  })
  const temp = (suffix: string) => `${storage.tempDir}/${crypto.randomUUID()}.${suffix}`

  /** Type, size, pixels and quota: the checks every upload passes before anything is stored. */
  async function admit(
    actor: UserRow,
    file: Spooled,
    purpose: MediaPurpose
  ): Promise<Result<Admitted>> {
    const allowed = deps.sendLimiter.take(actor.id)
    if (!allowed.ok) return allowed
    if (file.size === 0) return fail('invalid_input', 'the file is empty')
    if (file.size > limits.maxBytes)
      return fail('payload_too_large', `the file is larger than ${limits.maxBytes} bytes`)
    const type = sniffContentType(file.head)
    const image = type.startsWith('image/')
    if (!isAllowedType(type, limits.types) || (purpose === 'avatar' && !PROCESSED_IMAGES.has(type)))
      return fail('unsupported_media_type', `files of type ${type} are not accepted`, { type })
    if (limits.quotaBytes > 0) {
      const used = await store.storedBytesOf(db, actor.id)
      if (used + file.size > limits.quotaBytes) {
        return fail('payload_too_large', 'your media quota is full; delete some messages first', {
          quotaBytes: limits.quotaBytes,
          usedBytes: used,
        })
      }
    }
    if (!image) return ok({ type, header: null })
    // An image we can neither re-encode (sharp) nor strip losslessly (no sharp) would keep its
    // EXIF and GPS: refused rather than stored (HEIC always, AVIF without sharp).
    if (!(imaging ? PROCESSED_IMAGES : STRIPPABLE_IMAGES).has(type)) {
      return fail(
        'unsupported_media_type',
        `images of type ${type} cannot be cleaned of their metadata on this server`,
        { type, imageProcessing: imaging !== null }
      )
    }
    // The header alone, read by us with bounded reads before anything decodes the file: a
    // 100k x 100k PNG of a few KB is refused here, with or without sharp.
    const header = await readImageHeader(file.path, type)
    if (!header) return fail('unsupported_media_type', 'the image cannot be read', { type })
    if (header.width * header.height > limits.maxPixels) {
      return fail('payload_too_large', `the image has more than ${limits.maxPixels} pixels`, {
        width: header.width,
        height: header.height,
        maxPixels: limits.maxPixels,
      })
    }
    return ok({ type, header })
  }

  /** Cleans and stores the bytes; returns the row to insert. Temp files are gone after. */
  async function store_(actor: UserRow, file: Spooled, purpose: MediaPurpose, admitted: Admitted) {
    const { type, header } = admitted
    const id = newId()
    const base = {
      id,
      uploaderId: actor.id,
      purpose,
      name: cleanName(file.name),
      storage: storage.kind,
      createdAt: Date.now(),
    }
    const made: string[] = []
    try {
      if (imaging && PROCESSED_IMAGES.has(type)) {
        const main = temp('main')
        const small = temp('small')
        made.push(main, small)
        if (purpose === 'avatar') {
          const size = await imaging.square(file.path, AVATAR_PX, main)
          const thumbnailSize = await imaging.square(file.path, AVATAR_SMALL_PX, small)
          const row = {
            ...base,
            contentType: 'image/webp',
            size,
            thumbnailSize,
            width: AVATAR_PX,
            height: AVATAR_PX,
            storageKey: `avatars/${id}-${AVATAR_PX}.webp`,
            thumbnailKey: `avatars/${id}-${AVATAR_SMALL_PX}.webp`,
          }
          await storage.put(row.storageKey, main, row.contentType)
          await storage.put(row.thumbnailKey, small, 'image/webp')
          return row
        }
        const cleaned = await imaging.clean(file.path, type, main)
        const thumbnailSize = await imaging.thumbnail(main, small)
        const row = {
          ...base,
          contentType: type,
          size: cleaned.size,
          thumbnailSize,
          width: cleaned.width,
          height: cleaned.height,
          storageKey: `originals/${id}`,
          thumbnailKey: `thumbnails/${id}.webp`,
        }
        // Thumbnail first: a row never names a thumbnail that is not stored yet.
        await storage.put(row.thumbnailKey, small, 'image/webp')
        await storage.put(row.storageKey, main, type)
        return row
      }
      if (header) {
        // No sharp: the same bytes minus their metadata (image-header.ts), no thumbnail.
        const main = temp('main')
        made.push(main)
        const size = await stripMetadata(file.path, type, header.orientation, main)
        if (size === null) return null
        const row = {
          ...base,
          contentType: type,
          size,
          thumbnailSize: 0,
          width: header.width,
          height: header.height,
          storageKey: `originals/${id}`,
          thumbnailKey: null,
        }
        await storage.put(row.storageKey, main, type)
        return row
      }
      const row = {
        ...base,
        contentType: type,
        size: file.size,
        thumbnailSize: 0,
        width: null,
        height: null,
        storageKey: `originals/${id}`,
        thumbnailKey: null,
      }
      await storage.put(row.storageKey, file.path, type)
      return row
    } finally {
      await Promise.all([file.path, ...made].map((path) => rm(path, { force: true })))
    }
  }

  /**
   * Stores one upload after every check. The spooled temp file is removed whatever happens.
   * @example const row = await media.upload(actor, spooled, 'message')
   */
  async function upload(
    actor: UserRow,
    file: Spooled,
    purpose: MediaPurpose
  ): Promise<Result<MediaRow>> {
    let admitted: Result<Admitted>
    try {
      admitted = await admit(actor, file, purpose)
    } catch (error) {
      await rm(file.path, { force: true })
      throw error
    }
    if (!admitted.ok) {
      await rm(file.path, { force: true })
      return admitted
    }
    let row: Awaited<ReturnType<typeof store_>>
    try {
      row = await store_(actor, file, purpose, admitted.value)
    } catch (error) {
      // libvips' own pixel limit (defence in depth: an animated image's frames add up).
      if ((error as Error)?.message?.includes('pixel limit')) {
        return fail('payload_too_large', `the image has more than ${limits.maxPixels} pixels`, {
          maxPixels: limits.maxPixels,
        })
      }
      // libvips refusing a file whose header passed (truncated, corrupt) is the upload's fault.
      if (
        (error as Error)?.message?.includes('Input') ||
        (error as Error)?.message?.includes('VipsJpeg')
      ) {
        return fail('unsupported_media_type', 'the image cannot be decoded')
      }
      throw error
    }
    if (!row) return fail('unsupported_media_type', 'the image is malformed')
    const full: MediaRow = { ...row, messageId: null, cityId: null, chatId: null, deletedAt: null }
    await store.insertMedia(db, full)
    return ok(full)
  }

  /**
   * The one call sendMessage makes for an upload: checks `mediaId` may go into this message
   * (the actor's, a message upload, not used yet, an image for an image message) and claims it.
   */
  async function attachToMessage(claim: {
    actor: UserRow
    mediaId: string
    messageType: MessageType
    messageId: string
    room: RoomRef
  }): Promise<Result<Attachment>> {
    const row = await store.findMedia(db, claim.mediaId)
    if (!row) return fail('not_found', 'no such upload')
    if (row.uploaderId !== claim.actor.id)
      return fail('forbidden', 'only its uploader may send an upload')
    if (row.purpose !== 'message') return fail('invalid_input', 'an avatar upload cannot be sent')
    if (row.messageId !== null) return fail('conflict', 'this upload was already sent')
    if (claim.messageType === 'image' && !row.contentType.startsWith('image/'))
      return fail('invalid_input', `an image message needs an image, not ${row.contentType}`)
    if (claim.messageType === 'text')
      return fail('invalid_input', 'a message with media_id is an image or a file')
    const claimed = await store.claimMedia(db, {
      id: row.id,
      uploaderId: claim.actor.id,
      messageId: claim.messageId,
      cityId: claim.room.kind === 'city' ? claim.room.id : null,
      chatId: claim.room.kind === 'chat' ? claim.room.id : null,
    })
    if (!claimed) return fail('conflict', 'this upload was already sent')
    return ok({
      id: row.id,
      contentType: row.contentType,
      size: row.size,
      name: row.name,
      width: row.width,
      height: row.height,
      thumbnail: row.thumbnailKey !== null,
    })
  }

  /**
   * Who reads an upload: an avatar anyone; city media any logged-in user; chat media its members;
   * an upload not sent yet its uploader. Others get not_found, so ids reveal nothing.
   */
  async function canRead(actor: UserRow | null, row: MediaRow): Promise<Result<null>> {
    if (row.purpose === 'avatar') return ok(null)
    if (!actor) return fail('unauthorized', 'log in to see this file')
    const hidden = fail('not_found', 'no such file')
    if (row.messageId === null) return row.uploaderId === actor.id ? ok(null) : hidden
    if (row.chatId !== null) {
      const member = await deps.chats.requireChatMember(actor, row.chatId)
      return member.ok ? ok(null) : hidden
    }
    return ok(null)
  }

  /** An upload's row if `actor` may read it (see canRead). */
  async function openMedia(actor: UserRow | null, id: string): Promise<Result<MediaRow>> {
    const row = await store.findMedia(db, id)
    if (!row) return fail('not_found', 'no such file')
    const allowed = await canRead(actor, row)
    return allowed.ok ? ok(row) : allowed
  }

  /** Stores a square avatar and makes it the profile photo; the previous one is doomed. */
  async function setProfilePhoto(actor: UserRow, file: Spooled): Promise<Result<UserRow>> {
    const stored = await upload(actor, file, 'avatar')
    if (!stored.ok) return stored
    const now = Date.now()
    const user = await updateUser(db, actor.id, {
      profilePhotoUrl: mediaPath(stored.value.id),
      updatedAt: now,
    })
    deps.userCache.forget(actor.id)
    await store.doomOtherAvatars(db, actor.id, stored.value.id, now)
    return user ? ok(user) : fail('not_found', 'no such user')
  }

  return {
    /** Where the HTTP edge spools uploads (on the storage's local side). */
    tempDir: storage.tempDir,
    storage,
    headBytes: SNIFF_BYTES,
    maxBytes: limits.maxBytes,
    upload,
    attachToMessage,
    /** A claim whose message was not stored (a retried clientId) is given back. */
    releaseFromMessage: (mediaId: string, messageId: string) =>
      store.releaseMedia(db, mediaId, messageId),
    openMedia,
    setProfilePhoto,
    /** After the tombstone is stored: the message's upload goes (the sweeper deletes the files). */
    async messageDeleted(messageId: string): Promise<void> {
      if ((await store.doomMediaOfMessage(db, messageId, Date.now())) > 0) void sweeper.soon()
    },
    /** Retention deletes these messages: their uploads go first (files by the sweeper). */
    async messagesPurged(messageIds: readonly string[]): Promise<void> {
      if ((await store.doomMediaOfMessages(db, messageIds, Date.now())) > 0) void sweeper.soon()
    },
    /**
     * Every upload of `userId` (sent or not, avatars included) is doomed; the sweeper deletes the
     * files. The one call any path that removes an account makes (deactivation today).
     * Resolves once the rows are marked, so a restart cannot lose it; the files go after.
     */
    async forgetOwner(userId: string): Promise<void> {
      await store.doomMediaOfUploader(db, userId, Date.now())
      void sweeper.soon()
    },
    sweeper,
  }
}

export type Media = ReturnType<typeof createMedia>
