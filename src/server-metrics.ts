/**
 * @module The server's metric families (GET /metrics) and the hooks that feed them: the realtime
 * observer, a timing wrapper around the domain's write operations, and live gauges.
 */
import type { Chat } from './chat/service.ts'
import { createMetrics } from './metrics.ts'
import type { IOObserver, IOServer } from './realtime/index.ts'

/** Which functions of a domain object write (timed as the DB write latency) and which sends. */
interface Operations<T> {
  writes: readonly (keyof T & string)[]
  /** Counted as a stored message when it succeeds. */
  send: keyof T & string
}

/** The chat's: named by its keys, so renaming one of them is a type error here. */
export const CHAT_OPERATIONS: Operations<Chat> = {
  writes: [
    'register',
    'updateProfile',
    'deactivateAccount',
    'createChat',
    'addMembers',
    'removeMember',
    'leaveChat',
    'markRead',
    'sendMessage',
    'editMessage',
    'deleteMessage',
  ],
  send: 'sendMessage',
}

function isFailure(value: unknown): value is { ok: false; error: { code: string } } {
  const v = value as { ok?: unknown; error?: { code?: unknown } } | null
  return !!v && typeof v === 'object' && v.ok === false && typeof v.error?.code === 'string'
}

/**
 * @example
 * const metrics = createServerMetrics()
 * const chat = metrics.instrument(createChat(...), CHAT_OPERATIONS)
 * createIO({ observer: metrics.observer })
 */
export function createServerMetrics() {
  const registry = createMetrics()
  const connections = registry.gauge('chat_connections', 'Open Engine.IO sessions by transport')
  const rooms = registry.gauge('chat_rooms', 'Rooms with at least one socket on this node')
  const packets = registry.counter(
    'chat_packets_total',
    'Socket.IO packets: direction="in" received from clients; "out" written to one socket (kind="direct") or encoded once for a room broadcast (kind="broadcast")'
  )
  const messages = registry.counter('chat_messages_stored_total', 'Chat messages stored')
  const broadcastLatency = registry.histogram(
    'chat_broadcast_seconds',
    'Broadcast latency: origin="local" the local fan-out, origin="remote" publish-to-delivery from another node through Redis'
  )
  const dbWrite = registry.histogram(
    'chat_db_write_seconds',
    'Duration of the domain write operations (validation + database transaction), by operation'
  )
  const errors = registry.counter(
    'chat_errors_total',
    'Error answers by code: edge="socket" the `error` events, edge="http" the HTTP error bodies'
  )
  const http = registry.counter('chat_http_responses_total', 'HTTP responses by status class')
  const redisUp = registry.gauge(
    'chat_redis_up',
    'Redis link state: 1 up, 0 down (absent without REDIS_URL)'
  )
  const redisErrors = registry.counter(
    'chat_redis_errors_total',
    'Cross-node broadcasts that could not be published or decoded'
  )
  const forwards = registry.counter(
    'chat_polling_forwards_total',
    'Long-polling requests forwarded to the node that owns the session'
  )

  const mediaBytes = registry.gauge(
    'chat_media_stored_bytes',
    'Bytes of uploads kept (originals and thumbnails), by storage; shared by every node, as of the last sweep'
  )
  const mediaFiles = registry.gauge(
    'chat_media_stored_files',
    'Files of uploads kept (originals and thumbnails), by storage, as of the last sweep'
  )

  // Constant label objects on the per-packet paths: metrics.ts computes each series key once.
  const PACKET_IN = { direction: 'in', kind: 'event' }
  const PACKET_OUT = {
    direct: { direction: 'out', kind: 'direct' },
    broadcast: { direction: 'out', kind: 'broadcast' },
  }
  const LOCAL = { origin: 'local' }
  /** The events layer's `error` event to one socket carries `{ code }`. */
  const socketEvent = (event: string, payload: unknown) => {
    if (event !== 'error') return
    const code = (payload as { code?: unknown } | null)?.code
    errors.inc({ code: typeof code === 'string' ? code : 'unknown', edge: 'socket' })
  }
  const observer: IOObserver = {
    packetIn: () => packets.inc(PACKET_IN),
    packetOut: (kind) => packets.inc(PACKET_OUT[kind]),
    broadcast: (ms) => broadcastLatency.observe(ms / 1000, LOCAL),
    eventOut: (event, args) => socketEvent(event, args[0]),
  }

  /** `op`: the write's label (undefined for reads); `send`: counts stored messages. */
  const timed = (
    fn: (...args: unknown[]) => unknown,
    op: { op: string } | undefined,
    send: boolean
  ) =>
    function (this: unknown, ...args: unknown[]) {
      const started = performance.now()
      const settle = (value: unknown) => {
        if (op) dbWrite.observe((performance.now() - started) / 1000, op)
        if (send && !isFailure(value)) messages.inc()
        return value
      }
      const result = fn.apply(this, args)
      return result instanceof Promise ? result.then(settle) : settle(result)
    }

  return {
    registry,
    observer,
    /** Webhook events that ran out of attempts (chat/webhooks.ts). */
    webhookDeadLetters: registry.counter(
      'chat_webhook_dead_letters_total',
      'Webhook events dead-lettered after WEBHOOK_MAX_ATTEMPTS'
    ),
    /** Web Push outcomes (chat/push.ts): accepted by the push service, subscription gone, given up. */
    push: {
      queued: registry.counter(
        'chat_push_queued_total',
        'Web Pushes written to the outbox (one per subscription; folded ones too)'
      ),
      sent: registry.counter('chat_push_sent_total', 'Web Pushes the push service accepted'),
      gone: registry.counter(
        'chat_push_subscriptions_gone_total',
        'Push subscriptions dropped because their push service answered 404 or 410'
      ),
      dead: registry.counter(
        'chat_push_dead_total',
        'Web Pushes given up (refused or out of attempts)'
      ),
    },
    broadcastLatency: (origin: 'local' | 'remote', ms: number) =>
      broadcastLatency.observe(Math.max(0, ms) / 1000, { origin }),
    redisUp: (up: boolean) => redisUp.set(up ? 1 : 0),
    redisError: (reason: string) => redisErrors.inc({ reason }),
    forwarded: (ok: boolean) => forwards.inc({ result: ok ? 'ok' : 'failed' }),
    /** Counts the status class, and the error code of an error body (cloned; errors only). */
    httpResponse(res: Response) {
      http.inc({ status: `${Math.floor(res.status / 100)}xx` })
      if (res.status < 400 || !res.headers.get('content-type')?.includes('json')) return
      res
        .clone()
        .json()
        .then((body: unknown) => {
          const code = (body as { error?: { code?: unknown } } | null)?.error?.code
          if (typeof code === 'string') errors.inc({ code, edge: 'http' })
        })
        .catch(() => undefined)
    },
    /** The domain object with its writes timed and its sends counted. */
    instrument<T extends object>(domain: T, operations: Operations<T>): T {
      const out = { ...domain } as Record<string, unknown>
      for (const name of operations.writes) {
        const fn = domain[name] as (...a: unknown[]) => unknown
        out[name] = timed(fn, { op: name }, name === operations.send)
      }
      return out as T
    },
    /** Live gauges read at scrape time. */
    watch(io: IOServer) {
      registry.collect(() => {
        const byTransport: Record<string, number> = { polling: 0, websocket: 0 }
        for (const socket of io.engine.clients.values()) {
          const name = socket.transport.name
          byTransport[name] = (byTransport[name] ?? 0) + 1
        }
        for (const [transport, count] of Object.entries(byTransport)) {
          connections.set(count, { transport })
        }
        rooms.set(io.sockets.adapter.rooms.size)
      })
    },
    /** Media totals by storage, read at scrape time (the sweeper refreshes them). */
    watchMedia(totals: () => readonly { storage: string; bytes: number; files: number }[]) {
      // A storage emptied since the last scrape reports 0, not its last total.
      const seen = new Set<string>()
      registry.collect(() => {
        const now = new Map(totals().map((total) => [total.storage, total]))
        for (const storage of now.keys()) seen.add(storage)
        for (const storage of seen) {
          const total = now.get(storage)
          mediaBytes.set(total?.bytes ?? 0, { storage })
          mediaFiles.set(total?.files ?? 0, { storage })
        }
      })
    },
    render: () => registry.render(),
  }
}

export type ServerMetrics = ReturnType<typeof createServerMetrics>
