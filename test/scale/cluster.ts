/**
 * @module Scale test helpers: a throwaway redis-server on a free port, server processes
 * (`bun src/main.ts`) on one shared SQLite file, and a round-robin HTTP balancer with no stickiness.
 */

import { afterAll, beforeAll, expect } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RedisClient, type Subprocess } from 'bun'
import { ask, barrier, type ChatClient, chatUser, joinCity } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { freePort } from '../helpers/ports.ts'
import { redisServerCommand, untilRedisReady } from '../helpers/redis-server.ts'

const ROOT = join(import.meta.dir, '..', '..')
const BUN = process.execPath
const REDIS_BIN = Bun.which('redis-server')

/** Why the Redis suites skip, or undefined when they can run. */
export const SKIP_REASON = REDIS_BIN
  ? undefined
  : 'redis-server not found (CI installs it with apt: .ci/run); scale tests skipped'

export interface Redis {
  url: string
  stop(): Promise<void>
  /** Starts it again on the same port (empty: no persistence). */
  start(): Promise<void>
  /** Holds every client's writes, PUBLISH included, for `ms` (CLIENT PAUSE … WRITE). */
  pauseWrites(ms: number): Promise<void>
}

export async function startRedis(): Promise<Redis> {
  if (!REDIS_BIN) throw new Error(SKIP_REASON)
  const port = await freePort()
  let proc: Subprocess | undefined
  const start = async () => {
    proc = Bun.spawn(redisServerCommand(REDIS_BIN, port), { stdout: 'pipe', stderr: 'pipe' })
    await untilRedisReady(proc)
  }
  await start()
  const url = `redis://127.0.0.1:${port}`
  return {
    url,
    start,
    async pauseWrites(ms) {
      const client = new RedisClient(url)
      try {
        await client.send('CLIENT', ['PAUSE', String(ms), 'WRITE'])
      } finally {
        client.close()
      }
    },
    async stop() {
      proc?.kill(9)
      await proc?.exited
    },
  }
}

export interface Node {
  url: string
  nodeId: string
  proc: Subprocess
  env: Record<string, string>
  /** Every log line the process wrote so far. */
  logs: string[]
  waitForLog(pattern: RegExp, ms?: number): Promise<string>
  kill(): Promise<void>
}

/** The environment every node of one cluster shares (database, secret, Redis). */
export function clusterEnv(redisUrl: string | undefined, extra: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-scale-'))
  return {
    dataDir,
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dataDir,
      DATABASE_URL: `file:${join(dataDir, 'chat.db')}`,
      JWT_SECRET: 'scale-test-secret-0123456789abcdef0123456789',
      ARGON2_MEMORY_KIB: '1024',
      // Tests register many users from 127.0.0.1; the register limit has its own test.
      REGISTER_ATTEMPTS_PER_ADDRESS: '100000',
      // Offline at once, as the tests of user-offline expect; the grace has its own tests.
      PRESENCE_GRACE: '0',
      NODE_TTL: '1500ms',
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      ...extra,
    } as Record<string, string>,
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  }
}

/** Starts `bun src/main.ts` and resolves once it logged `listening`. */
export async function startNode(
  env: Record<string, string>,
  nodeId: string,
  { waitFor = /"msg":"listening"/ }: { waitFor?: RegExp } = {}
): Promise<Node> {
  const proc = Bun.spawn([BUN, join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, NODE_ID: nodeId },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const logs: string[] = []
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = []
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buffer = ''
    for await (const chunk of stream) {
      buffer += new TextDecoder().decode(chunk)
      let newline = buffer.indexOf('\n')
      while (newline !== -1) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        logs.push(line)
        for (const waiter of [...waiters]) {
          if (waiter.pattern.test(line)) {
            waiters.splice(waiters.indexOf(waiter), 1)
            waiter.resolve(line)
          }
        }
        newline = buffer.indexOf('\n')
      }
    }
  }
  void pump(proc.stderr as ReadableStream<Uint8Array>)
  void pump(proc.stdout as ReadableStream<Uint8Array>)
  const waitForLog = (pattern: RegExp, ms = 10_000) => {
    const found = logs.find((line) => pattern.test(line))
    if (found) return Promise.resolve(found)
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${nodeId}: no log ${pattern} in ${ms} ms\n${logs.join('\n')}`)),
        ms
      )
      waiters.push({
        pattern,
        resolve: (line) => {
          clearTimeout(timer)
          resolve(line)
        },
      })
    })
  }
  const exited = proc.exited.then((code) => {
    throw new Error(`${nodeId} exited with ${code} before listening:\n${logs.join('\n')}`)
  })
  const line = await Promise.race([waitForLog(waitFor, 15_000), exited])
  const listening = JSON.parse(line) as { url: string }
  return {
    url: listening.url.replace(/\/$/, ''),
    nodeId,
    proc,
    env,
    logs,
    waitForLog,
    async kill() {
      proc.kill(9)
      await proc.exited
    },
  }
}

/**
 * Redis and two nodes on one database, started in turn: `holder` takes the notifier lease as it
 * starts, `other` finds it held. `env` is added to the shared environment. `stop` kills both,
 * stops Redis and removes the data (so does a failure to start).
 */
export async function startLeaseNodes(env: Record<string, string>) {
  const stops: Array<() => unknown> = []
  const stop = async () => {
    for (const stopOne of stops.splice(0).reverse()) await stopOne()
  }
  try {
    const redis = await startRedis()
    stops.push(() => redis.stop())
    const cluster = clusterEnv(redis.url, env)
    stops.push(cluster.cleanup)
    const holder = await startNode(cluster.env, 'lease-holder')
    stops.push(() => holder.kill())
    const other = await startNode(cluster.env, 'other')
    stops.push(() => other.kill())
    return { holder, other, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** A balancer with no affinity at all: request i goes to target i mod n (HTTP only). */
export function roundRobin(targets: string[]) {
  let next = 0
  const hits = targets.map(() => 0)
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 60,
    async fetch(req) {
      const index = next++ % targets.length
      hits[index] = (hits[index] ?? 0) + 1
      const incoming = new URL(req.url)
      const headers = new Headers(req.headers)
      headers.delete('host')
      return fetch(new URL(incoming.pathname + incoming.search, targets[index]), {
        method: req.method,
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : await req.arrayBuffer(),
        signal: req.signal,
      })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    hits,
    stop: () => server.stop(true),
  }
}

/**
 * Ana on `a`, Ben and Cleo on `b`, all in London. With Redis holding every PUBLISH, ana's message
 * reaches cleo only by `b` reading it back from the database when ben's later one shows the gap;
 * once Redis lets `a`'s relay through, `b` drops it. Cleo hears both once, in offset order.
 */
export async function expectOffsetOrder(
  redis: Redis,
  a: Node,
  b: Node,
  track: (client: ChatClient) => ChatClient
): Promise<void> {
  const ana = track(await chatUser(a.url))
  const ben = track(await chatUser(b.url))
  const cleo = track(await chatUser(b.url))
  for (const c of [ana, ben, cleo]) await joinCity(c, 'london')
  const heard: [string, string][] = []
  cleo.socket.on('new-city-message', (message: { content: string }, offset: string) =>
    heard.push([message.content, offset])
  )
  await redis.pauseWrites(700)
  await ask(ana.socket, 'send-city-message', { cityId: 'london', content: `first, on ${a.nodeId}` })
  await ask(ben.socket, 'send-city-message', {
    cityId: 'london',
    content: `second, on ${b.nodeId}`,
  })
  await eventually(() => heard.length >= 2, 5_000, 'both messages at cleo')
  expect(heard.map(([content]) => content)).toEqual([
    `first, on ${a.nodeId}`,
    `second, on ${b.nodeId}`,
  ])
  const [first, second] = heard.map(([, offset]) => Number(offset)) as [number, number]
  expect(second).toBeGreaterThan(first)
  await Bun.sleep(1_000)
  await barrier(cleo.socket)
  expect(heard.length).toBe(2)
}

/**
 * For a describe block: a Redis and nodes on one database started before its tests (`env` added
 * to the shared environment), and, after them, the tracked clients disconnected, the nodes killed,
 * Redis stopped and the data removed. `nodes` fills in once beforeAll ran, in the order of `ids`
 * (a test that kills one for good takes it out, e.g. `nodes.splice(2)`); `clients` are the ones
 * given to `track`. `perNode` adds settings to one node only (its own DATA_DIR, say), in the order
 * of `ids`.
 */
export function useNodes(
  ids: string[],
  env: Record<string, string> = {},
  perNode: Record<string, string>[] = []
) {
  let redis: Redis | undefined
  let cleanup = () => {}
  const nodes: Node[] = []
  const clients: ChatClient[] = []
  beforeAll(async () => {
    redis = await startRedis()
    const cluster = clusterEnv(redis.url, env)
    cleanup = cluster.cleanup
    const start = (id: string, i: number) => startNode({ ...cluster.env, ...perNode[i] }, id)
    // The first node migrates and seeds the shared file; the others then find it ready.
    const [first, ...others] = ids
    if (first !== undefined) nodes.push(await start(first, 0))
    nodes.push(...(await Promise.all(others.map((id, i) => start(id, i + 1)))))
  }, 30_000)
  afterAll(async () => {
    for (const c of clients) c.socket.disconnect()
    await Promise.all(nodes.map((n) => n.kill()))
    await redis?.stop()
    cleanup()
  })
  const track = (c: ChatClient) => {
    clients.push(c)
    return c
  }
  /** The Redis the nodes share (to stop and start it, or for a client of the test's own). */
  const sharedRedis = () => redis as Redis
  /** Its URL (for a client of the test's own, such as an emitter). */
  const redisUrl = () => redis?.url ?? ''
  return { nodes, clients, track, redis: sharedRedis, redisUrl }
}

/** useNodes with two: the second starts once the first is up. */
export const useTwoNodes = (
  ids: [string, string],
  env: Record<string, string> = {},
  perNode: [Record<string, string>, Record<string, string>] = [{}, {}]
) => useNodes(ids, env, perNode)
