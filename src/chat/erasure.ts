/**
 * @module Account erasure: `DELETE /api/users/me` `{ password, erase: true }`, or an admin for a
 * user (audited; never another admin). Unlike a deactivation it leaves nothing of the person:
 *
 * 1. `account` (while the request waits): the username is held by its hash for USERNAME_HOLD,
 *    the profile anonymised (name, email, photo, password, external identity), tokens, sessions,
 *    mailed links, socket sessions, read positions, settings, blocks, the feed, exports and
 *    uploads deleted, every private chat left as a leave does (its members hear it), and every
 *    live socket of the user closed on every node (the outlet, events/).
 * 2. `messages` (background, in slices by offset): each message's content and media removed, the
 *    tombstone kept, and the delete broadcast through the room stream (recovery replays it).
 * 3. `scrub` (background, in slices): the copies of what the user wrote in the room event log
 *    (edits) and the webhook outbox are deleted, and the search index's segments are merged (a
 *    deleted row's words stay in older segments until then); then the WAL is truncated, so with
 *    the connection's `secure_delete` no byte of it is left in the database files.
 *
 * State lives in `erasures` (a lease per row): a restart resumes where it stopped, on any node.
 */
import type { z } from 'zod'
import { fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import { messagesByAuthorBetween } from '../store/account-exports.ts'
import { listChatIdsForUser } from '../store/chats.ts'
import type { Db } from '../store/db.ts'
import * as store from '../store/erasures.ts'
import { latestOffset } from '../store/room-stream.ts'
import type { ErasureRow, UserRow } from '../store/schema.ts'
import { findUserById } from '../store/users.ts'
import type { createAccountExport } from './account-export.ts'
import type { Audit } from './audit.ts'
import { createBackgroundLoop, yieldToLoop } from './background.ts'
import type { createChats } from './chats.ts'
import { type Passwords, sha256 } from './credentials.ts'
import type { Media } from './media.ts'
import type { createMessages } from './messages.ts'
import { removePushSubscriptions } from './push.ts'
import type { UserCache } from './user-cache.ts'
import type { erasureViewSchema } from './view-schemas.ts'

/** Where an erasure reaches live sockets (the realtime layer plugs it in, events/connection.ts). */
export interface ErasureOutlet {
  /** The user's sockets close on every node; `chatIds`: the chats they left (as a leave tells). */
  accountErased(userId: string, chatIds: string[]): void
}

export interface ErasureOptions {
  db: Db
  log: Logger
  nodeId: string
  /** USERNAME_HOLD: how long an erased username cannot be registered. */
  usernameHoldMs: number
  passwords: Passwords
  userCache: UserCache
  audit: Audit
  chats: ReturnType<typeof createChats>
  messages: ReturnType<typeof createMessages>
  media: Media
  exports: ReturnType<typeof createAccountExport>
  intervalMs?: number
}

/** Offsets one slice walks, and the most messages it erases. */
const SLICE_SEQS = 5_000
const SLICE_MESSAGES = 200
/** Log and outbox ids one scrub statement covers. */
const SCRUB_IDS = 5_000
const SLICE_PAUSE_MS = 5
/** Search index pages one merge step writes (a few milliseconds), and a bound on the steps. */
const MERGE_PAGES = 64
const MAX_MERGE_STEPS = 100_000
const LEASE_MS = 15_000

/** What an erased account is called; its username stays unique by the id. */
const erasedProfile = (userId: string) => ({
  username: `erased_${userId}`,
  email: `${userId}@erased.invalid`,
  fullName: 'Deleted user',
})

/** An erasure as the API shows it. */
export function erasureView(row: ErasureRow): z.output<typeof erasureViewSchema> {
  return {
    user_id: row.userId,
    state: row.phase === 'done' ? 'done' : 'running',
    phase: row.phase,
    messages: row.messages,
    started_at: new Date(row.startedAt).toISOString(),
    finished_at: row.finishedAt === null ? null : new Date(row.finishedAt).toISOString(),
  }
}

const NO_OUTLET: ErasureOutlet = { accountErased() {} }

/** @example const erasure = createErasure({ db, log, nodeId, usernameHoldMs, ... }); erasure.start() */
export function createErasure(options: ErasureOptions) {
  const { db, log, nodeId } = options
  let outlet = NO_OUTLET
  const loop = createBackgroundLoop('erasure', pass, options.intervalMs ?? 5_000, log)

  /** The caller erases their own account; the password proves it is them. */
  async function eraseOwnAccount(actor: UserRow, password: string): Promise<Result<ErasureRow>> {
    const stored = await findUserById(db, actor.id)
    if (!(await options.passwords.verify(password, stored?.passwordHash)))
      return fail('unauthorized', 'wrong password')
    return begin(actor.id, actor.id)
  }

  /** An admin erases a user (audited). Another admin must be demoted first. */
  async function eraseUser(
    actor: UserRow,
    userId: string,
    reason?: string
  ): Promise<Result<ErasureRow>> {
    if (actor.role !== 'admin') return fail('forbidden', 'only an admin may do this')
    const target = await findUserById(db, userId)
    if (!target) return fail('not_found', 'no such user')
    if (target.role === 'admin' && target.id !== actor.id)
      return fail('forbidden', 'an admin cannot erase another admin; change their role first')
    const erased = await begin(target.id, actor.id)
    if (erased.ok)
      await options.audit.record({ actor, action: 'user.erase', targetUserId: userId, reason })
    return erased
  }

  /** Claims the erasure (one per user, ever), runs the account phase, hands the rest on. */
  async function begin(userId: string, requestedBy: string): Promise<Result<ErasureRow>> {
    const now = Date.now()
    const [logFloor, outboxFloor] = await Promise.all([
      store.newestRoomEventId(db),
      store.newestOutboxId(db),
    ])
    const row: ErasureRow = {
      userId,
      requestedBy,
      phase: 'account',
      cursor: 0,
      logFloor,
      outboxFloor,
      messages: 0,
      leaseNode: nodeId,
      leaseUntil: now + LEASE_MS,
      startedAt: now,
      finishedAt: null,
    }
    if (!(await store.insertErasure(db, row))) {
      const existing = await store.findErasure(db, userId)
      return fail('conflict', 'this account is already erased', {
        erasure: existing && erasureView(existing),
      })
    }
    await accountPhase(row)
    const handedOn = { ...row, phase: 'messages' as const, leaseUntil: 0 }
    await store.saveErasure(db, userId, nodeId, { phase: 'messages', leaseUntil: 0 })
    void loop.soon()
    return ok(handedOn)
  }

  /** Everything but the messages; safe to run again (a resume after a crash in the middle). */
  async function accountPhase(row: ErasureRow): Promise<void> {
    const user = await findUserById(db, row.userId)
    if (!user) return
    const now = Date.now()
    const anonymous = erasedProfile(user.id)
    if (user.username !== anonymous.username)
      await store.holdUsername(db, sha256(user.username), now + options.usernameHoldMs)
    await store.anonymiseUser(db, user.id, anonymous, now)
    options.userCache.forget(user.id)
    await store.deleteUserRows(db, user.id)
    // Its browsers get no pushes any more; the pushes still pending go with them.
    await removePushSubscriptions(db, user.id)
    await options.media.forgetOwner(user.id)
    await options.exports.forgetUser(user.id)
    const erased = (await findUserById(db, user.id)) ?? user
    const chatIds = await listChatIdsForUser(db, user.id)
    for (const chatId of chatIds) await options.chats.leaveChat(erased, chatId)
    outlet.accountErased(user.id, chatIds)
  }

  /** One pass: unfinished erasures are taken (a lease) and run to the end, one after another. */
  async function pass(): Promise<void> {
    await store.deleteExpiredHolds(db, Date.now())
    for (;;) {
      if (loop.stopped) return
      const now = Date.now()
      const row = await store.leaseErasure(db, nodeId, now, now + LEASE_MS)
      if (!row) return
      await run(row)
    }
  }

  async function run(row: ErasureRow): Promise<void> {
    const save = (changes: Partial<ErasureRow>) =>
      store.saveErasure(db, row.userId, nodeId, { leaseUntil: Date.now() + LEASE_MS, ...changes })
    let { phase, cursor, messages } = row
    if (phase === 'account') {
      await accountPhase(row)
      phase = 'messages'
      if (!(await save({ phase }))) return
    }
    if (phase === 'messages') {
      for (;;) {
        if (loop.stopped) return
        const newest = await latestOffset(db)
        if (cursor >= newest) break
        const upTo = Math.min(cursor + SLICE_SEQS, newest)
        const found = await messagesByAuthorBetween(db, row.userId, cursor, upTo, SLICE_MESSAGES)
        // Deleted before the erasure: already a tombstone its room heard of. Deleted since
        // (an earlier run of this slice, cut short): announced again, which clients take twice.
        const toAnnounce = found.filter(
          (message) => !message.isDeleted || (message.deletedAt ?? 0) >= row.startedAt
        )
        const now = Date.now()
        await store.blankMessages(
          db,
          found.map((message) => message.id),
          now
        )
        await Promise.all(
          toAnnounce.map((message) =>
            options.messages.announceDeleted({
              ...message,
              content: '',
              mediaUrl: null,
              attachment: null,
              mentions: null,
              clientId: null,
              isDeleted: true,
              deletedAt: message.deletedAt ?? now,
            })
          )
        )
        messages += toAnnounce.length
        cursor = found.length === SLICE_MESSAGES ? (found.at(-1)?.seq ?? upTo) : upTo
        if (!(await save({ cursor, messages }))) return
        await yieldToLoop(SLICE_PAUSE_MS)
      }
      phase = 'scrub'
      cursor = 0
      if (!(await save({ phase, cursor }))) return
    }
    if (phase === 'scrub') {
      const upTo = Math.max(row.logFloor, row.outboxFloor)
      for (; cursor < upTo; cursor += SCRUB_IDS) {
        if (loop.stopped) return
        const to = cursor + SCRUB_IDS
        if (cursor < row.logFloor)
          await store.scrubRoomLog(db, row.userId, cursor, Math.min(to, row.logFloor))
        if (cursor < row.outboxFloor)
          await store.scrubOutbox(db, row.userId, cursor, Math.min(to, row.outboxFloor))
        if (!(await save({ cursor: Math.min(to, upTo) }))) return
        await yieldToLoop(SLICE_PAUSE_MS)
      }
      // The search index: its segments merged until no deleted row's words are left in them.
      for (let step = 0; step < MAX_MERGE_STEPS; step++) {
        if (loop.stopped) return
        if (!(await store.mergeSearchIndex(db, MERGE_PAGES))) break
        if (!(await save({}))) return
        await yieldToLoop(SLICE_PAUSE_MS)
      }
      await save({ phase: 'done', finishedAt: Date.now(), leaseUntil: 0 })
      log.info('account erased', { userId: row.userId, messages })
      await forgetFreedPages()
    }
  }

  /** The WAL still holds old pages of the erased rows until it is truncated: a few tries. */
  async function forgetFreedPages(): Promise<void> {
    for (let attempt = 0; attempt < 20 && !loop.stopped; attempt++) {
      const done = await store.truncateWal(db).catch((error) => {
        log.warn('truncating the WAL after an erasure failed', { error })
        return true
      })
      if (done) return
      await yieldToLoop(250)
    }
    log.warn(
      'the WAL could not be truncated after an erasure (readers held it); the next erasure tries again'
    )
  }

  return {
    eraseOwnAccount,
    eraseUser,
    /** Plugs in the realtime side (events/connection.ts). */
    attach(next: ErasureOutlet): void {
      outlet = next
    },
    async start(): Promise<void> {
      await store.releaseErasuresOf(db, nodeId)
      loop.start()
    },
    stop: loop.stop,
    /** Resolves once the erasures this node can take now are done (tests, shutdown). */
    settled: () => loop.soon(),
  }
}
