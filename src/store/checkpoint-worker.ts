/**
 * @module The checkpoint thread (a Bun Worker, started by store/checkpointer.ts): its own
 * connection copies the WAL back into the database file on a timer, so checkpoints (page copies
 * and an fsync, tens of milliseconds on a busy log) never stall the event loop. PASSIVE never
 * blocks writers; the WAL restarts from its beginning when a write starts with everything already
 * copied back, so under unbroken load it grows until a quiet moment (or the main connection's
 * fallback checkpoint).
 */
import { Database } from 'bun:sqlite'
import type { CheckpointerOptions } from './checkpointer.ts'

declare const self: {
  onmessage: ((event: MessageEvent<CheckpointerOptions>) => void) | null
  postMessage(message: 'ready'): void
}

self.onmessage = ({ data: { path, intervalMs } }) => {
  const sqlite = new Database(path)
  sqlite.exec('PRAGMA busy_timeout = 5000')
  self.postMessage('ready')
  setInterval(() => {
    try {
      sqlite.exec('PRAGMA wal_checkpoint(PASSIVE)')
    } catch {
      // An I/O or lock error: the next tick tries again (the main connection's fallback bounds the WAL).
    }
  }, intervalMs)
}
