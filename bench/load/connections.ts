/** @module Connection scenarios: idle authenticated connections (RSS each) and the connect storm. */
import { readRssBytes, startCpuWindow, waitUntilQuiet } from '../proc.ts'
import { quantile } from './histogram.ts'
import { closeClients, connectClients, type ScenarioContext, tokenFor } from './session.ts'

export interface IdleResult {
  connected: number
  failed: number
  rssPerConnectionBytes: number | null
  rssBytes: number | null
}

/** N authenticated connections that do nothing: resident memory per connection. */
export async function idleConnections(ctx: ScenarioContext, clients: number): Promise<IdleResult> {
  await waitUntilQuiet([ctx.target.pid, ...ctx.pool.pids])
  const before = await readRssBytes(ctx.target.pid)
  const specs = Array.from({ length: clients }, (_, i) => ({
    token: tokenFor(ctx, i),
    cityId: null,
  }))
  const connected = await connectClients(ctx, specs, 64)
  // Let allocation settle (and a GC run) before reading the server's RSS.
  await waitUntilQuiet([ctx.target.pid, ...ctx.pool.pids])
  await Bun.sleep(1_000)
  const after = await readRssBytes(ctx.target.pid)
  await closeClients(ctx)
  const perConnection =
    before !== null && after !== null && connected.ok > 0 ? (after - before) / connected.ok : null
  return {
    connected: connected.ok,
    failed: connected.failed,
    rssPerConnectionBytes: perConnection,
    rssBytes: after,
  }
}

export interface StormResult {
  connected: number
  failed: number
  handshakesPerSec: number
  p99Ms: number | null
  cpuPercent: number | null
}

/** N connections as fast as the generator can open them: authenticated handshakes per second. */
export async function connectStorm(ctx: ScenarioContext, clients: number): Promise<StormResult> {
  const specs = Array.from({ length: clients }, (_, i) => ({
    token: tokenFor(ctx, i),
    cityId: null,
  }))
  const cpu = await startCpuWindow(ctx.target.pid)
  const connected = await connectClients(ctx, specs, 128)
  const used = await cpu.stop()
  await closeClients(ctx)
  return {
    connected: connected.ok,
    failed: connected.failed,
    handshakesPerSec: (connected.ok * 1_000) / connected.wallMs,
    p99Ms: quantile(connected.handshake, 0.99),
    cpuPercent: used?.percent ?? null,
  }
}
