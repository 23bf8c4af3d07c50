/**
 * @module Outgoing webhooks, for the operator's own services: each event is written to a durable
 * outbox (store/webhooks.ts) off the send path, then POSTed as JSON `{ id, type, time, data }`
 * with `X-Webhook-Id`, `X-Webhook-Timestamp` (unix seconds) and `X-Webhook-Signature: v1=<hex>`,
 * the HMAC-SHA256 of `<timestamp>.<body>` under WEBHOOK_SECRET. At least once (a receiver
 * de-duplicates by id), in order per room (a room's next event waits until the one before it was
 * delivered or dead), retried with exponential backoff, dead-lettered after `maxAttempts`. The
 * delivery loop runs on its own timers, so a slow or dead receiver never holds up chat traffic.
 */
import type { Logger } from '../log.ts'
import type { Counter } from '../metrics.ts'
import type { Db } from '../store/db.ts'
import { newId } from '../store/ids.ts'
import type { WebhookOutboxRow } from '../store/schema.ts'
import {
  claimDueWebhooks,
  deleteFinishedWebhooks,
  firstWebhookIdFrom,
  insertWebhookRows,
  type NewWebhookRow,
  oldestWebhookId,
  recordWebhookAttempt,
} from '../store/webhooks.ts'
import { type RoomRef, topicOf } from './rooms.ts'

const WEBHOOK_EVENTS = [
  'message.created',
  'message.edited',
  'message.deleted',
  'member.added',
  'member.removed',
  'notification.created',
] as const
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]

export interface WebhookOptions {
  db: Db
  log: Logger
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
 * webhooks.emit('message.created', room, { message: view }); webhooks.start()
 */
export function createWebhooks(options: WebhookOptions) {
  const { db, log, url, secret, maxAttempts, retryBaseMs, timeoutMs, now = Date.now } = options
  if (url !== undefined && secret === undefined) {
    throw new Error('WEBHOOK_URL needs WEBHOOK_SECRET (receivers check the signature with it)')
  }
  const enabled = url !== undefined
  let pending: NewWebhookRow[] = []
  let flushing: Promise<void> | null = null
  let timer: ReturnType<typeof setInterval> | undefined
  let inFlight = 0
  let ticking = false
  let closed = false

  /** Queues an event for its room's order; written to the outbox on the next turn. */
  function emit(type: WebhookEvent, room: RoomRef | { user: string }, data: unknown): void {
    if (!enabled || closed) return
    const at = now()
    const id = newId(at)
    const body = JSON.stringify({ id, type, time: new Date(at).toISOString(), data })
    pending.push({
      eventId: id,
      hookId: ENV_HOOK,
      url: url as string,
      room: 'user' in room ? `user:${room.user}` : topicOf(room),
      type,
      body,
      nextAt: at,
      createdAt: at,
    })
    flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(flush)
  }

  async function flush(): Promise<void> {
    try {
      while (pending.length > 0) {
        const rows = pending.splice(0, 500)
        await insertWebhookRows(db, rows)
      }
    } catch (error) {
      log.error('writing webhook events failed', { error })
    } finally {
      flushing = null
    }
    void tick()
  }

  async function tick(): Promise<void> {
    if (ticking || closed || inFlight >= MAX_IN_FLIGHT) return
    ticking = true
    try {
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
    let status: number | null = null
    let error: string | null = null
    try {
      const res = await fetch(row.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-webhook-id': row.eventId,
          'x-webhook-timestamp': timestamp,
          'x-webhook-signature': signWebhook(secret as string, timestamp, row.body),
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

  return {
    enabled,
    emit,
    /** Starts the delivery loop (server start); events already in the outbox go out too. */
    start(): void {
      if (!enabled || timer) return
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
        await new Promise<void>((resolve) => setImmediate(resolve))
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
