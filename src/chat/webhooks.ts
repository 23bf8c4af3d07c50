/**
 * @module Outgoing webhooks, for the operator's own services: each event is written to a durable
 * outbox (store/webhooks.ts) off the send path, then POSTed as JSON `{ id, type, time, data }`
 * with `X-Webhook-Id`, `X-Webhook-Timestamp` (unix seconds) and `X-Webhook-Signature: v1=<hex>`,
 * the HMAC-SHA256 of `<timestamp>.<body>` under WEBHOOK_SECRET. At least once (a receiver
 * de-duplicates by id), in order per room (a room's next event waits until the one before it was
 * delivered or dead), retried with exponential backoff, dead-lettered after `maxAttempts`. The
 * delivery loop runs on its own timers, so a slow or dead receiver never holds up chat traffic.
 * Besides WEBHOOK_URL (hook id `env`), admins register hooks (`POST /api/admin/webhooks`), each
 * with its own event types and its own secret; every node reads them again when the change feed
 * says one was registered or removed (and every few seconds), and each delivery reads its hook's
 * row. An event no receiver takes returns from `emit` before its data is built.
 */

import { fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Counter } from '../metrics.ts'
import type { Db } from '../store/db.ts'
import { newId } from '../store/ids.ts'
import type { UserRow, WebhookOutboxRow, WebhookRow } from '../store/schema.ts'
import {
  claimDueWebhooks,
  countWebhooks,
  deleteFinishedWebhooks,
  deleteWebhook,
  findWebhook,
  firstWebhookIdFrom,
  insertWebhook,
  insertWebhookRows,
  listWebhookDeliveries,
  listWebhooks,
  type NewWebhookRow,
  oldestWebhookId,
  recordWebhookAttempt,
} from '../store/webhooks.ts'
import { yieldToLoop } from './background.ts'
import type { ChangeFeed } from './change-feed.ts'
import type { WEBHOOK_EVENTS } from './inputs.ts'
import { ADMINS_ONLY, isAdmin } from './roles.ts'
import { type RoomRef, topicOf } from './rooms.ts'

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]

export interface WebhookOptions {
  db: Db
  log: Logger
  /** Tells the other nodes a hook was registered or removed (they read the list again at once). */
  feed: ChangeFeed
  /** WEBHOOK_URL; undefined turns webhooks off (nothing is written or sent). */
  url: string | undefined
  secret: string | undefined
  maxAttempts: number
  retryBaseMs: number
  timeoutMs: number
  /** Counts events that ran out of attempts. */
  deadLetters: Counter
  now?: () => number
}

/** The hook WEBHOOK_URL configures. */
const ENV_HOOK = 'env'
/** Deliveries under way at once (each to a different room). */
const MAX_IN_FLIGHT = 16
const POLL_MS = 100
/** Outbox ids per retention delete (one rowid range). */
const FORGET_SLICE = 500
/** How often each node reads the registered hooks again (one made elsewhere is heard by then). */
const HOOKS_REFRESH_MS = 5_000
/** Registered hooks at most. */
const MAX_HOOKS = 20

/** A registered hook as the process keeps it. */
interface Hook {
  id: string
  url: string
  events: Set<string>
  secret: string
}

const toHook = (row: WebhookRow): Hook => ({
  id: row.id,
  url: row.url,
  events: new Set(JSON.parse(row.events) as string[]),
  secret: row.secret,
})

interface PendingEvent {
  eventId: string
  type: WebhookEvent
  room: string
  body: string
  at: number
}

/** The signature a receiver recomputes: `v1=` + hex HMAC-SHA256(secret, `${timestamp}.${body}`). */
function signWebhook(secret: string, timestamp: string, body: string): string {
  const hmac = new Bun.CryptoHasher('sha256', secret)
  hmac.update(`${timestamp}.${body}`)
  return `v1=${hmac.digest('hex')}`
}

/**
 * @example
 * const webhooks = createWebhooks({ db, log, url, secret, maxAttempts: 8, retryBaseMs: 1_000,
 *   timeoutMs: 5_000, deadLetters })
 * webhooks.emit('message.created', room, () => ({ message: view })); webhooks.start()
 */
export function createWebhooks(options: WebhookOptions) {
  const { db, log, url, secret, maxAttempts, retryBaseMs, timeoutMs, now = Date.now } = options
  if (url !== undefined && secret === undefined) {
    throw new Error('WEBHOOK_URL needs WEBHOOK_SECRET (receivers check the signature with it)')
  }
  let hooks = new Map<string, Hook>()
  let hooksReadAt = Number.NEGATIVE_INFINITY
  const enabled = () => url !== undefined || hooks.size > 0
  /** The event types some registered hook takes (WEBHOOK_URL takes them all). */
  let wanted = new Set<string>()
  const wants = (type: WebhookEvent) => url !== undefined || wanted.has(type)
  let pending: PendingEvent[] = []
  let flushing: Promise<void> | null = null
  let timer: ReturnType<typeof setInterval> | undefined
  let inFlight = 0
  let ticking = false
  let closed = false

  /**
   * Queues an event for its room's order; written to the outbox on the next turn. `data` is built
   * only when some receiver takes the event: with none, this returns at once.
   */
  function emit(type: WebhookEvent, room: RoomRef | { user: string }, data: () => unknown): void {
    if (closed || !wants(type)) return
    pending.push(eventOf(type, room, data))
    flushing ??= yieldToLoop().then(flush)
  }

  function eventOf(
    type: WebhookEvent,
    room: RoomRef | { user: string },
    data: () => unknown
  ): PendingEvent {
    const at = now()
    const id = newId(at)
    const body = JSON.stringify({ id, type, time: new Date(at).toISOString(), data: data() })
    return {
      eventId: id,
      room: 'user' in room ? `user:${room.user}` : topicOf(room),
      type,
      body,
      at,
    }
  }

  /**
   * An event's outbox rows, for a caller that commits them with its own writes (the notifier,
   * with its watermark), then calls `written()`. None when no receiver takes it.
   */
  function eventRows(
    type: WebhookEvent,
    room: RoomRef | { user: string },
    data: () => unknown
  ): NewWebhookRow[] {
    if (closed || !wants(type)) return []
    return rowsFor([eventOf(type, room, data)])
  }

  async function flush(): Promise<void> {
    try {
      while (pending.length > 0) {
        await insertWebhookRows(db, rowsFor(pending.splice(0, 500)))
      }
    } catch (error) {
      log.error('writing webhook events failed', { error })
    } finally {
      flushing = null
    }
    void tick()
  }

  /** One outbox row per receiver of each event: WEBHOOK_URL, and the hooks that chose its type. */
  function rowsFor(events: PendingEvent[]): NewWebhookRow[] {
    const receivers = [
      ...(url === undefined ? [] : [{ id: ENV_HOOK, url, events: null }]),
      ...hooks.values(),
    ]
    return events.flatMap((event) =>
      receivers
        .filter((hook) => hook.events === null || hook.events.has(event.type))
        .map((hook) => ({
          eventId: event.eventId,
          hookId: hook.id,
          url: hook.url,
          room: event.room,
          type: event.type,
          body: event.body,
          nextAt: event.at,
          createdAt: event.at,
        }))
    )
  }

  options.feed.listen((change) => {
    if (change.kind === 'webhooks')
      readHooks().catch((error) => log.error('reading webhooks failed', { error }))
  })

  async function readHooks(): Promise<void> {
    hooks = new Map((await listWebhooks(db)).map((row) => [row.id, toHook(row)]))
    wanted = new Set([...hooks.values()].flatMap((hook) => [...hook.events]))
    hooksReadAt = now()
  }

  async function tick(): Promise<void> {
    if (ticking || closed || inFlight >= MAX_IN_FLIGHT) return
    ticking = true
    try {
      if (now() - hooksReadAt > HOOKS_REFRESH_MS) await readHooks()
      if (!enabled()) return
      const at = now()
      const rows = await claimDueWebhooks(db, at, at + timeoutMs + 5_000, MAX_IN_FLIGHT - inFlight)
      for (const row of rows) {
        inFlight += 1
        deliver(row)
          .catch((error) => log.error('webhook delivery failed', { error }))
          .finally(() => {
            inFlight -= 1
          })
      }
    } catch (error) {
      log.error('claiming webhook events failed', { error })
    } finally {
      ticking = false
    }
  }

  async function deliver(row: WebhookOutboxRow): Promise<void> {
    const timestamp = String(Math.floor(now() / 1000))
    // A registered hook's row is read at each delivery: one removed on another node a moment ago
    // (not in this node's list yet) is sent nothing more.
    const key = row.hookId === ENV_HOOK ? secret : (await findWebhook(db, row.hookId))?.secret
    if (key === undefined) {
      // Its hook was removed: nothing to sign with, nobody to send to.
      await recordWebhookAttempt(db, row.id, {
        state: 'dead',
        attempts: row.attempts,
        nextAt: now(),
        status: null,
        error: 'hook removed',
        at: now(),
      })
      return
    }
    let status: number | null = null
    let error: string | null = null
    try {
      const res = await fetch(row.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-webhook-id': row.eventId,
          'x-webhook-timestamp': timestamp,
          'x-webhook-signature': signWebhook(key, timestamp, row.body),
        },
        body: row.body,
        signal: AbortSignal.timeout(timeoutMs),
      })
      status = res.status
      await res.arrayBuffer().catch(() => undefined)
      if (!res.ok) error = `HTTP ${res.status}`
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught)
    }
    const attempts = row.attempts + 1
    const at = now()
    if (error === null) {
      await recordWebhookAttempt(db, row.id, {
        state: 'delivered',
        attempts,
        nextAt: at,
        status,
        error,
        at,
      })
    } else if (attempts >= maxAttempts) {
      options.deadLetters.inc({ type: row.type })
      log.warn('webhook event dead-lettered', { id: row.eventId, type: row.type, error })
      await recordWebhookAttempt(db, row.id, {
        state: 'dead',
        attempts,
        nextAt: at,
        status,
        error,
        at,
      })
    } else {
      const delay = retryBaseMs * 2 ** Math.min(attempts - 1, 6)
      await recordWebhookAttempt(db, row.id, {
        state: 'pending',
        attempts,
        nextAt: at + delay,
        status,
        error,
        at,
      })
    }
    // The room's next event may go now.
    void tick()
  }

  /** Registers a hook (admins): its secret is in this answer only. */
  async function registerWebhook(
    actor: UserRow,
    input: { url: string; events: readonly WebhookEvent[] }
  ): Promise<Result<{ hook: WebhookRow }>> {
    if (!isAdmin(actor)) return ADMINS_ONLY
    if ((await countWebhooks(db)) >= MAX_HOOKS) {
      return fail('conflict', `at most ${MAX_HOOKS} webhooks; remove one first`)
    }
    const at = now()
    const hook: WebhookRow = {
      id: newId(at),
      url: input.url,
      events: JSON.stringify([...new Set(input.events)]),
      secret: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url'),
      createdBy: actor.id,
      createdAt: at,
    }
    await insertWebhook(db, hook)
    await readHooks()
    options.feed.publish({ kind: 'webhooks' })
    return ok({ hook })
  }

  async function listRegisteredWebhooks(actor: UserRow): Promise<Result<WebhookRow[]>> {
    if (!isAdmin(actor)) return ADMINS_ONLY
    return ok(await listWebhooks(db))
  }

  async function removeWebhook(actor: UserRow, id: string): Promise<Result<null>> {
    if (!isAdmin(actor)) return ADMINS_ONLY
    if (!(await deleteWebhook(db, id))) return fail('not_found', 'no such webhook')
    await readHooks()
    options.feed.publish({ kind: 'webhooks' })
    return ok(null)
  }

  /** A hook's deliveries (`env`: WEBHOOK_URL's), newest first: state, attempts, last answer. */
  async function listDeliveries(
    actor: UserRow,
    id: string,
    page: { before?: number | undefined; limit: number }
  ) {
    if (!isAdmin(actor)) return ADMINS_ONLY
    const known =
      id === ENV_HOOK ? url !== undefined : (await listWebhooks(db)).some((h) => h.id === id)
    if (!known) return fail('not_found', 'no such webhook')
    return ok(await listWebhookDeliveries(db, id, page))
  }

  return {
    /** Whether some receiver takes `type` (callers skip the work of an event nobody takes). */
    wants,
    emit,
    eventRows,
    /** Rows from `eventRows` were committed: deliver them now rather than at the next poll. */
    written(): void {
      void tick()
    },
    registerWebhook,
    listRegisteredWebhooks,
    removeWebhook,
    listDeliveries,
    /** Starts the delivery loop (server start); events already in the outbox go out too. */
    start(): void {
      if (timer) return
      timer = setInterval(() => void tick(), Math.min(POLL_MS, retryBaseMs))
      timer.unref?.()
      void tick()
    },
    /**
     * Retention: delivered and dead rows written before `before` go (their bodies carry message
     * content), a range of ids at a time with the event loop served between; pending ones stay
     * until delivered or dead. Returns how many went.
     */
    async forgetBefore(before: number): Promise<number> {
      const end = await firstWebhookIdFrom(db, before)
      let deleted = 0
      for (let from = await oldestWebhookId(db); from < end && !closed; from += FORGET_SLICE) {
        deleted += await deleteFinishedWebhooks(db, from, Math.min(end, from + FORGET_SLICE))
        await yieldToLoop()
      }
      return deleted
    },
    /** Writes what is queued and stops delivering (leases lapse; another node or restart resumes). */
    async close(): Promise<void> {
      closed = true
      clearInterval(timer)
      while (flushing) await flushing
    },
  }
}

export type Webhooks = ReturnType<typeof createWebhooks>
