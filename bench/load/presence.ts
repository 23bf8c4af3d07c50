/**
 * @module Presence as the online population grows (ours only). One user going offline while N
 * sockets are online: the time from its disconnect to the last `user-offline` frame the generator
 * receives, the frames, and the server's CPU for it (run once per PRESENCE_SCOPE). Joining a city
 * that has N sockets in it: the time from `join-city-chat` to `joined-city-chat`, and to the
 * online list (`city-online-users`, pushed or answered, whichever comes first).
 *
 * The one user measured (the leaver, the joiner) is a bench user of its own, connected from this
 * process; the N connections reuse the other bench users round-robin (tabs), so a city's online
 * list counts distinct users: at most the bench's users, whatever N is.
 */
import { startCpuWindow, waitUntilQuiet } from '../proc.ts'
import { type BenchClient, joinCity, openClient } from './client.ts'
import { epochMs, eventFrame } from './protocol.ts'
import { closeClients, connectClients, expectReply, type ScenarioContext } from './session.ts'

const TIMEOUT_MS = 15_000

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? null
}

/** Every token but the last; the last is the measured user's, so its one socket is its last. */
function crowdSpecs(ctx: ScenarioContext, clients: number, cityOf: (i: number) => string) {
  const tokens = ctx.identities.tokens
  if (tokens.length < 2) throw new Error('the presence scenarios need at least 2 bench users')
  return Array.from({ length: clients }, (_, i) => ({
    token: tokens[i % (tokens.length - 1)] ?? '',
    cityId: cityOf(i),
  }))
}

async function measuredUser(ctx: ScenarioContext): Promise<BenchClient> {
  const token = ctx.identities.tokens.at(-1) ?? ''
  const opened = await openClient({
    url: ctx.target.wsUrl,
    token,
    timeoutMs: TIMEOUT_MS,
    onStamp() {},
    onEvent() {},
  })
  if (!opened.ok) throw new Error(`the measured user did not connect: ${opened.error}`)
  return opened.client
}

const quiet = (ctx: ScenarioContext) => waitUntilQuiet([ctx.target.pid, ...ctx.pool.pids])

async function watched(ctx: ScenarioContext): Promise<{ count: number; lastAt: number | null }> {
  const replies = await ctx.pool.all(() => ({ type: 'watched' }), 10_000)
  let count = 0
  let lastAt: number | null = null
  for (const raw of replies) {
    const reply = expectReply(raw, 'watched')
    count += reply.count
    if (reply.lastAt !== null) lastAt = Math.max(lastAt ?? 0, reply.lastAt)
  }
  return { count, lastAt }
}

export interface OfflineResult {
  connected: number
  /** The sockets that share the leaver's city (what `shared` should reach). */
  sharing: number
  /** `user-offline` frames the generator received for the one logout. */
  frames: number
  /** Disconnect → last `user-offline` frame received; null when none came. */
  lastFrameMs: number | null
  /** Server CPU from the disconnect until the frames stopped (ms of CPU, not %). */
  cpuMs: number | null
}

/**
 * N sockets over `rooms` cities, the leaver in the first city; the leaver closes and the
 * generator counts `user-offline` until it has every expected frame (`all`: every socket,
 * `shared`: the first city's) and nothing more arrives for 250 ms, or 15 s pass. The target must
 * run with PRESENCE_GRACE=0, so the offline is the disconnect's and not a timer's.
 */
export async function userOffline(
  ctx: ScenarioContext,
  clients: number,
  rooms: number,
  scope: 'all' | 'shared'
): Promise<OfflineResult> {
  const cities = ctx.identities.cities.slice(0, Math.max(1, rooms))
  const specs = crowdSpecs(ctx, clients, (i) => cities[i % cities.length] ?? '')
  const connected = await connectClients(ctx, specs, 64)
  const sharing = specs.filter((s, i) => s.cityId === cities[0] && !connected.failedClients.has(i))
  const leaver = await measuredUser(ctx)
  await joinCity(leaver, cities[0] ?? '', TIMEOUT_MS)
  await quiet(ctx)
  expectReply(
    (await ctx.pool.all(() => ({ type: 'watch', event: 'user-offline' }), 10_000))[0] ?? {
      type: 'failed',
      message: 'no worker',
    },
    'watching'
  )
  const expected = scope === 'all' ? connected.ok : sharing.length
  const cpu = await startCpuWindow(ctx.target.pid)
  const closedAt = epochMs()
  leaver.close()
  const deadline = performance.now() + TIMEOUT_MS
  let seen = await watched(ctx)
  let stableSince = performance.now()
  while (performance.now() < deadline) {
    await Bun.sleep(seen.count >= expected ? 250 : 10)
    const now = await watched(ctx)
    if (now.count !== seen.count) stableSince = performance.now()
    else if (now.count >= expected && performance.now() - stableSince >= 250) break
    seen = now
  }
  const used = await cpu.stop()
  await ctx.pool.all(() => ({ type: 'watch', event: '' }), 10_000)
  await closeClients(ctx)
  return {
    connected: connected.ok,
    sharing: sharing.length,
    frames: seen.count,
    lastFrameMs: seen.lastAt === null ? null : seen.lastAt - closedAt,
    cpuMs: used?.cpuMs ?? null,
  }
}

export interface JoinResult {
  connected: number
  joins: number
  /** Medians over the joins: `join-city-chat` → `joined-city-chat`, and → the online list. */
  joinedMs: number | null
  listMs: number | null
  /** Median server CPU per join (the joined notices to the room included), ms. */
  cpuMs: number | null
}

/**
 * N sockets in one city; the joiner joins it, waits for `joined-city-chat` and the online list,
 * leaves, and does it again `joins` times (waiting for quiet between, so each join is alone).
 */
export async function cityJoin(
  ctx: ScenarioContext,
  clients: number,
  joins: number
): Promise<JoinResult> {
  const city = ctx.identities.cities[0] ?? ''
  const connected = await connectClients(
    ctx,
    crowdSpecs(ctx, clients, () => city),
    64
  )
  const joiner = await measuredUser(ctx)
  const joined: number[] = []
  const listed: number[] = []
  const cpus: number[] = []
  try {
    for (let i = 0; i < joins; i++) {
      await quiet(ctx)
      const cpu = await startCpuWindow(ctx.target.pid)
      const confirmed = joiner.once('joined-city-chat', TIMEOUT_MS)
      const list = joiner.once('city-online-users', TIMEOUT_MS)
      const startedAt = epochMs()
      joiner.send(eventFrame('join-city-chat', { cityId: city }))
      await confirmed
      joined.push(epochMs() - startedAt)
      joiner.send(eventFrame('get-city-online-users', { cityId: city }))
      await list
      listed.push(epochMs() - startedAt)
      await quiet(ctx)
      const used = await cpu.stop()
      if (used) cpus.push(used.cpuMs)
      joiner.send(eventFrame('leave-city-chat', { cityId: city }))
    }
  } finally {
    joiner.close()
    await closeClients(ctx)
  }
  return {
    connected: connected.ok,
    joins,
    joinedMs: median(joined),
    listMs: median(listed),
    cpuMs: median(cpus),
  }
}
