/**
 * @module What one durable, acked city message costs the server in garbage: the real server
 * (createServer on Bun.serve, a temporary SQLite file) in a child process run with JSC's GC log
 * on, and official socket.io-clients here, each in its own city, 16 acks pending per sender. It
 * reports per message the JS heap bytes allocated, the GCs and their pause time, and the server's
 * CPU, over a measured window after a warm-up. These figures hardly move with the machine's load,
 * unlike throughput. Nothing here is a test.
 * After the rounds, the pieces of the path that run alone (the payload's validation, the
 * incoming frame's decoding, the broadcast's encoding) are measured the same way, one call at a
 * time in a loop: these figures do not depend on timing at all.
 * Run: ./node_modules/.bin/bun bench/send-allocations.ts [--messages N] [--senders N] [--rounds N]
 */
import { mkdtempSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { io as ioClient, type Socket } from 'socket.io-client'

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    messages: { type: 'string', default: '50000' },
    warmup: { type: 'string', default: '10000' },
    senders: { type: 'string', default: '4' },
    'in-flight': { type: 'string', default: '16' },
    rounds: { type: 'string', default: '1' },
    'server-child': { type: 'boolean', default: false },
    'stages-child': { type: 'boolean', default: false },
  },
})
const IN_FLIGHT = Number(values['in-flight'])
const MARK = '@@send-allocations'
/** The quiet window before the measured one. */
const IDLE_MS = 3_000
/** A server is quiet after two samples of this length under 5 % of a core. */
const QUIET_SAMPLE_MS = 250

/** A point of the server process, taken right after a full collection: its CPU so far. */
interface ServerMark {
  cpuUs: number
}

/** Child side: the real server in this process, answering `mark` on IPC with a collected heap. */
async function serveChild(): Promise<void> {
  const { loadConfig } = await import('../src/config.ts')
  const { createServer } = await import('../src/server.ts')
  const { heapStats } = await import('bun:jsc')
  const { oursEnv } = await import('./targets.ts')
  const dir = mkdtempSync(join(tmpdir(), 'send-alloc-'))
  const config = loadConfig({
    ...oursEnv(0, dir, 'send-allocations-secret-0123456789abcdef'),
    // A few registrations before the window: the cheapest password hashing will do.
    ARGON2_MEMORY_KIB: '1024',
  })
  const app = await createServer(config, {})
  const server = Bun.serve({
    port: 0,
    hostname: config.HOST,
    fetch: app.fetch,
    websocket: app.websocket,
    routes: app.routes,
    maxRequestBodySize: app.maxRequestBodySize,
    development: false,
  })
  await app.attach(server)
  process.on('message', async (message: string) => {
    if (message === 'stop') {
      await server.stop(true)
      await app.stop()
      rmSync(dir, { recursive: true, force: true })
      process.exit(0)
    }
    if (message === 'quiet') {
      // Sent messages leave work queued behind their acks (the feed, pushes, last-seen): the
      // marks wait until it is done, so the window holds all of a message's work and only its.
      let cpuAt = process.cpuUsage()
      for (let calm = 0; calm < 2; ) {
        await Bun.sleep(QUIET_SAMPLE_MS)
        const used = process.cpuUsage(cpuAt)
        cpuAt = process.cpuUsage()
        calm = (used.user + used.system) / 1_000 < QUIET_SAMPLE_MS * 0.05 ? calm + 1 : 0
      }
      process.send?.({ mark: 'quiet', cpuUs: 0 })
      return
    }
    // Collect first, so the marks compare the live heap, and write the mark on fd 2 where the
    // GC log goes, so the parent can tell which collections fell inside the window.
    Bun.gc(true)
    const cpu = process.cpuUsage()
    const mark: ServerMark = { cpuUs: cpu.user + cpu.system }
    writeSync(2, `${MARK} ${message} extra=${heapStats().extraMemorySize}\n`)
    process.send?.({ mark: message, ...mark })
  })
  process.send?.({ url: `http://127.0.0.1:${server.port}` })
}

async function register(url: string, index: number): Promise<string> {
  const tag = `${Date.now().toString(36)}${index}`
  const response = await fetch(`${url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      username: `alloc${tag}`,
      email: `alloc${tag}@bench.test`,
      full_name: `Alloc ${index}`,
      password: 'bench-password-1234',
    }),
  })
  const answer = (await response.json()) as { accessToken?: string }
  if (!answer.accessToken) throw new Error(`register answered ${response.status}`)
  return answer.accessToken
}

async function connect(url: string, token: string, cityId: string): Promise<Socket> {
  const socket = ioClient(url, { transports: ['websocket'], auth: { token }, forceNew: true })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', reject)
  })
  const joined = await socket.emitWithAck('join-city-chat', { cityId })
  if (!joined?.ok) throw new Error(`join ${cityId}: ${JSON.stringify(joined)}`)
  return socket
}

/** `count` acked messages from one socket, IN_FLIGHT pending at a time; every ack must be ok. */
async function send(socket: Socket, cityId: string, count: number): Promise<void> {
  let sent = 0
  const lane = async () => {
    while (sent < count) {
      const n = sent++
      const ack = await socket.emitWithAck('send-city-message', {
        cityId,
        content: `t:${Date.now()}|${n}|${'x'.repeat(48)}`,
      })
      if (!ack?.ok) throw new Error(`send: ${JSON.stringify(ack)}`)
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
}

interface GcWindow {
  allocatedBytes: number
  edenGcs: number
  fullGcs: number
  pauseMs: number
}

/**
 * The collections between two marks in JSC's log (`BUN_JSC_logGC=1`). Its lines are
 * `[GC<heap>: START M <size>kb => <kind>Collection ... => <after>kb, p=<pause>ms ...]`, a full
 * collection's increments on lines of their own, and a Worker's heap logs on the same stream: only
 * the main heap counts, the one that ran the mark's own Bun.gc(true) just before the start mark.
 * `size` is the heap with its reported extra memory when the collection starts and `after` what
 * it kept, so what was allocated in the window is the sum of each `size` minus the `after` before
 * it. A full collection's `after` leaves out the extra memory (buffers native objects report)
 * that the next `size` counts again, so it is added back, as the mark measured it. The end mark's
 * own collection is the harness's: its finding counts, its pause does not.
 */
function readGcLog(log: string): GcWindow {
  const from = log.indexOf(`${MARK} start`)
  const to = log.indexOf(`${MARK} end`)
  const before = log.slice(0, from).split('\n')
  let main = ''
  let previousAfter = 0
  for (const line of before) {
    const heap = /^\[GC<(\w+)>: START/.exec(line)
    if (heap) main = heap[1] as string
  }
  for (const line of before) {
    const after = /^\[GC<(\w+)>:.*=> (\d+)kb, p=/.exec(line)
    if (after && after[1] === main) previousAfter = Number(after[2]) * 1024
  }
  const extra = Number(/extra=(\d+)/.exec(log.slice(from))?.[1] ?? 0)
  previousAfter += extra
  const window: GcWindow = { allocatedBytes: 0, edenGcs: 0, fullGcs: 0, pauseMs: 0 }
  let lastFull = false
  let lastPauseMs = 0
  for (const line of log.slice(log.indexOf('\n', from) + 1, to).split('\n')) {
    const heap = /^\[GC<(\w+)>: /.exec(line)
    if (!heap || heap[1] !== main) continue
    const start = /START \S+ (\d+)kb => (\w+)Collection/.exec(line)
    if (start) {
      window.allocatedBytes += Math.max(0, Number(start[1]) * 1024 - previousAfter)
      lastFull = start[2] !== 'Eden'
      if (lastFull) window.fullGcs++
      else window.edenGcs++
      lastPauseMs = 0
    }
    const pause = /[^x] p=([\d.]+)ms/.exec(line)
    if (pause) {
      window.pauseMs += Number(pause[1])
      lastPauseMs += Number(pause[1])
    }
    const after = /=> (\d+)kb, p=/.exec(line)
    if (after) previousAfter = Number(after[1]) * 1024 + (lastFull ? extra : 0)
  }
  if (lastFull) window.fullGcs--
  else window.edenGcs--
  window.pauseMs -= lastPauseMs
  return window
}

async function round(messages: number, warmup: number, senders: number) {
  let log = ''
  const child = Bun.spawn([process.execPath, import.meta.path, '--server-child'], {
    env: { ...process.env, BUN_JSC_logGC: '1' },
    stdout: 'inherit',
    stderr: 'pipe',
    ipc(message) {
      if ('url' in message) urlReady(message.url)
      else markReady(message)
    },
  })
  const decoder = new TextDecoder()
  const drain = (async () => {
    for await (const chunk of child.stderr) log += decoder.decode(chunk, { stream: true })
  })()
  let urlReady: (url: string) => void = () => {}
  let markReady: (mark: ServerMark) => void = () => {}
  const url = await new Promise<string>((resolve) => {
    urlReady = resolve
  })
  const mark = (name: string) =>
    new Promise<ServerMark>((resolve) => {
      markReady = resolve
      child.send(name)
    })
  try {
    const cities = ['mumbai', 'delhi', 'bengaluru', 'pune', 'chennai', 'kolkata', 'hyderabad']
    const sockets = await Promise.all(
      Array.from({ length: senders }, async (_, i) => {
        const cityId = cities[i % cities.length] as string
        return { cityId, socket: await connect(url, await register(url, i), cityId) }
      })
    )
    const perSender = (n: number) => Math.ceil(n / senders)
    await Promise.all(sockets.map(({ socket, cityId }) => send(socket, cityId, perSender(warmup))))
    // What the server allocates with nothing sent (timers, heartbeats), per second: the loaded
    // window's share of it is reported apart, since a slow run would otherwise look costlier.
    await mark('quiet')
    await mark('start')
    const idleAt = performance.now()
    await Bun.sleep(IDLE_MS)
    await mark('end')
    const idleSeconds = (performance.now() - idleAt) / 1_000
    const idle = readGcLog(log)
    log = log.slice(log.indexOf(`${MARK} end`) + MARK.length + 4)
    const start = await mark('start')
    const wallAt = performance.now()
    await Promise.all(
      sockets.map(({ socket, cityId }) => send(socket, cityId, perSender(messages)))
    )
    await mark('quiet')
    const wallMs = performance.now() - wallAt
    const end = await mark('end')
    for (const { socket } of sockets) socket.disconnect()
    child.send('stop')
    await child.exited
    await drain
    const sent = perSender(messages) * senders
    const gc = readGcLog(log)
    const idleBytesPerSecond = idle.allocatedBytes / idleSeconds
    return {
      sent,
      bytesPerMessage: gc.allocatedBytes / sent,
      idleBytesPerSecond,
      beyondIdlePerMessage: (gc.allocatedBytes - idleBytesPerSecond * (wallMs / 1_000)) / sent,
      cpuMsPer1k: ((end.cpuUs - start.cpuUs) / 1_000 / sent) * 1_000,
      gcsPer10k: ((gc.edenGcs + gc.fullGcs) / sent) * 10_000,
      fullGcs: gc.fullGcs,
      gcPauseMsPer10k: (gc.pauseMs / sent) * 10_000,
      msgsPerSec: sent / (wallMs / 1_000),
    }
  } catch (error) {
    child.kill()
    throw error
  }
}

const STAGE_CALLS = 200_000

/** Child side: each stage called in a loop between two marks, after a warm-up of its own. */
async function stagesChild(): Promise<void> {
  const { compiledSchema, parseInput, sendCityMessagePayload } = await import(
    '../src/chat/inputs.ts'
  )
  const compiled = compiledSchema(sendCityMessagePayload)
  const { DEFAULT_CODEC } = await import('../src/realtime/io/codec.ts')
  const content = `t:1733150000000.123|3|7|${'x'.repeat(48)}`
  const frame = `27["send-city-message",${JSON.stringify({ cityId: 'mumbai', content })}]`
  const decoder = DEFAULT_CODEC.createDecoder()
  const json = JSON.stringify(['new-city-message', { _id: 'a'.repeat(24), content }])
  const stages: Record<string, (i: number) => unknown> = {
    'validate the send payload (zod)': (i) =>
      parseInput(sendCityMessagePayload, { cityId: 'mumbai', content: content + i }),
    // What the socket events run (events/respond.ts): zod's compiled parser in front.
    'validate the send payload as the events do (z.compile)': (i) =>
      parseInput(compiled, { cityId: 'mumbai', content: content + i }),
    'decode the incoming frame': () => decoder.add(frame),
    'encode the broadcast with its offset': (i) => DEFAULT_CODEC.encodeJson('/', json, i),
  }
  const { heapStats } = await import('bun:jsc')
  const mark = (name: string) =>
    writeSync(2, `${MARK} ${name} extra=${heapStats().extraMemorySize}\n`)
  for (const [name, stage] of Object.entries(stages)) {
    for (let i = 0; i < 20_000; i++) stage(i)
    Bun.gc(true)
    mark('start')
    for (let i = 0; i < STAGE_CALLS; i++) stage(i)
    Bun.gc(true)
    mark('end')
    writeSync(2, `${MARK} stage ${name}\n`)
  }
}

/** The stages' bytes per call, each read from its own stretch of the GC log. */
async function stages(): Promise<void> {
  const child = Bun.spawn([process.execPath, import.meta.path, '--stages-child'], {
    env: { ...process.env, BUN_JSC_logGC: '1' },
    stderr: 'pipe',
  })
  let log = await new Response(child.stderr).text()
  await child.exited
  for (;;) {
    const at = log.indexOf(`${MARK} stage `)
    if (at < 0) break
    const lineEnd = log.indexOf('\n', at)
    const name = log.slice(at + MARK.length + 7, lineEnd)
    const gc = readGcLog(log)
    console.log(`stage: ${name}: ${Math.round(gc.allocatedBytes / STAGE_CALLS)} B allocated/call`)
    log = log.slice(lineEnd + 1)
  }
}

if (values['server-child']) {
  await serveChild()
} else if (values['stages-child']) {
  await stagesChild()
} else {
  const rounds = Number(values.rounds)
  for (let r = 1; r <= rounds; r++) {
    const result = await round(
      Number(values.messages),
      Number(values.warmup),
      Number(values.senders)
    )
    console.log(
      `round ${r}: ${result.sent} msgs, ${Math.round(result.bytesPerMessage)} B allocated/msg ` +
        `(${Math.round(result.beyondIdlePerMessage)} beyond the idle ${Math.round(result.idleBytesPerSecond / 1024)} KB/s), ` +
        `${result.cpuMsPer1k.toFixed(1)} server CPU ms/1k msgs, ${result.gcsPer10k.toFixed(1)} GCs/10k ` +
        `(${result.fullGcs} full), ${result.gcPauseMsPer10k.toFixed(2)} ms GC pause/10k, ` +
        `${Math.round(result.msgsPerSec)} msgs/s (load-dependent)`
    )
  }
  await stages()
}
