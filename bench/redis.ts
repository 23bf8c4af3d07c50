/**
 * @module A throwaway redis-server for the scenarios that run our server with WORKERS>1: a free
 * port on 127.0.0.1, nothing persisted, killed when stopped and, whatever happens, when the bench
 * exits.
 */
import type { Subprocess } from 'bun'
import { redisServerCommand, untilRedisReady } from '../test/helpers/redis-server.ts'
import { readRssBytes } from './proc.ts'
import { freePort } from './targets.ts'

export interface BenchRedis {
  url: string
  pid: number
  rssBytes(): Promise<number | null>
  stop(): Promise<void>
}

const running = new Set<Subprocess>()
// A synchronous kill is all an exit handler can do; it is enough for a server holding nothing.
process.on('exit', () => {
  for (const proc of running) proc.kill('SIGKILL')
})

/** Starts redis-server and resolves once it accepts connections (or rejects within 10 s). */
export async function startRedis(): Promise<BenchRedis> {
  const binary = Bun.which('redis-server')
  if (!binary) throw new Error('redis-server is not on PATH')
  const port = freePort()
  const proc = Bun.spawn(redisServerCommand(binary, port), { stdout: 'pipe', stderr: 'pipe' })
  running.add(proc)
  const stop = async () => {
    proc.kill('SIGKILL')
    await proc.exited
    running.delete(proc)
  }
  const timeout = setTimeout(() => void stop(), 10_000)
  try {
    await untilRedisReady(proc)
  } catch (error) {
    await stop()
    throw error
  } finally {
    clearTimeout(timeout)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: proc.pid,
    rssBytes: () => readRssBytes(proc.pid),
    stop,
  }
}
