/**
 * @module Gives a connection burst's garbage back once the process is idle again. A storm of
 * handshakes (token checks, JSON, database reads, session rows) leaves several hundred bytes of
 * dead objects per connection in the JS heap; the collector would reclaim them only when the heap
 * next grows, and until then they stay resident (0.6-0.8 KB per idle connection in the bench's
 * idle scenario). One full collection once the open-connection count has settled after a large
 * change, and only while the process is nearly idle, returns them: a pause of tens of
 * milliseconds that nobody waits on, never during traffic.
 */
import type { Logger } from './log.ts'

export interface IdleCollectorOptions {
  /** Open connections now (the engine's session count). */
  connections: () => number
  log: Logger
  /** How often the count and CPU are sampled; a collection needs one quiet sample. */
  intervalMs?: number
  /** Connections opened or closed since the last collection before another is worth it. */
  minChurn?: number
  /** CPU used over the last sample, as a share of one core, under which the process is idle. */
  idleShare?: number
  /** The full collection (Bun's, synchronous). */
  collect?: () => void
  /** CPU time used by the process so far, in ms. */
  cpuMs?: () => number
  now?: () => number
}

const processCpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1_000
}

/**
 * @example const collector = createIdleCollector({ connections: () => io.engine.clients.size, log }); collector.start()
 */
export function createIdleCollector({
  connections,
  log,
  intervalMs = 500,
  minChurn = 1_000,
  idleShare = 0.1,
  collect = () => Bun.gc(true),
  cpuMs = processCpuMs,
  now = performance.now.bind(performance),
}: IdleCollectorOptions) {
  let timer: ReturnType<typeof setInterval> | undefined
  let lastCount = connections()
  let churn = 0
  let lastCpu = cpuMs()
  let lastAt = now()

  /** One sample: returns true when it collected. */
  function tick(): boolean {
    const count = connections()
    const cpu = cpuMs()
    const at = now()
    const share = (cpu - lastCpu) / Math.max(1, at - lastAt)
    lastCpu = cpu
    lastAt = at
    if (count !== lastCount) {
      // Still changing: wait until it holds still for a whole sample.
      churn += Math.abs(count - lastCount)
      lastCount = count
      return false
    }
    if (churn < minChurn || share >= idleShare) return false
    churn = 0
    const started = now()
    collect()
    log.debug('collected after a connection burst', {
      connections: count,
      ms: Math.round(now() - started),
    })
    return true
  }

  return {
    tick,
    start(): void {
      if (timer) return
      timer = setInterval(tick, intervalMs)
      timer.unref?.()
    },
    close(): void {
      clearInterval(timer)
      timer = undefined
    },
  }
}
