/**
 * @module Verified users cached briefly by id: a handshake or an authenticated request skips the
 * user read, and the many sockets (tabs) of one user share one user object instead of one row
 * copy each. Profile updates and deactivation on this node forget the entry at once; the short
 * lifetime bounds how long another node's change goes unseen by new handshakes (live sockets of a
 * deactivated user are closed through the adapter's user room, not through this cache).
 */
import type { UserRow } from '../store/schema.ts'

export interface UserCache {
  get(id: string): UserRow | undefined
  /** Keeps a copy without the password hash (a socket never needs it); returns that copy. */
  set(user: UserRow): UserRow
  forget(id: string): void
}

/** @example const users = createUserCache({ ttlMs: 2_000 }); const user = users.get(id) ?? users.set(await read(id)) */
export function createUserCache({
  ttlMs = 2_000,
  max = 10_000,
  now = Date.now,
}: {
  ttlMs?: number
  max?: number
  now?: () => number
} = {}): UserCache {
  const entries = new Map<string, { user: UserRow; at: number }>()
  return {
    get(id) {
      const entry = entries.get(id)
      if (!entry) return undefined
      if (now() - entry.at <= ttlMs) return entry.user
      entries.delete(id)
      return undefined
    },
    set(user) {
      // Bounded: a flood of distinct users empties it rather than growing it.
      if (entries.size >= max) entries.clear()
      const kept = { ...user, passwordHash: null }
      entries.set(user.id, { user: kept, at: now() })
      return kept
    },
    forget(id) {
      entries.delete(id)
    },
  }
}
