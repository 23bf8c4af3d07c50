/**
 * @module Background work in slices: one pass at a time per node, run on a timer and when asked
 * (`soon`), stopped cleanly (`stop` waits for the pass in progress). The work keeps its own state
 * in the database, so a pass cut short by a restart is resumed by the next process.
 */
import type { Logger } from '../log.ts'

export interface BackgroundLoop {
  start(): void
  /** Runs a pass now (or right after the one in progress). */
  soon(): Promise<void>
  stop(): Promise<void>
  /** True once stop() was called: a pass checks it between slices. */
  readonly stopped: boolean
}

export const yieldToLoop = (ms = 0) =>
  new Promise<void>((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)))

/** @example const loop = createBackgroundLoop('exports', pass, 5_000, log); loop.start() */
export function createBackgroundLoop(
  name: string,
  pass: () => Promise<void>,
  intervalMs: number,
  log: Logger
): BackgroundLoop {
  let timer: ReturnType<typeof setInterval> | undefined
  let running: Promise<void> | undefined
  let again = false
  let stopped = false

  function soon(): Promise<void> {
    if (stopped) return Promise.resolve()
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      do {
        again = false
        await pass().catch((error) => log.error(`${name} pass failed`, { error }))
      } while (again && !stopped)
    })().finally(() => {
      running = undefined
    })
    return running
  }

  return {
    start() {
      if (timer || stopped) return
      timer = setInterval(() => void soon(), intervalMs)
      timer.unref?.()
      void soon()
    },
    soon,
    async stop() {
      stopped = true
      clearInterval(timer)
      await running
    },
    get stopped() {
      return stopped
    },
  }
}
