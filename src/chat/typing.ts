/** @module Typing state: who is typing where, throttled re-announcements, and expiry of forgotten states. */

interface TypingEntry<T> {
  room: string
  socketId: string
  /** What the caller needs to announce the stop (the user's public fields). */
  who: T
}

export interface TypingTrackerOptions<T> {
  /** A typing state not refreshed for this long stops by itself. */
  ttlMs: number
  /** While typing continues, re-announce at most this often (clients hide stale indicators after ~3 s). */
  reannounceMs?: number
  /** How often expired states are swept. */
  sweepMs?: number
  onExpire: (entry: TypingEntry<T>) => void
  now?: () => number
}

export interface TypingTracker<T> {
  /** Records typing; true when the others should be told (new state, or due for a re-announcement). */
  start(entry: TypingEntry<T>): boolean
  /** Clears typing; the cleared state, if there was one (so a stop is announced once). */
  stop(room: string, socketId: string): TypingEntry<T> | undefined
  /** Clears every state of a socket (it left or disconnected); returns what was cleared. */
  stopSocket(socketId: string): TypingEntry<T>[]
  close(): void
}

interface State<T> {
  entry: TypingEntry<T>
  expiresAt: number
  announcedAt: number
}

/**
 * One sweep timer for all states, running only while someone types.
 * @example
 * const typing = createTypingTracker({ onExpire: (e) => io.to(e.room).emit('user-stopped-typing-city', e.who) })
 * if (typing.start({ room, socketId: socket.id, who })) socket.to(room).emit('user-typing-city', who)
 */
export function createTypingTracker<T>({
  ttlMs,
  reannounceMs = 2_000,
  sweepMs = 1_000,
  onExpire,
  now = Date.now,
}: TypingTrackerOptions<T>): TypingTracker<T> {
  const states = new Map<string, State<T>>()
  let sweeper: ReturnType<typeof setInterval> | undefined

  const key = (room: string, socketId: string) => `${socketId}\u0000${room}`

  const sweep = () => {
    const at = now()
    for (const [k, state] of states) {
      if (state.expiresAt > at) continue
      states.delete(k)
      onExpire(state.entry)
    }
    if (states.size === 0) stopSweeper()
  }
  const stopSweeper = () => {
    if (sweeper) clearInterval(sweeper)
    sweeper = undefined
  }
  const ensureSweeper = () => {
    if (sweeper) return
    sweeper = setInterval(sweep, sweepMs)
    sweeper.unref?.()
  }

  return {
    start(entry) {
      const at = now()
      const k = key(entry.room, entry.socketId)
      const state = states.get(k)
      if (state) {
        state.expiresAt = at + ttlMs
        if (at - state.announcedAt < reannounceMs) return false
        state.announcedAt = at
        return true
      }
      states.set(k, { entry, expiresAt: at + ttlMs, announcedAt: at })
      ensureSweeper()
      return true
    },
    stop(room, socketId) {
      // Every send stops its sender's typing; nobody typing is the common case, and free.
      if (states.size === 0) return undefined
      const k = key(room, socketId)
      const state = states.get(k)
      states.delete(k)
      return state?.entry
    },
    stopSocket(socketId) {
      const cleared: TypingEntry<T>[] = []
      for (const [k, state] of states) {
        if (state.entry.socketId !== socketId) continue
        states.delete(k)
        cleared.push(state.entry)
      }
      return cleared
    },
    close() {
      stopSweeper()
      states.clear()
    },
  }
}
