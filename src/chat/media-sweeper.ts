/**
 * @module Media sweeper: deletes what chat/media.ts doomed (a deleted message's upload, a removed
 * account's) and the orphans (uploads never sent, avatars no profile shows, after the orphan TTL).
 * It works in slices of a few rows, yielding to the event loop between them, and keeps its state
 * in the media table only (doomed = `deleted_at` set), so a restart resumes it. Several nodes may
 * sweep at once: deleting a file or a row twice is harmless.
 */
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import * as store from '../store/media.ts'
import type { MediaStorage } from '../store/media-storage.ts'
import { createBackgroundLoop, yieldToLoop } from './background.ts'

export interface MediaSweeperOptions {
  db: Db
  storage: MediaStorage
  log: Logger
  orphanTtlMs: number
  intervalMs: number
}

/** Rows per slice; slices per run, so one run never runs long either. */
const SLICE = 25
const MAX_SLICES = 40

interface MediaTotals {
  storage: string
  bytes: number
  files: number
}

/**
 * @example
 * const sweeper = createMediaSweeper({ db, storage, log, orphanTtlMs: 86_400_000, intervalMs: 60_000 })
 * sweeper.start(); await sweeper.stop()
 */
export function createMediaSweeper({
  db,
  storage,
  log,
  orphanTtlMs,
  intervalMs,
}: MediaSweeperOptions) {
  const loop = createBackgroundLoop('media sweep', pass, intervalMs, log)
  let totals: MediaTotals[] = []

  async function sweepOnce(): Promise<{ doomed: number; deleted: number }> {
    let doomed = 0
    let deleted = 0
    for (let slice = 0; slice < MAX_SLICES; slice++) {
      const marked = await store.doomOrphans(db, Date.now() - orphanTtlMs, SLICE)
      doomed += marked
      if (marked < SLICE) break
      await yieldToLoop()
    }
    for (let slice = 0; slice < MAX_SLICES && !loop.stopped; slice++) {
      const rows = await store.listDoomed(db, SLICE)
      if (rows.length === 0) break
      // Files first, then the rows: a crash in between leaves a doomed row to retry, never a file
      // that no row names.
      await Promise.all(
        rows.flatMap((row) => [
          storage.delete(row.storageKey),
          ...(row.thumbnailKey ? [storage.delete(row.thumbnailKey)] : []),
        ])
      )
      await store.deleteMediaRows(
        db,
        rows.map((row) => row.id)
      )
      deleted += rows.length
      await yieldToLoop()
    }
    totals = await store.mediaTotals(db)
    return { doomed, deleted }
  }

  /** One sweep; a failure is logged as `media sweep failed` (operators and tests look for it). */
  async function pass(): Promise<void> {
    try {
      const { doomed, deleted } = await sweepOnce()
      if (doomed > 0 || deleted > 0) log.info('media swept', { orphans: doomed, deleted })
    } catch (error) {
      log.error('media sweep failed', { error })
    }
  }

  return {
    /** First sweep now (it resumes what a previous run left), then every interval. */
    start: loop.start,
    /** Sweeps as soon as the current run ends (after a delete), resolving when done. */
    soon: loop.soon,
    /** Live bytes and files by storage as of the last sweep (GET /metrics). */
    totals: () => totals,
    stop: loop.stop,
  }
}
