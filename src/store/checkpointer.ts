/**
 * @module Starts the checkpoint thread (store/checkpoint-worker.ts) for a database file and answers
 * its requests to hold group commits while it restarts the WAL. The main connection checkpoints
 * only as a fallback, when the WAL has grown far past what the thread keeps it at (a stuck or dead
 * thread cannot let it grow without bound).
 */

export interface CheckpointerOptions {
  path: string
  /** How long the thread waits between passes when it has caught up. */
  intervalMs: number
  /** WAL frames (pages) from which the thread restarts the log once it has nearly caught up. */
  restartFrames: number
  /** Frames still to copy at which it asks the writer to hold while it copies them. */
  finishFrames: number
}

/** Main thread → checkpoint thread: its options first, then 'held' after each 'hold'. */
export type ToCheckpointer = CheckpointerOptions | 'held'
/** Checkpoint thread → main thread. */
export type FromCheckpointer = 'ready' | 'hold' | 'release'

/** WAL pages at which the main connection checkpoints itself anyway (~400 MB of 4 KB pages). */
export const FALLBACK_CHECKPOINT_PAGES = 100_000

/** Longest hold of the writer; past it commits go on whatever the thread is doing. */
const MAX_HOLD_MS = 50

/**
 * The worker module: next to this file when run from source; in a `bun build --compile` binary,
 * where it is an entrypoint beside src/main.ts (package.json), by its path under src/.
 */
function workerEntry(): string | URL {
  const here = new URL('./checkpoint-worker.ts', import.meta.url)
  return here.href.startsWith('file:///$bunfs/') ? './store/checkpoint-worker.ts' : here
}

/**
 * Resolves once the thread has its connection; rejects when it cannot start (a binary built
 * without its entrypoint, say), so a server never runs without knowing it. `holdWrites` stops the
 * group commits and returns the function that lets them go on.
 * @example
 * const checkpointer = await startCheckpointer(options, () => writer.hold())
 */
export function startCheckpointer(
  options: CheckpointerOptions,
  holdWrites: () => () => void
): Promise<{ stop(): void }> {
  const worker = new Worker(workerEntry())
  let release: (() => void) | undefined
  let releaseTimer: Timer | undefined
  const releaseWrites = () => {
    clearTimeout(releaseTimer)
    release?.()
    release = undefined
  }
  const stop = () => {
    releaseWrites()
    worker.terminate()
  }
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }: MessageEvent<FromCheckpointer>) => {
      if (data === 'ready') resolve({ stop })
      else if (data === 'release') releaseWrites()
      else {
        release = holdWrites()
        releaseTimer = setTimeout(releaseWrites, MAX_HOLD_MS)
        worker.postMessage('held' satisfies ToCheckpointer)
      }
    }
    worker.onerror = (event) => {
      stop()
      reject(new Error(`the checkpoint thread did not start: ${event.message}`))
    }
    worker.postMessage(options satisfies ToCheckpointer)
  })
}
