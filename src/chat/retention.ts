/**
 * @module Retention: messages older than their room's retention are deleted for good, with their
 * media, notifications, reports and any log row that carries their content; the webhook outbox's
 * delivered rows go after the shortest retention in force. A city's own
 * `retention_days` beats MESSAGE_RETENTION; private chats follow MESSAGE_RETENTION.
 *
 * It runs in the background in slices bounded in time, not rows: each slice aims at SLICE_BUDGET_MS
 * of work, its size following the measured cost of a row, and the loop is left to traffic for at
 * least as long as the slice held it, so traffic never waits long behind it. It keeps no state of its own: a room's oldest messages
 * are always its frontier (a room is purged from its start, in seq order), so a restart, or a
 * second node running the same purge, simply continues. A purged message is gone to history,
 * unread counts, recovery and search alike; a reply to it reads `reply_to_deleted: true`.
 */
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import {
  type AgedMessage,
  chatsWithMessagesBefore,
  oldestMessages,
  purgeMessages,
  type RoomRef,
} from '../store/messages.ts'
import { createBackgroundLoop, yieldToLoop } from './background.ts'
import type { Cities } from './cities.ts'
import type { Media } from './media.ts'
import type { RoomStream } from './room-stream.ts'
import { chatRoom, cityRoom } from './rooms.ts'
import type { Webhooks } from './webhooks.ts'

export interface RetentionOptions {
  db: Db
  log: Logger
  cities: Cities
  media: Media
  stream: RoomStream
  webhooks: Webhooks
  /** MESSAGE_RETENTION in ms; undefined: only cities with their own retention are purged. */
  globalMs: number | undefined
  /** How often a run starts (RETENTION_INTERVAL). */
  intervalMs: number
}

/** What one run deleted. */
interface PurgeTotals {
  cityMessages: number
  chatMessages: number
  webhookRows: number
}

const DAY_MS = 86_400_000
/**
 * What one slice may hold the event loop for (bun:sqlite runs its statements on it). The rows
 * per slice follow from the measured cost of a row: the budget over the median ms per row of the
 * last SAMPLES slices. The median, not the last one: now and then a commit also pays for the
 * search index merging its segments (tens of ms, whatever the slice's size), and shrinking the
 * slices after it would only make the merges more frequent per row purged.
 */
const SLICE_BUDGET_MS = 4
/** The first slice's rows, and the bounds the adapted size stays within. */
const SLICE_START = 200
const SLICE_MIN = 20
const SLICE_MAX = 2_000
const SAMPLES = 9
/** The pause after a slice, at least: the purge takes at most about half of the loop's time. */
const PAUSE_MIN_MS = 2

/** Rows per slice from the last slices' ms per row (SLICE_START until one is measured). */
function sliceSize(msPerRow: readonly number[]): number {
  if (msPerRow.length === 0) return SLICE_START
  const sorted = [...msPerRow].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0
  return Math.round(
    Math.min(SLICE_MAX, Math.max(SLICE_MIN, SLICE_BUDGET_MS / Math.max(median, 1e-4)))
  )
}

/** Chats looked at per query when finding the ones with messages to purge. */
const CHAT_PAGE = 500

/** The room's retention in ms: a city's own days, else the global setting. */
function retentionMsOf(
  room: { kind: 'city'; retentionDays: number | null } | { kind: 'chat' },
  globalMs: number | undefined
): number | undefined {
  if (room.kind === 'city' && room.retentionDays !== null) return room.retentionDays * DAY_MS
  return globalMs
}

/**
 * @example
 * const retention = createRetention({ db, log, cities, media, stream, globalMs: 90 * 86_400_000, intervalMs: 600_000 })
 * retention.start(); await retention.stop()
 */
export function createRetention({
  db,
  log,
  cities,
  media,
  stream,
  webhooks,
  globalMs,
  intervalMs,
}: RetentionOptions) {
  const loop = createBackgroundLoop('retention', pass, intervalMs, log)

  /** One slice: media doomed, log rows forgotten, then the rows and what names them. */
  async function purgeSlice(rows: AgedMessage[]): Promise<void> {
    await media.messagesPurged(rows.map((row) => row.id))
    await stream.forgetMessages(rows)
    await purgeMessages(db, rows)
  }

  /** ms per row of the last SAMPLES full slices, across rooms and runs. */
  const msPerRow: number[] = []

  /**
   * Purges the room's messages created before `cutoff`, oldest first; how many went. Each slice
   * (the read of the frontier and the purge) is timed; the loop then pauses at least as long.
   */
  async function purgeRoom(room: RoomRef, cutoff: number): Promise<number> {
    let purged = 0
    while (!loop.stopped) {
      const started = performance.now()
      const size = sliceSize(msPerRow)
      const rows = await oldestMessages(db, room, size)
      const firstKept = rows.findIndex((row) => row.createdAt >= cutoff)
      const old = firstKept === -1 ? rows : rows.slice(0, firstKept)
      if (old.length > 0) {
        await purgeSlice(old)
        purged += old.length
      }
      const took = performance.now() - started
      if (old.length === size) {
        msPerRow.push(took / size)
        if (msPerRow.length > SAMPLES) msPerRow.shift()
      }
      await yieldToLoop(Math.max(PAUSE_MIN_MS, Math.ceil(took)))
      if (old.length < size) break
    }
    return purged
  }

  async function runOnce(): Promise<PurgeTotals> {
    const now = Date.now()
    const totals: PurgeTotals = { cityMessages: 0, chatMessages: 0, webhookRows: 0 }
    const list = await cities.listCities()
    let shortest = globalMs
    for (const city of list.ok ? list.value : []) {
      const ms = retentionMsOf({ kind: 'city', retentionDays: city.retentionDays }, globalMs)
      if (ms === undefined || loop.stopped) continue
      shortest = Math.min(ms, shortest ?? ms)
      totals.cityMessages += await purgeRoom(cityRoom(city.id), now - ms)
    }
    // The outbox keeps sent events' bodies (message content): the delivered and dead rows older
    // than the shortest retention in force go. Only bookkeeping goes early for longer rooms.
    if (shortest !== undefined && !loop.stopped)
      totals.webhookRows = await webhooks.forgetBefore(now - shortest)
    const chatMs = retentionMsOf({ kind: 'chat' }, globalMs)
    if (chatMs === undefined) return totals
    let after = ''
    while (!loop.stopped) {
      const page = await chatsWithMessagesBefore(db, now - chatMs, after, CHAT_PAGE)
      for (const id of page.ids) {
        if (loop.stopped) break
        totals.chatMessages += await purgeRoom(chatRoom(id), now - chatMs)
      }
      if (page.scannedTo === null) break
      after = page.scannedTo
      await yieldToLoop()
    }
    return totals
  }

  /** One run: what it purged is logged. A run cut short by a restart continues in the next. */
  async function pass(): Promise<void> {
    const started = Date.now()
    const totals = await runOnce()
    if (totals.cityMessages + totals.chatMessages + totals.webhookRows > 0)
      log.info('retention purged messages', { ...totals, ms: Date.now() - started })
  }

  return {
    /** First run now (it continues what a previous process left), then every interval. */
    start: loop.start,
    stop: loop.stop,
  }
}
