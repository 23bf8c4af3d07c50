/**
 * @module The checkpoint thread (a Bun Worker, started by store/checkpointer.ts): its own
 * connection copies the WAL back into the database file, so checkpoints (page copies and fsyncs,
 * tens of milliseconds on a busy log) never stall the event loop.
 *
 * PASSIVE checkpoints never block the writer, but the WAL only restarts from its beginning when a
 * write finds every frame already copied back, which never happens under unbroken load: the log
 * would grow to hundreds of megabytes and every page lookup in it get slower. So once the log is
 * long and a pass has nearly caught up, the thread asks the main thread to hold its group commits,
 * copies the last frames, and lets it go on; the next commit then restarts the WAL.
 */
import { Database } from 'bun:sqlite'
import type { CheckpointerOptions, FromCheckpointer, ToCheckpointer } from './checkpointer.ts'

declare const self: {
  onmessage: ((event: MessageEvent<ToCheckpointer>) => void) | null
  postMessage(message: FromCheckpointer): void
}

let sqlite: Database | undefined
let options: CheckpointerOptions | undefined

/** One PASSIVE checkpoint; returns how many frames (pages) the WAL holds. */
function checkpoint(): number {
  const [, frames] = (sqlite?.query('PRAGMA wal_checkpoint(PASSIVE)').values()[0] ?? []) as number[]
  return frames ?? 0
}

/** The WAL's length at the previous pass: what a pass finds beyond it arrived since. */
let framesBefore = 0

function pass(): void {
  if (!options) return
  const { intervalMs, restartFrames, finishFrames } = options
  let long = false
  try {
    const frames = checkpoint()
    // A shorter log than before means the WAL restarted: everything in it is new.
    const arrived = frames >= framesBefore ? frames - framesBefore : frames
    framesBefore = frames
    long = frames >= restartFrames
    if (long && arrived <= finishFrames) {
      // What arrived during a short pass is little: copy it with the writer held ('held').
      self.postMessage('hold')
      return
    }
  } catch {
    // An I/O or lock error: the next pass tries again (the main connection's fallback bounds the WAL).
  }
  // A long log is copied pass after pass until one is short enough to finish with a hold.
  setTimeout(pass, long ? 0 : intervalMs)
}

self.onmessage = ({ data }) => {
  if (data === 'held') {
    try {
      checkpoint()
      // The writer's next commit restarts the log (unless a reader still needs it: then the next
      // pass simply counts everything as new).
      framesBefore = 0
    } finally {
      self.postMessage('release')
      setTimeout(pass, options?.intervalMs)
    }
    return
  }
  options = data
  sqlite = new Database(data.path)
  sqlite.exec('PRAGMA busy_timeout = 5000')
  self.postMessage('ready')
  setTimeout(pass, data.intervalMs)
}
