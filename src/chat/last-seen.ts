/**
 * @module Last seen: when each user was last connected, kept in `users.last_seen_at` so it
 * survives a restart (and needs no Redis). Connects and disconnects only mark the user in memory;
 * the marks are written in one statement every few seconds and on shutdown, never one write per
 * connection. A user whose node died is marked by the node that reaps it (the moment presence
 * lost them: events/presence-handlers.ts), since the dead node can neither see the disconnect nor
 * write its unwritten marks.
 */
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import type { UserRow } from '../store/schema.ts'
import { saveLastSeen } from '../store/users.ts'

/** How often marks are written; a process killed without a shutdown loses at most this much. */
const FLUSH_EVERY_MS = 5_000
/** Users per statement. */
const BATCH = 500

/**
 * @example
 * const lastSeen = createLastSeen({ db, log })
 * lastSeen.mark(user.id); lastSeen.of(userRow) // → ms or null; await lastSeen.close()
 */
export function createLastSeen({ db, log }: { db: Db; log: Logger }) {
  /** Marks not written yet, by user id. */
  let dirty = new Map<string, number>()
  let writing: Promise<void> = Promise.resolve()

  function flush(): Promise<void> {
    if (dirty.size === 0) return writing
    const batch = dirty
    dirty = new Map()
    writing = writing.then(async () => {
      const entries = [...batch]
      for (let i = 0; i < entries.length; i += BATCH) {
        try {
          await saveLastSeen(db, new Map(entries.slice(i, i + BATCH)))
        } catch (error) {
          log.error('saving last-seen times failed', { error })
        }
      }
    })
    return writing
  }

  const timer = setInterval(() => void flush(), FLUSH_EVERY_MS)
  timer.unref?.()

  return {
    /** The user was connected at `at` (a socket opened or closed). */
    mark(userId: string, at = Date.now()): void {
      dirty.set(userId, Math.max(at, dirty.get(userId) ?? 0))
    },
    /** The user's last-seen time in ms: this node's unwritten mark or the stored one; null: never. */
    of(user: Pick<UserRow, 'id' | 'lastSeenAt'>): number | null {
      const marked = dirty.get(user.id)
      if (marked === undefined) return user.lastSeenAt
      return Math.max(marked, user.lastSeenAt ?? 0)
    },
    /** Writes what is marked (shutdown), then stops the timer. */
    async close(): Promise<void> {
      clearInterval(timer)
      await flush()
    },
  }
}

export type LastSeen = ReturnType<typeof createLastSeen>
