/**
 * @module What every scenario shares, orchestrator side: the context, placing connections on workers,
 * connecting and closing them. Workers only execute; every decision and every sum is made here.
 */
import { waitUntilQuiet } from '../proc.ts'
import type { Identities, RunningTarget } from '../targets.ts'
import { createHistogram, type Histogram, mergeSparse } from './histogram.ts'
import type { ClientSpec, Reply } from './messages.ts'
import type { WorkerPool } from './pool.ts'

export interface ScenarioContext {
  pool: WorkerPool
  target: RunningTarget
  identities: Identities
  log(line: string): void
}

export const PADDING = 'x'.repeat(48)
const CONNECT_TIMEOUT_MS = 15_000

/** Where a connection lives: client i goes to worker i % size at that worker's next local index. */
export interface Placement {
  worker: number
  local: number
}

export interface Connected {
  ok: number
  failed: number
  firstError: string | null
  wallMs: number
  handshake: Histogram
  placements: Placement[]
  /** Global indexes of the clients that did not connect. */
  failedClients: Set<number>
}

export const expectReply = <T extends Reply['type']>(
  reply: Reply,
  type: T
): Extract<Reply, { type: T }> => {
  if (reply.type !== type) {
    throw new Error(reply.type === 'failed' ? reply.message : `expected ${type}, got ${reply.type}`)
  }
  return reply as Extract<Reply, { type: T }>
}

/** Connects `specs` across the workers (each with `concurrency` handshakes in flight). */
export async function connectClients(
  ctx: ScenarioContext,
  specs: ClientSpec[],
  concurrency: number
): Promise<Connected> {
  const size = ctx.pool.size
  const perWorker: ClientSpec[][] = Array.from({ length: size }, () => [])
  const placements = specs.map((spec, i) => {
    const list = perWorker[i % size] as ClientSpec[]
    list.push(spec)
    return { worker: i % size, local: list.length - 1 }
  })
  const startedAt = performance.now()
  const replies = await ctx.pool.all(
    (worker) => ({
      type: 'connect',
      url: ctx.target.wsUrl,
      clients: perWorker[worker] ?? [],
      concurrency,
      timeoutMs: CONNECT_TIMEOUT_MS,
    }),
    // A worker's connections open `concurrency` at a time; 36,000 joining a city through Redis on
    // a busy machine took longer than 2 minutes, so the budget grows with the worker's share.
    CONNECT_TIMEOUT_MS + Math.max(120_000, 25 * Math.max(...perWorker.map((list) => list.length)))
  )
  const wallMs = performance.now() - startedAt
  const handshake = createHistogram()
  let ok = 0
  let failed = 0
  let firstError: string | null = null
  const failedClients = new Set<number>()
  replies.forEach((raw, worker) => {
    const reply = expectReply(raw, 'connected')
    ok += reply.ok
    failed += reply.failed
    firstError ??= reply.firstError
    mergeSparse(handshake, reply.handshake)
    for (const local of reply.failedIndexes) failedClients.add(local * size + worker)
  })
  if (failed > 0) ctx.log(`  ${failed} of ${specs.length} connections failed: ${firstError}`)
  // Nothing to measure without connections; the run for this target ends with the reason.
  if (ok === 0 && specs.length > 0) throw new Error(`no connection succeeded (${firstError})`)
  return { ok, failed, firstError, wallMs, handshake, placements, failedClients }
}

export async function closeClients(ctx: ScenarioContext): Promise<void> {
  await ctx.pool.all(() => ({ type: 'close' }), 60_000)
  // Let the server process the disconnects before the next scenario measures it.
  await waitUntilQuiet([ctx.target.pid, ...ctx.pool.pids])
}

export const tokenFor = (ctx: ScenarioContext, i: number) =>
  ctx.identities.tokens[i % ctx.identities.tokens.length] ?? ''
