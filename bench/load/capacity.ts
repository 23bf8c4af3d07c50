/**
 * @module Connections per process (ours only): N authenticated sockets held in one city by a server
 * of one process, or of WORKERS processes sharing the port, its resident memory with them, and
 * city broadcasts to all of them: one `send-city-message` from a sender connected from this
 * process, timed from its send to each delivery and to the last one.
 *
 * One host has about 28k ephemeral ports per source address towards one server address and port,
 * so above a share of that (PORT_SHARE) the connections go to 127.0.0.1, 127.0.0.2, … (all of
 * 127/8 is loopback on Linux; the server then listens on 0.0.0.0). Each server address is a new
 * set of 4-tuples for the kernel's `connect()` port choice. Binding a source address instead (`localAddress`) makes every
 * socket `bind()` first, whose port search scans the ports that address already uses: 55 µs a
 * connect up to 6,000 sockets, 1.2 ms at 8,000, 7 ms past 12,000, which made 36,000 take minutes.
 * The crowd reuses the bench users round-robin, all but the last, whose one socket sends.
 */
import {
  ephemeralPorts,
  listeningOn,
  openFileCount,
  processTree,
  readRssBytes,
  startCpuWindow,
  waitUntilQuiet,
} from '../proc.ts'
import { type BenchClient, joinCity, openClient } from './client.ts'
import {
  createHistogram,
  type Histogram,
  mergeSparse,
  quantile,
  sortedQuantile,
} from './histogram.ts'
import type { ClientSpec } from './messages.ts'
import { epochMs, eventFrame, stampContent } from './protocol.ts'
import {
  closeClients,
  connectClients,
  expectReply,
  PADDING,
  type ScenarioContext,
} from './session.ts'

const TIMEOUT_MS = 15_000
/** Steps of the broadcasts, apart from every other scenario's. */
const FIRST_STEP = 5_000
/**
 * The share of the port range one server address carries: well below it, so connections left in
 * TIME_WAIT and other traffic still fit, and because `connect()`'s port search slows as the range
 * fills (16,000 sockets to one address: 2.9-3.2 s, 2.5-2.7 s of it in the kernel; over 4: 1.1-2.0 s).
 */
const PORT_SHARE = 0.25

export interface CapacityOptions {
  clients: number
  /** Server processes that must listen on the port before the crowd connects (WORKERS). */
  processes: number
  broadcasts: number
  /** Broadcasts sent first and not counted (the JIT, the first buffers). */
  warmup: number
}

export interface CapacityResult {
  connected: number
  failed: number
  firstError: string | null
  /** Server addresses the crowd connects to (127.0.0.1, 127.0.0.2, …). */
  serverAddresses: number
  /** Wall time to connect and join them all, ms. */
  connectMs: number
  /** Open files of each server process holding connections (the supervisor left out). */
  openFiles: number[]
  /** Sum over the server's processes (supervisor and workers), Redis not included. */
  rssBytes: number | null
  rssPerConnectionBytes: number | null
  broadcasts: number
  /** Deliveries expected (each broadcast × connected) and received within the timeout. */
  expected: number
  received: number
  /** Every delivery of every counted broadcast: send → that delivery. */
  deliveryP50Ms: number | null
  deliveryP99Ms: number | null
  /** One per broadcast: send → the last of its deliveries. */
  lastP50Ms: number | null
  lastP99Ms: number | null
  /** Median server CPU per broadcast, all its processes, ms; and the kernel's part of it. */
  cpuMsPerBroadcast: number | null
  systemMsPerBroadcast: number | null
  errors: Record<string, number>
}

const sum = (values: ReadonlyArray<number | null>) =>
  values.some((v) => v === null) ? null : (values as number[]).reduce((a, b) => a + b, 0)

/** The server's processes once `processes` of them listen on its port (a supervisor's workers). */
async function serverProcesses(ctx: ScenarioContext, processes: number): Promise<number[]> {
  const port = Number(new URL(ctx.target.baseUrl).port)
  const deadline = performance.now() + 30_000
  for (;;) {
    const tree = processTree(ctx.target.pid)
    const listening = listeningOn(tree, port)
    if (listening.length >= processes) return tree
    if (performance.now() > deadline)
      throw new Error(`${listening.length} of ${processes} server processes listen on ${port}`)
    await Bun.sleep(200)
  }
}

/** How many server addresses `clients` sockets need (see the module note). */
export function serverAddresses(clients: number): number {
  const ports = ephemeralPorts() ?? 28_232
  return Math.max(1, Math.ceil(clients / Math.floor(ports * PORT_SHARE)))
}

export async function connectionsPerProcess(
  ctx: ScenarioContext,
  options: CapacityOptions
): Promise<CapacityResult> {
  const tokens = ctx.identities.tokens
  if (tokens.length < 2) throw new Error('the capacity scenario needs at least 2 bench users')
  const city = ctx.identities.cities[0] ?? ''
  const tree = await serverProcesses(ctx, options.processes)
  const quiet = () => waitUntilQuiet([...tree, ...ctx.pool.pids])
  await quiet()
  const before = sum(await Promise.all(tree.map(readRssBytes)))
  const addresses = serverAddresses(options.clients)
  const specs: ClientSpec[] = Array.from({ length: options.clients }, (_, i) => ({
    token: tokens[i % (tokens.length - 1)] ?? '',
    cityId: city,
    ...(addresses > 1 ? { address: `127.0.0.${1 + (i % addresses)}` } : {}),
  }))
  const connected = await connectClients(ctx, specs, 64)
  const perWorker = Array.from({ length: ctx.pool.size }, () => 0)
  connected.placements.forEach((placement, i) => {
    if (!connected.failedClients.has(i))
      perWorker[placement.worker] = (perWorker[placement.worker] ?? 0) + 1
  })
  let sender: BenchClient | null = null
  const errors: Record<string, number> = {}
  try {
    const opened = await openClient({
      url: ctx.target.wsUrl,
      token: tokens.at(-1) ?? '',
      timeoutMs: TIMEOUT_MS,
      onStamp() {},
      onEvent(name, frame) {
        if (name !== 'error') return
        const code = /"code":"([^"]+)"/.exec(frame)?.[1] ?? 'unknown'
        errors[code] = (errors[code] ?? 0) + 1
      },
    })
    if (!opened.ok) throw new Error(`the sender did not connect: ${opened.error}`)
    sender = opened.client
    await joinCity(sender, city, TIMEOUT_MS)
    // Join notices and online counts drained, and a GC given its chance, before the RSS is read.
    await quiet()
    await Bun.sleep(1_000)
    const after = sum(await Promise.all(tree.map(readRssBytes)))
    const openFiles = tree
      .slice(options.processes > 1 ? 1 : 0)
      .map((pid) => openFileCount(pid) ?? 0)

    const deliveries: Histogram = createHistogram()
    const last: number[] = []
    const cpus: number[] = []
    const systems: number[] = []
    let received = 0
    for (let i = 0; i < options.warmup + options.broadcasts; i++) {
      const counted = i >= options.warmup
      const step = FIRST_STEP + i
      await quiet()
      for (const reply of await ctx.pool.all(() => ({ type: 'arm', step }), 10_000))
        expectReply(reply, 'armed')
      const cpu = await Promise.all(tree.map((pid) => startCpuWindow(pid)))
      const sentAt = epochMs()
      sender.send(
        eventFrame('send-city-message', {
          cityId: city,
          content: stampContent(sentAt, step, 0, PADDING),
        })
      )
      const replies = await ctx.pool.all(
        (worker) => ({ type: 'collect', expected: perWorker[worker] ?? 0, timeoutMs: TIMEOUT_MS }),
        TIMEOUT_MS + 10_000
      )
      const used = await Promise.all(cpu.map((window) => window.stop()))
      if (!counted) continue
      let lastAt: number | null = null
      for (const raw of replies) {
        const reply = expectReply(raw, 'collected')
        received += reply.received
        mergeSparse(deliveries, reply.latency)
        if (reply.lastAt !== null) lastAt = Math.max(lastAt ?? 0, reply.lastAt)
        for (const [code, count] of Object.entries(reply.errors))
          errors[code] = (errors[code] ?? 0) + count
      }
      if (lastAt !== null) last.push(lastAt - sentAt)
      const cpuMs = sum(used.map((u) => u?.cpuMs ?? null))
      if (cpuMs !== null) cpus.push(cpuMs)
      const systemMs = sum(used.map((u) => u?.systemMs ?? null))
      if (systemMs !== null) systems.push(systemMs)
    }
    last.sort((a, b) => a - b)
    cpus.sort((a, b) => a - b)
    systems.sort((a, b) => a - b)
    return {
      connected: connected.ok,
      failed: connected.failed,
      firstError: connected.firstError,
      serverAddresses: addresses,
      connectMs: connected.wallMs,
      openFiles,
      rssBytes: after,
      rssPerConnectionBytes:
        before !== null && after !== null && connected.ok > 0
          ? (after - before) / connected.ok
          : null,
      broadcasts: options.broadcasts,
      expected: options.broadcasts * connected.ok,
      received,
      deliveryP50Ms: quantile(deliveries, 0.5),
      deliveryP99Ms: quantile(deliveries, 0.99),
      lastP50Ms: sortedQuantile(last, 0.5),
      lastP99Ms: sortedQuantile(last, 0.99),
      cpuMsPerBroadcast: sortedQuantile(cpus, 0.5),
      systemMsPerBroadcast: sortedQuantile(systems, 0.5),
      errors,
    }
  } finally {
    sender?.close()
    await closeClients(ctx)
  }
}
