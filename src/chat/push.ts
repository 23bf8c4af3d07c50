/**
 * @module Web Push for people who are offline: browsers' subscriptions, and the push outbox they
 * are reached through. When a notification is made (chat/notifications.ts, which has already
 * applied the user's settings and mutes) for a user with no live socket on any node, one push per
 * subscription is written to the outbox (store/push.ts), in the transaction that stores the
 * notification (store/notifications.ts), so a crash leaves both or neither. A room pushes a subscription at most once
 * per PUSH_COLLAPSE: a later notification folds into the pending push (the newest message, and a
 * count). The delivery loop claims due rows under a lease, encrypts (chat/web-push.ts), POSTs with
 * VAPID, TTL, Urgency and a per-room Topic, then marks the row sent; 429, 5xx and network errors
 * are retried with backoff, 404 and 410 drop the subscription.
 *
 * Exactly once, precisely: a push is marked sent once, by the one node holding its lease, and a
 * row is never claimed while another holds it. A process that dies after the push service took a
 * push but before the mark leaves the row `sending`; when its lease lapses it is POSTed again, with
 * the same push id and the same Topic. At the push service the Topic replaces a copy the device has
 * not fetched yet (RFC 8030 §5.4), and the service worker shows it under the room's tag, replacing
 * rather than adding, and ignores an id it has shown. Nothing a restart finds in the outbox is lost.
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Counter } from '../metrics.ts'
import type { Db } from '../store/db.ts'
import { newId } from '../store/ids.ts'
import type { MessageWithAuthor } from '../store/messages.ts'
import type { PresenceStore } from '../store/presence-store.ts'
import {
  claimDuePushes,
  countPushSubscriptions,
  deletePushSubscription,
  deleteUserPushSubscriptions,
  findPushSubscription,
  findPushSubscriptionById,
  finishPush,
  type NewPushRow,
  pruneFinishedPushes,
  pushSubscriptionsOf,
  retryPush,
  savePushSubscription,
} from '../store/push.ts'
import type { NotificationRow, PushOutboxRow, UserRow } from '../store/schema.ts'
import { findUsersByIds } from '../store/users.ts'
import { topicOf } from './rooms.ts'
import { pushPayloadView } from './views.ts'
import { encryptPush, isP256Point, type Vapid } from './web-push.ts'

export interface PushOptions {
  db: Db
  log: Logger
  /** Who has a live socket on any node: they get no push. */
  presence: PresenceStore
  vapid: Vapid
  /** PUSH_COLLAPSE: at most one push per room and subscription this often. */
  collapseMs: number
  /** PUSH_TTL: how long a push service keeps a push for an unreachable device. */
  ttlMs: number
  maxAttempts: number
  retryBaseMs: number
  timeoutMs: number
  /** PUSH_SUBSCRIPTIONS_PER_USER. */
  maxPerUser: number
  /** Accept http:// endpoints (outside production: a push service on the loopback in tests). */
  allowHttp: boolean
  counters: { queued: Counter; sent: Counter; gone: Counter; dead: Counter }
  now?: () => number
}

/** A browser's PushSubscription, validated (chat/inputs.ts pushSubscriptionBody). */
export interface PushSubscriptionInput {
  endpoint: string
  keys: { p256dh: string; auth: string }
}

/** Pushes under way at once on one node. */
const MAX_IN_FLIGHT = 16
const POLL_MS = 250
const PRUNE_EVERY_MS = 60_000
/** Finished rows are kept this long (they hold the collapse window), then pruned. */
const KEEP_FINISHED_MS = 24 * 3_600_000

/** RFC 8030 §5.4: a Topic is at most 32 characters of the URL-safe base64 alphabet. */
function topicHeader(room: string): string {
  const hash = new Bun.CryptoHasher('sha256').update(room).digest('base64url')
  return hash.slice(0, 32)
}

/** Deletes every push subscription of an account (deactivation and erasure call this). */
export async function removePushSubscriptions(db: Db, userId: string): Promise<void> {
  await deleteUserPushSubscriptions(db, userId)
}

/**
 * @example
 * const push = createPush({ db, log, presence, vapid, collapseMs: 30_000, ... })
 * const pushes = await push.pushesFor(rows, message) // stored with rows, then push.queued(pushes)
 */
export function createPush(options: PushOptions) {
  const { db, log, presence, vapid, collapseMs, maxAttempts, retryBaseMs, timeoutMs } = options
  const now = options.now ?? Date.now
  const ttlSeconds = String(Math.floor(options.ttlMs / 1000))
  const inFlight = new Set<Promise<void>>()
  let timer: ReturnType<typeof setInterval> | undefined
  let ticking = false
  let closed = false
  let prunedAt = 0

  async function subscribe(
    actor: UserRow,
    input: PushSubscriptionInput
  ): Promise<Result<{ created: boolean }>> {
    const url = new URL(input.endpoint)
    if (url.protocol !== 'https:' && !(options.allowHttp && url.protocol === 'http:')) {
      return fail('invalid_input', 'endpoint must be an https URL', { field: 'endpoint' })
    }
    if (!(await isP256Point(input.keys.p256dh))) {
      return fail('invalid_input', 'keys.p256dh is not a P-256 public key', {
        field: 'keys.p256dh',
      })
    }
    const existing = await findPushSubscription(db, input.endpoint)
    if (existing?.userId !== actor.id) {
      if ((await countPushSubscriptions(db, actor.id)) >= options.maxPerUser) {
        return fail(
          'conflict',
          `at most ${options.maxPerUser} push subscriptions per account; remove one first`
        )
      }
    }
    // An endpoint another account had moves to this one: the browser now belongs to this login.
    await savePushSubscription(db, {
      id: existing?.id ?? newId(now()),
      userId: actor.id,
      endpoint: input.endpoint,
      p256dh: input.keys.p256dh,
      auth: input.keys.auth,
      createdAt: existing?.createdAt ?? now(),
    })
    return ok({ created: existing?.userId !== actor.id })
  }

  async function unsubscribe(actor: UserRow, endpoint: string): Promise<Result<null>> {
    const removed = await deletePushSubscription(db, { userId: actor.id, endpoint })
    return removed ? ok(null) : fail('not_found', 'no such push subscription of yours')
  }

  /**
   * The pushes for notifications about to be stored (one room, one sender): one to each
   * subscription of each user with no live socket on any node, due at once or when the room's
   * collapse window ends. Only reads; the caller stores them with the notifications, in one
   * transaction (store/notifications.ts), then calls `queued`.
   */
  async function pushesFor(
    rows: readonly NotificationRow[],
    message: MessageWithAuthor | null
  ): Promise<NewPushRow[]> {
    const first = rows[0]
    if (!first || closed) return []
    const subscriptions = await pushSubscriptionsOf(
      db,
      rows.map((row) => row.userId)
    )
    if (subscriptions.length === 0) return []
    const online = await presence.onlineAmong([...new Set(subscriptions.map((s) => s.userId))])
    const offline = subscriptions.filter((s) => !online.has(s.userId))
    if (offline.length === 0) return []
    const sender = message?.author ?? (await findUsersByIds(db, [first.actorId]))[0] ?? null
    if (!sender) return []
    const room = topicOf({ kind: first.roomKind, id: first.roomId })
    const byUser = new Map(rows.map((row) => [row.userId, row]))
    const at = now()
    const planned: NewPushRow[] = []
    for (const subscription of offline) {
      const notification = byUser.get(subscription.userId)
      if (!notification) continue
      const pushId = newId(at)
      planned.push({
        pushId,
        subscriptionId: subscription.id,
        room,
        payload: JSON.stringify(pushPayloadView(pushId, notification, sender, message)),
        urgency: notification.kind === 'message' && first.roomKind === 'city' ? 'normal' : 'high',
        nextAt: at,
        collapseMs,
        createdAt: at,
      })
    }
    return planned
  }

  /**
   * After the transaction that stored them committed: counted, and a tick, which sends those due
   * now (whether one waits out a collapse window was decided as it was stored).
   */
  function queued(rows: readonly NewPushRow[]): void {
    if (rows.length === 0) return
    options.counters.queued.inc(undefined, rows.length)
    setImmediate(() => void tick())
  }

  async function tick(): Promise<void> {
    if (ticking || closed || inFlight.size >= MAX_IN_FLIGHT) return
    ticking = true
    try {
      const at = now()
      const lease = at + timeoutMs * 2 + 1_000
      const rows = await claimDuePushes(db, at, lease, MAX_IN_FLIGHT - inFlight.size)
      for (const row of rows) {
        const sending: Promise<void> = deliver(row)
          .catch((error) => log.error('push delivery failed', { error }))
          .finally(() => {
            inFlight.delete(sending)
            void tick()
          })
        inFlight.add(sending)
      }
      if (at - prunedAt > PRUNE_EVERY_MS) {
        prunedAt = at
        await pruneFinishedPushes(db, at - KEEP_FINISHED_MS - collapseMs)
      }
    } catch (error) {
      log.error('claiming pushes failed', { error })
    } finally {
      ticking = false
    }
  }

  /** One POST to the push service, then the row's outcome. */
  async function deliver(row: PushOutboxRow): Promise<void> {
    const subscription = await findPushSubscriptionById(db, row.subscriptionId)
    if (!subscription) return // dropped meanwhile; its rows went with it
    let status: number | null = null
    let error: string | null = null
    let retryAfterMs = 0
    try {
      const body = await encryptPush(subscription, new TextEncoder().encode(row.payload))
      const res = await fetch(subscription.endpoint, {
        method: 'POST',
        headers: {
          authorization: await vapid.authorization(subscription.endpoint, now()),
          'content-encoding': 'aes128gcm',
          'content-type': 'application/octet-stream',
          ttl: ttlSeconds,
          urgency: row.urgency,
          topic: topicHeader(row.room),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
      status = res.status
      retryAfterMs = Number(res.headers.get('retry-after')) * 1000 || 0
      await res.arrayBuffer().catch(() => undefined)
      if (status < 200 || status >= 300) error = `HTTP ${status}`
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught)
    }
    const at = now()
    if (error === null) {
      if (await finishPush(db, row, { state: 'sent', status, error, at })) {
        options.counters.sent.inc()
      }
    } else if (status === 404 || status === 410) {
      // RFC 8030 §6.2: the subscription expired or was removed; its pending pushes go with it.
      await deletePushSubscription(db, { id: subscription.id })
      options.counters.gone.inc()
      log.info('push subscription gone', { status })
    } else if (status !== null && status !== 429 && status < 500) {
      // Refused for good (a bad request, an auth failure, too large): retrying cannot help.
      await finishPush(db, row, { state: 'dead', status, error, at })
      options.counters.dead.inc()
      log.warn('push refused by the push service', { status })
    } else if (row.attempts >= maxAttempts) {
      await finishPush(db, row, { state: 'dead', status, error, at })
      options.counters.dead.inc()
      log.warn('push dead after its last attempt', { status, error })
    } else {
      const backoff = retryBaseMs * 2 ** Math.min(row.attempts - 1, 6)
      await retryPush(db, row, { nextAt: at + Math.max(backoff, retryAfterMs), status, error })
    }
  }

  return {
    /** The VAPID public key browsers subscribe with (applicationServerKey). */
    publicKey: vapid.publicKey,
    subscribe,
    unsubscribe,
    pushesFor,
    queued,
    /** Starts the delivery loop; pushes a previous process left in the outbox go out too. */
    start(): void {
      if (timer || closed) return
      timer = setInterval(() => void tick(), Math.min(POLL_MS, retryBaseMs))
      timer.unref?.()
      void tick()
    },
    /** Stops claiming and waits for the pushes under way (their marks land before the database closes). */
    async close(): Promise<void> {
      closed = true
      clearInterval(timer)
      while (ticking || inFlight.size > 0) {
        await Promise.race([...inFlight, new Promise((resolve) => setTimeout(resolve, 10))])
      }
    },
  }
}

export type Push = ReturnType<typeof createPush>
