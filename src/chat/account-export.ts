/**
 * @module Data export: a user asks for an archive of what the server holds about them (profile,
 * chats and memberships, read positions, settings, blocks, uploads, pins they made, every message
 * they sent with the reaction counts on it, and every reaction they made) and
 * fetches it when it is ready. It is made in the background, a slice of messages at a time with
 * the event loop's other work between slices, so a user with 100,000 messages stalls nobody.
 *
 * State lives in `account_exports` (store/account-exports.ts): the node holding a running
 * export's lease spools NDJSON lines to a local file and records after each slice the offset
 * reached and the spool's length; a restart on the same node truncates the spool to that length
 * and goes on, another node taking over starts the spool again. A finished archive goes to the
 * media storage (every node reads it) and is deleted when it expires (EXPORT_TTL).
 *
 * Edits: a message keeps its current content, `is_edited` and `edited_at`; earlier versions are
 * not stored (an edit overwrites the row), so the archive holds the current version only.
 *
 * Reactions: the user's own (on anyone's message) are theirs, one `reaction` line each, read in
 * the same offset slices as the messages they are on. Others' reactions on the user's messages
 * are others' data: the archive holds their counts per emoji, never who reacted.
 */

import { mkdir, open, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { z } from 'zod'
import { fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import * as store from '../store/account-exports.ts'
import type { Db } from '../store/db.ts'
import { newId } from '../store/ids.ts'
import type { MediaStorage } from '../store/media-storage.ts'
import { latestOffset } from '../store/room-stream.ts'
import type { AccountExportRow, UserRow } from '../store/schema.ts'
import { findUserById } from '../store/users.ts'
import { createBackgroundLoop, yieldToLoop } from './background.ts'
import type { exportViewSchema } from './view-schemas.ts'
import { mediaView, messageView, userView } from './views.ts'

export interface AccountExportOptions {
  db: Db
  /** Where finished archives are kept (the media storage every node shares). */
  storage: MediaStorage
  log: Logger
  nodeId: string
  /** How long a finished archive can be fetched (EXPORT_TTL). */
  ttlMs: number
  /** How often a node looks for work (a running export whose lease ran out, expired archives). */
  intervalMs?: number
}

/** Offsets one slice walks, and the most messages it writes. */
const SLICE_SEQS = 5_000
const SLICE_MESSAGES = 200
/** A pause between slices, so live traffic always gets the loop first. */
const SLICE_PAUSE_MS = 5
/** A node holds an export this long past its last slice; then another node may take it over. */
const LEASE_MS = 15_000

export type { AccountExportRow }

const EXPORT_FORMAT_VERSION = 1

/** An export as its owner sees it (the API's `export`). */
export function exportView(row: AccountExportRow): z.output<typeof exportViewSchema> {
  return {
    _id: row.id,
    state: row.state,
    messages: row.messages,
    bytes: row.state === 'ready' ? row.bytes : null,
    created_at: new Date(row.createdAt).toISOString(),
    finished_at: row.finishedAt === null ? null : new Date(row.finishedAt).toISOString(),
    expires_at: row.expiresAt === null ? null : new Date(row.expiresAt).toISOString(),
    download_url: `/api/users/me/export/${row.id}`,
  }
}

const line = (record: Record<string, unknown>) => `${JSON.stringify(record)}\n`

/** @example const exports = createAccountExport({ db, storage, log, nodeId, ttlMs }); exports.start() */
export function createAccountExport({
  db,
  storage,
  log,
  nodeId,
  ttlMs,
  intervalMs = 5_000,
}: AccountExportOptions) {
  const spoolDir = join(storage.tempDir, 'exports')
  const spoolOf = (id: string) => join(spoolDir, `${id}.ndjson`)
  const keyOf = (id: string) => `exports/${id}.ndjson`
  const loop = createBackgroundLoop('export', pass, intervalMs, log)

  /** Starts an export of the actor's data; one runs at a time per user. */
  async function requestExport(actor: UserRow): Promise<Result<AccountExportRow>> {
    const newest = await store.newestExportOf(db, actor.id)
    if (newest?.state === 'running')
      return fail('conflict', 'an export is already being made', { export: exportView(newest) })
    const now = Date.now()
    const row: AccountExportRow = {
      id: newId(now),
      userId: actor.id,
      state: 'running',
      untilSeq: await latestOffset(db),
      cursor: 0,
      bytes: 0,
      messages: 0,
      leaseNode: null,
      leaseUntil: 0,
      storageKey: null,
      createdAt: now,
      finishedAt: null,
      expiresAt: null,
    }
    await store.insertExport(db, row)
    void loop.soon()
    return ok(row)
  }

  /** The actor's export `id`, or their newest; someone else's answers not_found. */
  async function findExport(actor: UserRow, id?: string): Promise<Result<AccountExportRow>> {
    const row = id ? await store.findExport(db, id) : await store.newestExportOf(db, actor.id)
    if (!row || row.userId !== actor.id || (row.expiresAt !== null && row.expiresAt <= Date.now()))
      return fail('not_found', 'no such export')
    return ok(row)
  }

  /** The archive's bytes, for a ready export. */
  function readArchive(row: AccountExportRow): ReadableStream<Uint8Array> {
    return storage.read(row.storageKey ?? keyOf(row.id))
  }

  /** Every export of the user goes, files included (an erasure). */
  async function forgetUser(userId: string): Promise<void> {
    for (const row of await store.listExportsOf(db, userId)) await remove(row)
  }

  async function remove(row: AccountExportRow): Promise<void> {
    if (row.storageKey) await storage.delete(row.storageKey)
    await rm(spoolOf(row.id), { force: true })
    await store.deleteExport(db, row.id)
  }

  /** One pass: expired archives go, then running exports are made until none is left to take. */
  async function pass(): Promise<void> {
    for (const row of await store.listExpiredExports(db, Date.now(), 50)) await remove(row)
    for (;;) {
      if (loop.stopped) return
      const now = Date.now()
      const row = await store.leaseRunningExport(db, nodeId, now, now + LEASE_MS)
      if (!row) return
      await make(row).catch(async (error) => {
        log.error('export failed', { exportId: row.id, error })
        await store.saveExportProgress(db, row.id, nodeId, {
          state: 'failed',
          finishedAt: Date.now(),
          expiresAt: Date.now() + ttlMs,
          leaseUntil: 0,
        })
        await rm(spoolOf(row.id), { force: true })
      })
    }
  }

  /** Writes the archive from where the row says it stands; stops if the lease was lost. */
  async function make(row: AccountExportRow): Promise<void> {
    await mkdir(spoolDir, { recursive: true })
    const path = spoolOf(row.id)
    let { cursor, bytes, messages } = row
    const size = await stat(path).then(
      (info) => info.size,
      () => -1
    )
    // The spool is this node's: without it (or shorter than recorded), start over.
    if (bytes === 0 || size < bytes) {
      cursor = 0
      bytes = 0
      messages = 0
    }
    const file = await open(path, bytes === 0 ? 'w' : 'r+')
    try {
      await file.truncate(bytes)
      const write = async (text: string) => {
        await file.write(text, bytes)
        bytes += Buffer.byteLength(text)
      }
      const save = (changes: Partial<AccountExportRow>) =>
        store.saveExportProgress(db, row.id, nodeId, {
          cursor,
          bytes,
          messages,
          leaseUntil: Date.now() + LEASE_MS,
          ...changes,
        })
      if (bytes === 0) {
        const header = await headerOf(row)
        if (!header) return void (await save({ state: 'failed', finishedAt: Date.now() }))
        await write(header)
        if (!(await save({}))) return
      }
      while (cursor < row.untilSeq) {
        if (loop.stopped) return
        const upTo = Math.min(cursor + SLICE_SEQS, row.untilSeq)
        const found = await store.messagesByAuthorBetween(
          db,
          row.userId,
          cursor,
          upTo,
          SLICE_MESSAGES
        )
        const reached = found.length === SLICE_MESSAGES ? (found.at(-1)?.seq ?? upTo) : upTo
        const [counts, reactions] = await Promise.all([
          store.reactionCountsOf(
            db,
            found.map((message) => message.id),
            row.userId,
            row.createdAt
          ),
          store.reactionsByUserBetween(db, row.userId, cursor, reached, row.createdAt),
        ])
        const text = [
          ...found.map((message) =>
            line({
              type: 'message',
              ...messageView(message),
              reactions: counts.get(message.id) ?? [],
            })
          ),
          ...reactions.map((reaction) =>
            line({
              type: 'reaction',
              message_id: reaction.messageId,
              room:
                reaction.cityId !== null
                  ? { kind: 'city', id: reaction.cityId }
                  : { kind: 'chat', id: reaction.chatId },
              emoji: reaction.emoji,
              created_at: new Date(reaction.createdAt).toISOString(),
            })
          ),
        ].join('')
        if (text.length > 0) await write(text)
        messages += found.length
        cursor = reached
        if (!(await save({}))) return
        await yieldToLoop(SLICE_PAUSE_MS)
      }
      await write(line({ type: 'end', messages }))
      await file.sync()
    } finally {
      await file.close()
    }
    const key = keyOf(row.id)
    await storage.put(key, path, 'application/x-ndjson')
    const now = Date.now()
    await store.saveExportProgress(db, row.id, nodeId, {
      state: 'ready',
      cursor,
      bytes,
      messages,
      storageKey: key,
      finishedAt: now,
      expiresAt: now + ttlMs,
      leaseUntil: 0,
    })
    log.info('export ready', { exportId: row.id, messages, bytes })
  }

  /** Everything but the messages: the archive's first lines (undefined: the user is gone). */
  async function headerOf(row: AccountExportRow): Promise<string | undefined> {
    const user = await findUserById(db, row.userId)
    if (!user) return undefined
    const [memberships, cityReads, settings, blocks, uploads, pins] = await Promise.all([
      store.membershipsOf(db, user.id),
      store.cityReadsOf(db, user.id),
      store.notificationSettingsOf(db, user.id),
      store.blocksBy(db, user.id),
      store.uploadsOf(db, user.id),
      store.pinsBy(db, user.id),
    ])
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
    return [
      line({
        type: 'export',
        version: EXPORT_FORMAT_VERSION,
        _id: row.id,
        created_at: iso(row.createdAt),
        edits: 'current content with is_edited and edited_at; earlier versions are not stored',
        reactions:
          'reaction lines are your own; a message line counts reactions per emoji, without who',
      }),
      line({ type: 'profile', ...userView(user), updated_at: iso(user.updatedAt) }),
      ...memberships.map(({ chat, member }) =>
        line({
          type: 'chat',
          _id: chat.id,
          name: chat.name,
          created_by: chat.createdBy,
          created_at: iso(chat.createdAt),
          role: member.role,
          joined_at: iso(member.joinedAt),
          last_read_message_id: member.lastReadMessageId,
          last_read_at: iso(member.lastReadAt),
        })
      ),
      ...cityReads.map((read) =>
        line({
          type: 'city_read',
          cityId: read.cityId,
          last_read_message_id: read.lastReadMessageId,
          last_read_at: iso(read.lastReadAt),
        })
      ),
      ...settings.map((setting) =>
        line({
          type: 'notification_setting',
          room: { kind: setting.roomKind, id: setting.roomId },
          level: setting.level,
          mute_until: iso(setting.muteUntil),
        })
      ),
      ...blocks.map((block) =>
        line({ type: 'block', user_id: block.blockedId, created_at: iso(block.createdAt) })
      ),
      ...uploads.map((upload) =>
        line({
          type: 'media',
          ...mediaView(upload),
          purpose: upload.purpose,
          message_id: upload.messageId,
          created_at: iso(upload.createdAt),
        })
      ),
      ...pins.map((pin) =>
        line({
          type: 'pin',
          message_id: pin.messageId,
          room: { kind: pin.roomKind, id: pin.roomId },
          pinned_at: iso(pin.pinnedAt),
        })
      ),
    ].join('')
  }

  return {
    requestExport,
    findExport,
    readArchive,
    forgetUser,
    start: loop.start,
    stop: loop.stop,
  }
}
