/**
 * @module Persistence (ours only): closed loop, a message counts when its sender receives its own
 * broadcast, and the newest messages are read back over REST to check they were stored.
 */
import { startCpuWindow } from '../proc.ts'
import { createHistogram, mergeSparse, quantile } from './histogram.ts'
import {
  closeClients,
  connectClients,
  expectReply,
  PADDING,
  type ScenarioContext,
  tokenFor,
} from './session.ts'

export interface PersistResult {
  senders: number
  messagesPerSec: number
  p50Ms: number | null
  p99Ms: number | null
  /** Server CPU over the sending window: well under 100% means the server waits, not computes. */
  cpuPercent: number | null
  errors: Record<string, number>
  /** Whether the last messages were found again through the REST history (so they really were stored). */
  verified: boolean | null
}

export async function persistence(
  ctx: ScenarioContext,
  senders: number,
  window: number,
  durationMs: number,
  step: number
): Promise<PersistResult> {
  const { cities } = ctx.identities
  // Each sender gets its own city so a message has one recipient: the sender, measuring storage, not fan-out.
  const specs = Array.from({ length: senders }, (_, i) => ({
    token: tokenFor(ctx, i),
    cityId: cities[i % cities.length] ?? 'mumbai',
  }))
  const connected = await connectClients(ctx, specs, 16)
  const cpu = await startCpuWindow(ctx.target.pid)
  const replies = await ctx.pool.all(
    (worker) => ({
      type: 'persist',
      step,
      durationMs,
      padding: PADDING,
      senders: specs
        .map((_, i) => i)
        .filter(
          (i) => connected.placements[i]?.worker === worker && !connected.failedClients.has(i)
        )
        .map((i) => ({ client: connected.placements[i]?.local ?? -1, sender: i, window })),
    }),
    durationMs + 30_000
  )
  const used = await cpu.stop()
  const latency = createHistogram()
  let completed = 0
  const errors: Record<string, number> = {}
  for (const raw of replies) {
    const reply = expectReply(raw, 'persist-done')
    completed += reply.completed
    mergeSparse(latency, reply.latency)
    for (const [code, n] of Object.entries(reply.errors)) errors[code] = (errors[code] ?? 0) + n
  }
  await closeClients(ctx)
  return {
    senders,
    messagesPerSec: (completed * 1_000) / durationMs,
    p50Ms: quantile(latency, 0.5),
    p99Ms: quantile(latency, 0.99),
    cpuPercent: used?.percent ?? null,
    errors,
    verified: await verifyStored(ctx, specs[0]?.cityId ?? 'mumbai', step),
  }
}

/** Reads the city's newest messages back over REST and looks for this run's stamp. */
async function verifyStored(
  ctx: ScenarioContext,
  cityId: string,
  step: number
): Promise<boolean | null> {
  try {
    const response = await fetch(`${ctx.target.baseUrl}/api/cities/${cityId}/messages?limit=5`, {
      headers: { authorization: `Bearer ${tokenFor(ctx, 0)}` },
    })
    if (!response.ok) return null
    const { messages } = (await response.json()) as { messages?: Array<{ content?: unknown }> }
    return (messages ?? []).some(
      (m) =>
        typeof m.content === 'string' &&
        m.content.startsWith('t:') &&
        m.content.includes(`|${step}|`)
    )
  } catch {
    return null
  }
}
