/**
 * @module Delivery in offset order across nodes. Offsets are given out one after another in the
 * database every node shares, but a broadcast relayed from another node can arrive after a later
 * one committed here. A client's recovery offset is the last one it received, so out of order a
 * resume would replay a broadcast twice or skip one. So each node keeps the newest offset it has
 * delivered; a broadcast that skips ahead first has the ones in between read from the offset log
 * (they are committed, only not heard here yet) and delivered, and a relayed broadcast this node
 * already delivered that way is dropped.
 */
import type { Logger } from '../../log.ts'
import type { LoggedEvent } from '../io/recovery.ts'

/** Where a node reads the broadcasts it has not heard yet (the application's event log). */
export interface OffsetLog {
  /** The newest offset given out so far: where a starting node's delivery begins. */
  newest(): Promise<number>
  /**
   * Every broadcast with `after < offset < before`, oldest first: its room and its event as JSON
   * `[event, ...args]` (the offset is appended on delivery).
   */
  between(after: number, before: number): Promise<Array<LoggedEvent & { room: string }>>
}

/** A gap this long is not read back (a node cut off for a while): delivery skips ahead. */
const MAX_GAP = 1_000

/**
 * @example
 * const order = createOffsetOrder(log, (room, event) => deliverHere(room, event), logger)
 * order.offer(offset, () => deliverHere(room, json))
 */
export function createOffsetOrder(
  log: OffsetLog,
  deliverRead: (room: string, event: LoggedEvent) => void,
  logger: Logger
) {
  /** The newest offset delivered here; undefined until the starting point is known. */
  let delivered: number | undefined
  /** The starting point could not be read: the first broadcast offered is the start. */
  let startAtFirst = false
  /** Broadcasts waiting for the ones before them, by offset. */
  const waiting = new Map<number, () => void>()
  let reading = false

  log.newest().then(
    (newest) => {
      delivered = newest
      void drain()
    },
    (error: unknown) => {
      logger.error('offset order: the newest offset could not be read', { error })
      startAtFirst = true
      if (waiting.size > 0) delivered = oldestWaiting() - 1
      void drain()
    }
  )

  const oldestWaiting = () => {
    let oldest = Number.POSITIVE_INFINITY
    for (const offset of waiting.keys()) if (offset < oldest) oldest = offset
    return oldest
  }

  async function drain(): Promise<void> {
    if (reading || delivered === undefined) return
    while (waiting.size > 0) {
      const next = oldestWaiting()
      const deliver = waiting.get(next) as () => void
      if (next <= delivered) {
        waiting.delete(next)
      } else if (next === delivered + 1 || next - delivered > MAX_GAP) {
        waiting.delete(next)
        delivered = next
        deliver()
      } else {
        reading = true
        try {
          for (const row of await log.between(delivered, next)) {
            if (row.offset <= delivered) continue
            const own = waiting.get(row.offset)
            waiting.delete(row.offset)
            delivered = row.offset
            if (own) own()
            else deliverRead(row.room, row)
          }
        } catch (error) {
          logger.warn('offset order: a gap could not be read; delivering on', { error })
        } finally {
          reading = false
        }
        // Offsets the log has no row for were given out to nothing (a retried send): skipped.
        delivered = Math.max(delivered, next - 1)
      }
    }
  }

  return {
    /** The newest offset delivered here; undefined until the starting point is known. */
    delivered: () => delivered,
    /** Delivers now when `offset` is the next one here; otherwise once those before it are. */
    offer(offset: number, deliver: () => void): void {
      if (delivered === undefined && startAtFirst) delivered = offset - 1
      if (delivered !== undefined && offset <= delivered) return
      waiting.set(offset, deliver)
      void drain()
    },
  }
}
