/**
 * @module Starts the checkpoint thread (store/checkpoint-worker.ts) for a database file. The main
 * connection then checkpoints only as a fallback, when the WAL has grown far past what the thread
 * keeps it at (a stuck or dead thread cannot let it grow without bound).
 */

export interface CheckpointerOptions {
  path: string
  intervalMs: number
}

/** WAL pages at which the main connection checkpoints itself anyway (~400 MB of 4 KB pages). */
export const FALLBACK_CHECKPOINT_PAGES = 100_000

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
 * without its entrypoint, say), so a server never runs without knowing it.
 * @example const checkpointer = await startCheckpointer({ path: './data/chat.db', intervalMs: 500 })
 */
export function startCheckpointer(options: CheckpointerOptions): Promise<{ stop(): void }> {
  const worker = new Worker(workerEntry())
  const stop = () => worker.terminate()
  return new Promise((resolve, reject) => {
    worker.onmessage = () => resolve({ stop })
    worker.onerror = (event) => {
      stop()
      reject(new Error(`the checkpoint thread did not start: ${event.message}`))
    }
    worker.postMessage(options)
  })
}
