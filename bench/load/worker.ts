/**
 * @module A load-generator worker process: holds its share of the connections and runs the commands
 * bench/run.ts sends over IPC (connect, open-loop step, closed-loop persist, close). One per core's worth
 * of receive work, so a single JS thread is not the bottleneck being measured.
 */
import { type BenchClient, joinCity, openClient } from './client.ts'
import { createHistogram, type Histogram, record, toSparse } from './histogram.ts'
import type { ClientSpec, Command, PersistSenderSpec, Reply, SenderSpec } from './messages.ts'
import { epochMs, eventFrame, type Stamp, stampContent } from './protocol.ts'

const TICK_MS = 5

/** What the receive path is currently counting; replaced at every step. */
interface Tally {
  step: number
  received: number
  latency: Histogram
  /** Epoch ms of the last delivery counted (a broadcast's send → last delivery). */
  lastAt: number | null
  errors: Record<string, number>
  /** Closed loop: sender id → callback when its own message comes back. */
  echoes: Map<number, () => void>
}

// Aligned with the ClientSpec list of the connect command: null where that connection failed.
const clients: Array<BenchClient | null> = []
const cityOf: Array<string | null> = []
let tally: Tally = newTally(-1)
/** The event a presence scenario counts (bench/load/presence.ts), across this worker's connections. */
let watch: { event: string; count: number; lastAt: number | null } = {
  event: '',
  count: 0,
  lastAt: null,
}

function newTally(step: number): Tally {
  return {
    step,
    received: 0,
    latency: createHistogram(),
    lastAt: null,
    errors: {},
    echoes: new Map(),
  }
}

function onStamp(stamp: Stamp): void {
  if (stamp.step !== tally.step) return
  const now = epochMs()
  tally.received += 1
  tally.lastAt = now
  record(tally.latency, now - stamp.sentAt)
  tally.echoes.get(stamp.sender)?.()
}

function onEvent(name: string, frame: string): void {
  if (name === watch.event) {
    watch.count += 1
    watch.lastAt = epochMs()
  }
  if (name !== 'error') return
  const code = /"code":"([^"]+)"/.exec(frame)?.[1] ?? 'unknown'
  tally.errors[code] = (tally.errors[code] ?? 0) + 1
}

async function connectAll(
  url: string,
  specs: ClientSpec[],
  concurrency: number,
  timeoutMs: number
) {
  const handshake = createHistogram()
  let ok = 0
  let failed = 0
  let firstError: string | null = null
  const failedIndexes: number[] = []
  const base = clients.length
  clients.length += specs.length
  cityOf.length += specs.length
  clients.fill(null, base)
  cityOf.fill(null, base)
  let next = 0
  const lane = async () => {
    while (next < specs.length) {
      const index = next++
      const spec = specs[index]
      if (!spec) break
      const startedAt = epochMs()
      const opened = await openClient({
        url,
        token: spec.token,
        timeoutMs,
        address: spec.address,
        onStamp,
        onEvent,
      })
      if (!opened.ok) {
        failed += 1
        failedIndexes.push(base + index)
        firstError ??= opened.error
        continue
      }
      try {
        if (spec.cityId) await joinCity(opened.client, spec.cityId, timeoutMs)
      } catch (error) {
        failed += 1
        failedIndexes.push(base + index)
        firstError ??= (error as Error).message
        opened.client.close()
        continue
      }
      record(handshake, epochMs() - startedAt)
      clients[base + index] = opened.client
      cityOf[base + index] = spec.cityId
      ok += 1
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane))
  return {
    type: 'connected',
    ok,
    failed,
    failedIndexes,
    firstError,
    handshake: toSparse(handshake),
  } satisfies Reply
}

/** Open loop: each sender sends at its rate whatever the server does, so queueing shows as latency. */
async function runStep(
  step: number,
  durationMs: number,
  graceMs: number,
  padding: string,
  senders: SenderSpec[]
) {
  tally = newTally(step)
  const sentByCity: Record<string, number> = {}
  const sent = senders.map(() => 0)
  const startedAt = performance.now()
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const elapsed = Math.min(performance.now() - startedAt, durationMs)
      senders.forEach((spec, i) => {
        const client = clients[spec.client]
        const cityId = cityOf[spec.client]
        if (!client || !cityId) return
        // Senders are phase-shifted by their index so that they do not all fire on the same tick.
        const phase = (i + 1) / (senders.length + 1)
        const due = Math.floor((spec.ratePerSec * elapsed) / 1_000 + phase) - (sent[i] ?? 0)
        for (let k = 0; k < due; k++) {
          const content = stampContent(epochMs(), step, spec.sender, padding)
          client.send(eventFrame('send-city-message', { cityId, content }))
        }
        if (due > 0) {
          sent[i] = (sent[i] ?? 0) + due
          sentByCity[cityId] = (sentByCity[cityId] ?? 0) + due
        }
      })
      if (elapsed >= durationMs) {
        clearInterval(timer)
        done()
      }
    }, TICK_MS)
  })
  // Deliveries still in flight get the grace period; later ones count as fallen behind.
  await Bun.sleep(graceMs)
  const result = tally
  tally = newTally(-1)
  return {
    type: 'step-done',
    step,
    sentByCity,
    received: result.received,
    latency: toSparse(result.latency),
    errors: result.errors,
  } satisfies Reply
}

/** Closed loop: each sender keeps `window` messages in flight and sends the next on its own echo. */
async function runPersist(
  step: number,
  durationMs: number,
  padding: string,
  senders: PersistSenderSpec[]
) {
  tally = newTally(step)
  const current = tally
  let completed = 0
  let running = true
  const sendOne = (spec: PersistSenderSpec) => {
    const client = clients[spec.client]
    const cityId = cityOf[spec.client]
    if (!client || !cityId) return
    client.send(
      eventFrame('send-city-message', {
        cityId,
        content: stampContent(epochMs(), step, spec.sender, padding),
      })
    )
  }
  for (const spec of senders) {
    current.echoes.set(spec.sender, () => {
      if (!running) return
      completed += 1
      sendOne(spec)
    })
    for (let k = 0; k < spec.window; k++) sendOne(spec)
  }
  await Bun.sleep(durationMs)
  running = false
  tally = newTally(-1)
  return {
    type: 'persist-done',
    step,
    completed,
    latency: toSparse(current.latency),
    errors: current.errors,
  } satisfies Reply
}

/** One broadcast sent from elsewhere: waits for this worker's share of its deliveries. */
async function collect(expected: number, timeoutMs: number): Promise<Reply> {
  const current = tally
  const deadline = performance.now() + timeoutMs
  while (current.received < expected && performance.now() < deadline) await Bun.sleep(2)
  tally = newTally(-1)
  return {
    type: 'collected',
    received: current.received,
    latency: toSparse(current.latency),
    lastAt: current.lastAt,
    errors: current.errors,
  }
}

function closeAll(): Reply {
  for (const client of clients) client?.close()
  clients.length = 0
  cityOf.length = 0
  return { type: 'closed' }
}

async function handle(command: Command): Promise<Reply> {
  switch (command.type) {
    case 'connect':
      return connectAll(command.url, command.clients, command.concurrency, command.timeoutMs)
    case 'step':
      return runStep(
        command.step,
        command.durationMs,
        command.graceMs,
        command.padding,
        command.senders
      )
    case 'persist':
      return runPersist(command.step, command.durationMs, command.padding, command.senders)
    case 'watch':
      watch = { event: command.event, count: 0, lastAt: null }
      return { type: 'watching' }
    case 'watched':
      return { type: 'watched', count: watch.count, lastAt: watch.lastAt }
    case 'arm':
      tally = newTally(command.step)
      return { type: 'armed' }
    case 'collect':
      return collect(command.expected, command.timeoutMs)
    case 'close':
      return closeAll()
  }
}

process.on('message', (command: Command) => {
  handle(command).then(
    (reply) => process.send?.(reply),
    (error: unknown) => process.send?.({ type: 'failed', message: String(error) } satisfies Reply)
  )
})
// The orchestrator going away (or killing us) must not leave connections behind.
process.on('disconnect', () => process.exit(0))
