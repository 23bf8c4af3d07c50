/** @module Reads a process's resident memory and CPU time from /proc (Linux only). */

/** Kernel clock ticks per second for /proc/<pid>/stat times; 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100

/** VmRSS in bytes, or null when the process is gone or /proc is unavailable. */
export async function readRssBytes(pid: number): Promise<number | null> {
  try {
    const status = await Bun.file(`/proc/${pid}/status`).text()
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
    return match?.[1] ? Number(match[1]) * 1024 : null
  } catch {
    return null
  }
}

/** User + system CPU time in milliseconds (fields 14 and 15 of /proc/<pid>/stat). */
async function readCpuMs(pid: number): Promise<number | null> {
  try {
    const stat = await Bun.file(`/proc/${pid}/stat`).text()
    // The command name (field 2) may contain spaces, so count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null
    return ((utime + stime) * 1_000) / CLOCK_TICKS
  } catch {
    return null
  }
}

export interface CpuWindow {
  /** CPU used since start, as a percentage of one core over the wall time elapsed. */
  stop(): Promise<{ cpuMs: number; percent: number } | null>
}

export async function startCpuWindow(pid: number): Promise<CpuWindow> {
  const cpuAt = await readCpuMs(pid)
  const wallAt = performance.now()
  return {
    async stop() {
      const cpuNow = await readCpuMs(pid)
      if (cpuAt === null || cpuNow === null) return null
      const cpuMs = cpuNow - cpuAt
      return { cpuMs, percent: (100 * cpuMs) / Math.max(1, performance.now() - wallAt) }
    },
  }
}

/**
 * Waits until every process is quiet (each under `idlePercent` of a core over a 300 ms window) or
 * `maxMs` passes, so that work left over from a setup phase (join notices, disconnects) is not measured.
 */
export async function waitUntilQuiet(
  pids: readonly number[],
  idlePercent = 10,
  maxMs = 15_000
): Promise<void> {
  const deadline = performance.now() + maxMs
  while (performance.now() < deadline) {
    const windows = await Promise.all(pids.map((pid) => startCpuWindow(pid)))
    await Bun.sleep(300)
    const used = await Promise.all(windows.map((window) => window.stop()))
    if (used.every((u) => u === null || u.percent < idlePercent)) return
  }
}
