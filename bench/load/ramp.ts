/**
 * @module Open-loop ramps (fan-out: one room; many rooms; persistence: senders alone in their
 * rooms): senders send at a fixed rate whatever the server does, so queueing shows up as latency;
 * the rate doubles until a step fails.
 */
import { startCpuWindow, waitUntilQuiet } from '../proc.ts'
import { createHistogram, mergeSparse, quantile } from './histogram.ts'
import {
  closeClients,
  connectClients,
  expectReply,
  PADDING,
  type Placement,
  type ScenarioContext,
  tokenFor,
} from './session.ts'

/** A step fails when p99 passes this or fewer than DELIVERY_FLOOR of the expected deliveries arrived. */
const P99_LIMIT_MS = 100
const DELIVERY_FLOOR = 0.97

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
  /** All generator workers together, in % of one core: near 100 × cores means the generator is the limit. */
  generatorCpuPercent: number
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
  // Every join notifies the room: 1,000 joins are ~500,000 frames, drained before each step starts.
  const connected = await connectClients(ctx, specs, 32)
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
      `  ${label} ${Math.round(targetDps)}/s → ${Math.round(outcome.deliveriesPerSec)}/s p50 ${outcome.p50Ms?.toFixed(1) ?? '-'} p99 ${outcome.p99Ms?.toFixed(1) ?? '-'} ms` +
        ` cpu ${outcome.cpuPercent?.toFixed(0) ?? '-'}% (generator ${outcome.generatorCpuPercent.toFixed(0)}%) ${outcome.passed ? 'ok' : `STOP (${outcome.reason})`}`
    )
    return outcome
  }

  let rate = options.startDps
  let lastPass: StepOutcome | null = null
  for (let i = 0; i < options.maxSteps; i++) {
    let outcome = await runAt(rate)
    // One stall (a GC pause, a noisy neighbour on a VM) must not end the ramp: a step fails twice.
    if (!outcome.passed) outcome = await runAt(rate)
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
  const atReference =
    steps.findLast((s) => Math.abs(s.targetDps - options.referenceDps) < 1) ?? null
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

/**
 * One open-loop step. `alongside` (the uploads scenario's load) starts with the senders, once the
 * machine is quiet, and the step ends when both are done; the CPU window covers both.
 */
export async function runStep(
  ctx: ScenarioContext,
  plan: StepPlan,
  alongside?: () => Promise<unknown>
): Promise<StepOutcome> {
  // A failed step can leave a backlog in the server's or the workers' buffers; it must not be
  // charged to this step.
  await waitUntilQuiet([ctx.target.pid, ...ctx.pool.pids])
  const cpu = await startCpuWindow(ctx.target.pid)
  const generatorCpu = await Promise.all(ctx.pool.pids.map((pid) => startCpuWindow(pid)))
  const extra = alongside?.()
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
  await extra
  const used = await cpu.stop()
  const generatorUsed = await Promise.all(generatorCpu.map((window) => window.stop()))
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
    generatorCpuPercent: generatorUsed.reduce((sum, u) => sum + (u?.percent ?? 0), 0),
    cpuMsPer1k: used && received > 0 ? (used.cpuMs * 1_000) / received : null,
    errors,
    passed: !behind && !slow,
    reason,
  }
}
