/**
 * @module Chat service: builds the domain once (auth, users, roles, cities, moderation, chats,
 * messages, reactions, threads, pins, reports, blocks) over a database, for REST routes and socket handlers alike.
 */
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import type { GroupWriter } from '../store/group-commit.ts'
import type { Mailer } from '../store/mail.ts'
import type { MediaStorage } from '../store/media-storage.ts'
import { createAccount } from './account.ts'
import { createAccountExport } from './account-export.ts'
import { createAccountMail } from './account-mail.ts'
import { createAudit } from './audit.ts'
import { createAuth } from './auth.ts'
import { createBlocks } from './blocks.ts'
import { type ChangeFeed, SINGLE_NODE } from './change-feed.ts'
import { createChats } from './chats.ts'
import { createCities } from './cities.ts'
import { createPasswords } from './credentials.ts'
import { createErasure } from './erasure.ts'
import type { Imaging } from './images.ts'
import { createLastSeen } from './last-seen.ts'
import { createMedia, type MediaLimits } from './media.ts'
import { createMemberRoles } from './member-roles.ts'
import { createMessages } from './messages.ts'
import { createModeration } from './moderation.ts'
import { createCityAllChoosers, createNotificationSettings } from './notification-settings.ts'
import { createNotifier } from './notifications.ts'
import { createPins } from './pins.ts'
import type { PresenceStore } from './presence.ts'
import { createPush, type PushOptions } from './push.ts'
import {
  createRateLimiter,
  type RateLimitOptions,
  type SharedDebitLimits,
  type SharedRateLimits,
  sharedOrLocal,
  UNLIMITED,
  withSharedDebits,
} from './rate-limit.ts'
import { createReactions } from './reactions.ts'
import { createReportInbox } from './report-inbox.ts'
import { createReports } from './reports.ts'
import { createRetention } from './retention.ts'
import { createRoles } from './roles.ts'
import { createRoomAccess } from './room-access.ts'
import { createRoomStream } from './room-stream.ts'
import { createSearch } from './search.ts'
import { createSessions } from './sessions.ts'
import { createThreads } from './threads.ts'
import type { Tokens } from './tokens.ts'
import { createUserCache } from './user-cache.ts'
import { createUsers } from './users.ts'
import { createWebhooks, type WebhookOptions } from './webhooks.ts'

export interface ChatOptions {
  db: Db
  /** Group-committed hot writes (messages, room event log rows). */
  writer: GroupWriter
  tokens: Tokens
  log: Logger
  refreshTtlMs: number
  /** A just-rotated refresh token sent again this soon gets a fresh one instead of revoking. */
  refreshGraceMs: number
  argon2MemoryKib: number
  /** Account mail: the mailer, the web client's URL its links open, how long a link works. */
  mail: { mailer: Mailer; publicUrl: string; tokenTtlMs: number }
  /** REQUIRE_VERIFIED_EMAIL. */
  requireVerifiedEmail: boolean
  /** Forgot-password: mails per account and requests per client address, per window. */
  resetLimits: { perAccount: number; perAddress: number; windowMs: number }
  /** Buckets every node shares (scale-out), for the reset limits and slow mode. */
  sharedLimits?: SharedRateLimits | undefined
  /**
   * Per-user message rate: `perMinute` sustained, `burst` at once; perMinute 0 turns it off.
   * `shared`: buckets every node debits (scale-out), so the rate holds across nodes.
   */
  messageRate: { perMinute: number; burst: number; shared?: SharedDebitLimits | undefined }
  /** Connection state recovery bounds; windowMs 0 turns it off. */
  recovery: { windowMs: number; maxReplay: number }
  /** This node among several (its live sessions are the ones it keeps resumable). */
  nodeId: string
  /** NODE_TTL: a node silent this long is dead (its users' last seen is settled from its heartbeat). */
  nodeTtlMs: number
  /** Who is connected on any node: plain messages notify only users with no live socket. */
  presence: PresenceStore
  /** Outgoing webhooks (WEBHOOK_*): where, signed how, retried how often. */
  webhooks: Omit<WebhookOptions, 'db' | 'log' | 'feed'>
  /** Web Push (VAPID_*, PUSH_*): the signer, the collapse window, retries, limits. */
  push: Omit<PushOptions, 'db' | 'log' | 'presence'>
  /** ADMIN_USERNAMES: these register as admins. */
  adminUsernames?: readonly string[]
  /** Chats one user may create per hour (0: no limit). */
  chatsPerHour?: number
  /** Moderation changes other nodes make reach this one here (scale-out); one node: none. */
  feed?: ChangeFeed | undefined
  /** Uploads: where they are stored, sharp (or null), the limits and the sweeper's timing. */
  media: {
    storage: MediaStorage
    imaging: Imaging | null
    limits: MediaLimits
    orphanTtlMs: number
    sweepIntervalMs: number
  }
  /** Data exports: how long a finished archive is kept (EXPORT_TTL). */
  exports: { ttlMs: number }
  /** Message retention: MESSAGE_RETENTION in ms (undefined: off) and how often it runs. */
  retention: { globalMs: number | undefined; intervalMs: number }
  /** USERNAME_HOLD: an erased account's username stays unregistrable this long. */
  usernameHoldMs: number
}

/**
 * @example
 * const chat = createChat({ db, tokens, log, refreshTtlMs, argon2MemoryKib })
 * const user = await chat.verifyAccessToken(token)
 */
export function createChat(options: ChatOptions) {
  const { db, writer, log } = options
  const feed = options.feed ?? SINGLE_NODE
  const userCache = createUserCache()
  const audit = createAudit({ db })
  const roles = createRoles({ db, audit, feed, userCache })
  const cities = createCities({ db, audit, feed, roles })
  const moderation = createModeration({
    db,
    audit,
    feed,
    roles,
    cities,
    log,
    sharedLimits: options.sharedLimits,
  })
  const webhooks = createWebhooks({
    db,
    log: options.log.child('webhooks'),
    feed,
    ...options.webhooks,
  })
  const inbox = createReportInbox({ db, roles, moderation, webhooks })
  const push = createPush({
    db,
    log: options.log.child('push'),
    presence: options.presence,
    ...options.push,
  })
  const choosers = createCityAllChoosers({ db, feed, log: options.log.child('notifications') })
  const notifier = createNotifier({
    db,
    log: options.log.child('notifications'),
    presence: options.presence,
    webhooks,
    push,
    choosers,
    nodeId: options.nodeId,
  })
  const access = createRoomAccess({ db, cities, moderation })
  const stream = createRoomStream({
    db,
    writer,
    log: options.log,
    access,
    nodeId: options.nodeId,
    windowMs: options.recovery.windowMs,
    maxReplay: options.recovery.maxReplay,
  })
  const chats = createChats({
    db,
    stream,
    notifier,
    chatLimiter: chatLimiter(options.chatsPerHour ?? 0, options.sharedLimits),
  })
  const passwords = createPasswords(options.argon2MemoryKib)
  const mail = createAccountMail({ db, log: options.log, ...options.mail })
  // One limiter for sends and uploads: an upload counts against the message rate.
  const sendLimiter = messageLimiter(options.messageRate)
  const media = createMedia({
    ...options.media,
    db,
    sendLimiter,
    chats,
    userCache,
    log: options.log.child('media'),
  })
  const exports = createAccountExport({
    db,
    storage: options.media.storage,
    log: options.log.child('export'),
    nodeId: options.nodeId,
    ttlMs: options.exports.ttlMs,
  })
  const messages = createMessages({
    db,
    access,
    stream,
    notifier,
    sendLimiter,
    requireVerifiedEmail: options.requireVerifiedEmail,
    moderation,
    roles,
    audit,
    inbox,
    cities,
    media,
  })
  const retention = createRetention({
    db,
    log: options.log.child('retention'),
    cities,
    media,
    stream,
    webhooks,
    ...options.retention,
  })
  const erasure = createErasure({
    db,
    log: options.log.child('erasure'),
    nodeId: options.nodeId,
    usernameHoldMs: options.usernameHoldMs,
    passwords,
    userCache,
    audit,
    chats,
    messages,
    media,
    exports,
  })
  const reactions = createReactions({
    db,
    access,
    stream,
    messages,
    sendLimiter,
    moderation,
    notifier,
  })
  const pins = createPins({ db, access, stream, messages, roles })
  return {
    stream,
    retention,
    lastSeen: createLastSeen({
      db,
      log: options.log.child('last-seen'),
      nodeId: options.nodeId,
      nodeTtlMs: options.nodeTtlMs,
    }),
    mail,
    notifier,
    webhooks,
    push,
    moderation,
    media,
    exports,
    erasure,
    ...access,
    choosers,
    ...createNotificationSettings({ db, access, choosers }),
    ...createAuth({ ...options, userCache, passwords, mail }),
    ...createAccount({
      db,
      mail,
      passwords,
      userCache,
      resetLimits: options.resetLimits,
      shared: options.sharedLimits,
    }),
    ...createSessions({ db }),
    ...createUsers({ db, userCache, media }),
    ...roles,
    ...cities,
    setSlowMode: cities.setSlowMode,
    restrict: moderation.restrict,
    listRestrictions: moderation.listRestrictions,
    liftRestrictions: moderation.lift,
    getWordFilter: moderation.getWordFilter,
    setWordFilter: moderation.setWordFilter,
    listAudit: audit.listAudit,
    ...chats,
    ...messages,
    ...reactions,
    ...createThreads({ db, messages }),
    ...pins,
    ...createMemberRoles({ db, chats, stream }),
    ...createReports({ db, roles, moderation, audit, inbox, messages }),
    ...createBlocks({ db }),
    ...createSearch({ db, access }),
  }
}

export type Chat = ReturnType<typeof createChat>

/** CHATS_PER_HOUR per user; with Redis one bucket for every node. */
function chatLimiter(perHour: number, shared: SharedRateLimits | undefined) {
  if (perHour === 0) return undefined
  const options: RateLimitOptions = {
    burst: perHour,
    refill: perHour,
    perMs: 3_600_000,
    message: 'too many new chats; wait and try again',
  }
  return sharedOrLocal(shared?.('chats-per-user', options), options)
}

function messageLimiter(rate: ChatOptions['messageRate']) {
  if (rate.perMinute === 0) return UNLIMITED
  const options: RateLimitOptions = {
    burst: rate.burst,
    refill: rate.perMinute,
    perMs: 60_000,
    message: 'too many messages; slow down',
  }
  const local = createRateLimiter(options)
  return rate.shared ? withSharedDebits(local, rate.shared('message', options), options) : local
}

/** The authenticated actor every domain function takes (a user row). */
export type { UserRow as User } from '../store/schema.ts'
