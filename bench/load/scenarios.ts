/**
 * @module The scenarios, orchestrator side: who connects where, which clients send at what rate, and
 * what the numbers mean. Workers only execute; every decision and every sum is made here.
 */
import { readRssBytes, startCpuWindow, waitUntilQuiet } from '../proc.ts'
import type { Identities, RunningTarget } from '../targets.ts'
import { createHistogram, type Histogram, mergeSparse, quantile } from './histogram.ts'
import type { ClientSpec, Reply } from './messages.ts'
import type { WorkerPool } from './pool.ts'

export interface ScenarioContext {
  pool: WorkerPool
  target: RunningTarget
  identities: Identities
  log(line: string): void
}

const PADDING = 'x'.repeat(48)
const CONNECT_TIMEOUT_MS = 15_000
/** A step fails when p99 passes this or fewer than DELIVERY_FLOOR of the expected deliveries arrived. */
const P99_LIMIT_MS = 100
const DELIVERY_FLOOR = 0.97

/** Where a connection lives: client i goes to worker i % size at that worker's next local index. */
interface Placement {
  worker: number
  local: number
}

interface Connected {
  ok: number
  failed: number
  firstError: string | null
  wallMs: number
  handshake: Histogram
  placements: Placement[]
  /** Global indexes of the clients that did not connect. */
  failedClients: Set<number>
}

const expectReply = <T extends Reply['type']>(
  reply: Reply,
  type: T
): Extract<Reply, { type: T }> => {
  if (reply.type !== type) {
    throw new Error(reply.type === 'failed' ? reply.message : `expected ${type}, got ${reply.type}`)
  }
  return reply as Extract<Reply, { type: T }>
}

/** Connects `specs` across the workers (each with `concurrency` handshakes in flight). */
async function connectClients(
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
    CONNECT_TIMEOUT_MS + 120_000
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
  return { ok, failed, firstError, wallMs, handshake, placements, failedClients }
}

async function closeClients(ctx: ScenarioContext): Promise<void> {
  await ctx.pool.all(() => ({ type: 'close' }), 60_000)
  // Let the server process the disconnects before the next scenario measures it.
  await waitUntilQuiet(ctx.target.pid)
}

const tokenFor = (ctx: ScenarioContext, i: number) =>
  ctx.identities.tokens[i % ctx.identities.tokens.length] ?? ''

// ---------------------------------------------------------------------------------------------
// Idle connections and connect storm

export interface IdleResult {
  connected: number
  failed: number
  rssPerConnectionBytes: number | null
  rssBytes: number | null
}

/** N authenticated connections that do nothing: resident memory per connection. */
export async function idleConnections(ctx: ScenarioContext, clients: number): Promise<IdleResult> {
  await waitUntilQuiet(ctx.target.pid)
  const before = await readRssBytes(ctx.target.pid)
  const specs = Array.from({ length: clients }, (_, i) => ({
    token: tokenFor(ctx, i),
    cityId: null,
  }))
  const connected = await connectClients(ctx, specs, 64)
  // Let allocation settle (and a GC run) before reading the server's RSS.
  await waitUntilQuiet(ctx.target.pid)
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

// ---------------------------------------------------------------------------------------------
// Open-loop ramps: fan-out (1 room) and many rooms

export interface RampOptions {
  clients: number
  rooms: number
  senders: number
  /** Deliveries per second of the first step; each next step doubles it. */
  startDps: number
  maxSteps: number
  /** The rate whose latency the report quotes (the issue's "p99 at 100,000 deliveries per second"). */
  referenceDps: number
  stepMs: number
  graceMs: number
}

export interface StepOutcome {
  targetDps: number
  deliveriesPerSec: number
  expected: number
  received: number
  p50Ms: number | null
  p95Ms: number | null
  p99Ms: number | null
  cpuPercent: number | null
  /** Server CPU milliseconds per 1,000 deliveries. */
  cpuMsPer1k: number | null
  errors: Record<string, number>
  passed: boolean
  reason: string
}

export interface RampResult {
  connected: number
  steps: StepOutcome[]
  /** The highest passing step (the sustained throughput), or null if even the first step failed. */
  best: StepOutcome | null
  /** The step run at referenceDps, passed or not, or null if the ramp stopped before it. */
  atReference: StepOutcome | null
}

export async function ramp(
  ctx: ScenarioContext,
  options: RampOptions,
  label: string
): Promise<RampResult> {
  const { cities } = ctx.identities
  const rooms = Math.min(options.rooms, cities.length)
  if (rooms < options.rooms) ctx.log(`  only ${rooms} cities available for ${options.rooms} rooms`)
  const specs = Array.from({ length: options.clients }, (_, i) => ({
    token: tokenFor(ctx, i),
    cityId: cities[i % rooms] ?? 'mumbai',
  }))
  const connected = await connectClients(ctx, specs, 32)
  // Every join notifies the room: 1,000 joins are ~500,000 frames that must drain before step one.
  await waitUntilQuiet(ctx.target.pid)
  const members = new Map<string, number>()
  specs.forEach((spec, i) => {
    if (!connected.failedClients.has(i))
      members.set(spec.cityId, (members.get(spec.cityId) ?? 0) + 1)
  })
  // Senders are the first clients, so with senders >= rooms every room has one (client i is in room i % rooms).
  const senderIndexes = Array.from({ length: options.senders }, (_, i) => i).filter(
    (i) => !connected.failedClients.has(i)
  )
  const recipientsPerMessage =
    senderIndexes.reduce((sum, i) => sum + (members.get(specs[i]?.cityId ?? '') ?? 0), 0) /
    Math.max(1, senderIndexes.length)

  const steps: StepOutcome[] = []
  const runAt = async (targetDps: number) => {
    const outcome = await runStep(ctx, {
      step: steps.length,
      targetDps,
      ratePerSender:
        targetDps / Math.max(1, recipientsPerMessage) / Math.max(1, senderIndexes.length),
      senderIndexes,
      placements: connected.placements,
      members,
      stepMs: options.stepMs,
      graceMs: options.graceMs,
    })
    steps.push(outcome)
    ctx.log(
      `  ${label} ${Math.round(targetDps)}/s → ${Math.round(outcome.deliveriesPerSec)}/s p99 ${outcome.p99Ms?.toFixed(1) ?? '-'} ms` +
        ` cpu ${outcome.cpuPercent?.toFixed(0) ?? '-'}% ${outcome.passed ? 'ok' : `STOP (${outcome.reason})`}`
    )
    return outcome
  }

  let rate = options.startDps
  let lastPass: StepOutcome | null = null
  for (let i = 0; i < options.maxSteps; i++) {
    const outcome = await runAt(rate)
    if (!outcome.passed) {
      // One bisection step between the last pass and the failure narrows the answer to about 1.4×.
      if (lastPass) await runAt(Math.sqrt(lastPass.targetDps * outcome.targetDps))
      break
    }
    lastPass = outcome
    rate *= 2
  }
  if (!steps.some((s) => s.targetDps === options.referenceDps) && options.referenceDps < rate) {
    // The ladder may skip the reference rate; measure it explicitly when the target can get there.
    const reachable = steps.some((s) => s.passed && s.targetDps >= options.referenceDps)
    if (reachable) await runAt(options.referenceDps)
  }
  await closeClients(ctx)
  const passed = steps.filter((s) => s.passed)
  const best = passed.reduce<StepOutcome | null>(
    (top, s) => (top === null || s.deliveriesPerSec > top.deliveriesPerSec ? s : top),
    null
  )
  const atReference = steps.find((s) => Math.abs(s.targetDps - options.referenceDps) < 1) ?? null
  return { connected: connected.ok, steps, best, atReference }
}

interface StepPlan {
  step: number
  targetDps: number
  ratePerSender: number
  senderIndexes: number[]
  placements: Placement[]
  members: Map<string, number>
  stepMs: number
  graceMs: number
}

async function runStep(ctx: ScenarioContext, plan: StepPlan): Promise<StepOutcome> {
  const cpu = await startCpuWindow(ctx.target.pid)
  const replies = await ctx.pool.all(
    (worker) => ({
      type: 'step',
      step: plan.step,
      durationMs: plan.stepMs,
      graceMs: plan.graceMs,
      padding: PADDING,
      senders: plan.senderIndexes
        .filter((i) => plan.placements[i]?.worker === worker)
        .map((i) => ({
          client: plan.placements[i]?.local ?? -1,
          sender: i,
          ratePerSec: plan.ratePerSender,
        })),
    }),
    plan.stepMs + plan.graceMs + 30_000
  )
  const used = await cpu.stop()
  const latency = createHistogram()
  let expected = 0
  let received = 0
  const errors: Record<string, number> = {}
  for (const raw of replies) {
    const reply = expectReply(raw, 'step-done')
    received += reply.received
    mergeSparse(latency, reply.latency)
    for (const [cityId, sent] of Object.entries(reply.sentByCity)) {
      expected += sent * (plan.members.get(cityId) ?? 0)
    }
    for (const [code, n] of Object.entries(reply.errors)) errors[code] = (errors[code] ?? 0) + n
  }
  const deliveriesPerSec = (received * 1_000) / plan.stepMs
  const p99Ms = quantile(latency, 0.99)
  const behind = received < DELIVERY_FLOOR * expected
  const slow = p99Ms === null || p99Ms > P99_LIMIT_MS
  const reason = behind
    ? `${received} of ${expected} deliveries${Object.keys(errors).length ? `, errors ${JSON.stringify(errors)}` : ''}`
    : slow
      ? `p99 ${p99Ms?.toFixed(1) ?? 'n/a'} ms > ${P99_LIMIT_MS} ms`
      : ''
  return {
    targetDps: plan.targetDps,
    deliveriesPerSec,
    expected,
    received,
    p50Ms: quantile(latency, 0.5),
    p95Ms: quantile(latency, 0.95),
    p99Ms,
    cpuPercent: used?.percent ?? null,
    cpuMsPer1k: used && received > 0 ? (used.cpuMs * 1_000) / received : null,
    errors,
    passed: !behind && !slow,
    reason,
  }
}

// ---------------------------------------------------------------------------------------------
// Persistence (ours only): closed loop, a message counts when the sender receives its own broadcast

export interface PersistResult {
  senders: number
  messagesPerSec: number
  p50Ms: number | null
  p99Ms: number | null
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
