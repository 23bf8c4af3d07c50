/** @module Reads a process's resident memory, CPU time, children and sockets from /proc (Linux only). */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

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

/**
 * The fields of /proc/<pid>/stat after the command name (field 3 onwards): the name (field 2) may
 * contain spaces, so they are counted from its closing parenthesis.
 */
const statFieldsAfterName = (stat: string): string[] =>
  stat.slice(stat.lastIndexOf(')') + 2).split(' ')

/** User + system CPU time in milliseconds (fields 14 and 15 of /proc/<pid>/stat), and system alone. */
async function readCpuMs(pid: number): Promise<{ total: number; system: number } | null> {
  try {
    const stat = await Bun.file(`/proc/${pid}/stat`).text()
    const fields = statFieldsAfterName(stat)
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null
    return { total: ((utime + stime) * 1_000) / CLOCK_TICKS, system: (stime * 1_000) / CLOCK_TICKS }
  } catch {
    return null
  }
}

export interface CpuWindow {
  /**
   * CPU used since start (ms, and as a percentage of one core over the wall time elapsed), and
   * the part of it spent in the kernel (system time: syscalls, loopback TCP delivery).
   */
  stop(): Promise<{ cpuMs: number; systemMs: number; percent: number } | null>
}

export async function startCpuWindow(pid: number): Promise<CpuWindow> {
  const cpuAt = await readCpuMs(pid)
  const wallAt = performance.now()
  return {
    async stop() {
      const cpuNow = await readCpuMs(pid)
      if (cpuAt === null || cpuNow === null) return null
      const cpuMs = cpuNow.total - cpuAt.total
      return {
        cpuMs,
        systemMs: cpuNow.system - cpuAt.system,
        percent: (100 * cpuMs) / Math.max(1, performance.now() - wallAt),
      }
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

/** The parent pid (field 4 of /proc/<pid>/stat), or null when the process is gone. */
function readParentPid(pid: number): number | null {
  try {
    const parent = Number(statFieldsAfterName(readFileSync(`/proc/${pid}/stat`, 'utf8'))[1])
    return Number.isInteger(parent) ? parent : null
  } catch {
    return null
  }
}

/**
 * `pid` and every process below it (a supervisor's workers), from /proc: what a server with
 * WORKERS>1 is made of, for its RSS, its CPU and its clean-up.
 */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry)
    if (!Number.isInteger(child)) continue
    const parent = readParentPid(child)
    if (parent === null) continue
    children.set(parent, [...(children.get(parent) ?? []), child])
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []))
  return tree
}

/** The command line of a process (NUL-separated as the kernel keeps it), or null when it is gone. */
export function readCommandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch {
    return null
  }
}

/** Open file descriptors of a process (its sockets among them), or null when it is gone. */
export function openFileCount(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return null
  }
}

/** Socket inodes listening on TCP `port` (IPv4 and IPv6), from /proc/net/tcp{,6}. */
function listeningInodes(port: number): Set<string> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  const inodes = new Set<string>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is the tenth field.
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A' && fields[9])
        inodes.add(fields[9])
    }
  }
  return inodes
}

/** The processes among `pids` that hold a socket listening on TCP `port`. */
export function listeningOn(pids: readonly number[], port: number): number[] {
  const inodes = listeningInodes(port)
  return pids.filter((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' })
        return link.startsWith('socket:[') && inodes.has(link.slice(8, -1))
      })
    } catch {
      return false
    }
  })
}

/** This process's soft limit on open files (children inherit it), or null when unknown. */
export function openFileLimit(): number | null {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8')
    const match = /^Max open files\s+(\d+)/m.exec(limits)
    return match?.[1] ? Number(match[1]) : null
  } catch {
    return null
  }
}

/** How many ephemeral ports one source address has towards one destination port. */
export function ephemeralPorts(): number | null {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number)
    return low !== undefined && high !== undefined && high >= low ? high - low + 1 : null
  } catch {
    return null
  }
}
