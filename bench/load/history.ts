/**
 * @module History as the data grows (ours only): a room's history page, the route the web client
 * opens a room with (`GET /api/cities/:id/messages?limit=30`, src/web/api.ts `history`), timed one
 * request at a time, on a server started over a database that already holds N messages in that room
 * (filled by load/seed.ts while the server was stopped, run.ts `withTarget`). The same run at a
 * small and a large N gives the ratio.
 */
import { join } from 'node:path'
import { sortedQuantile } from './histogram.ts'
import { makeWords, random, type Seeded, seedMessages } from './seed.ts'
import type { ScenarioContext } from './session.ts'

/** The web client's page size (src/web/chat-room.ts). */
const PAGE = 30
const WARMUP_PAGES = 20

export interface HistoryResult {
  /** The newest page, as a room opens. */
  latestP50Ms: number | null
  latestP99Ms: number | null
  /** The page before a random stored message, as scrolling up asks (`before=<id>`). */
  olderP50Ms: number | null
  olderP99Ms: number | null
  /** Requests that failed or did not answer a full page. */
  errors: number
}

/** Fills the stopped target's database: `messages` rows, all in the first city. */
export function fillHistory(dir: string, cityId: string, messages: number): Seeded {
  return seedMessages(join(dir, 'bench.db'), [cityId], messages, makeWords(random(42)))
}

export async function historyLatency(
  ctx: ScenarioContext,
  seeded: Seeded,
  pages: number
): Promise<HistoryResult> {
  const cityId = ctx.identities.cities[0] ?? 'mumbai'
  const headers = { authorization: `Bearer ${ctx.identities.tokens[0] ?? ''}` }
  const base = `${ctx.target.baseUrl}/api/cities/${encodeURIComponent(cityId)}/messages?limit=${PAGE}`
  const next = random(11)
  // Cursors with at least a page of older messages behind them.
  const cursors = seeded.samples.filter((s) => s.before >= PAGE).map((s) => s.id)
  const latest: number[] = []
  const older: number[] = []
  let errors = 0
  for (let i = 0; i < 2 * (WARMUP_PAGES + pages); i++) {
    const before = i % 2 ? cursors[Math.floor(next() * cursors.length)] : undefined
    const sent = performance.now()
    const response = await fetch(before ? `${base}&before=${before}` : base, { headers })
    const body = (await response.json().catch(() => null)) as { messages?: unknown[] } | null
    const took = performance.now() - sent
    if (i < 2 * WARMUP_PAGES) continue
    if (!response.ok || body?.messages?.length !== PAGE) errors++
    else (before ? older : latest).push(took)
  }
  latest.sort((a, b) => a - b)
  older.sort((a, b) => a - b)
  return {
    latestP50Ms: sortedQuantile(latest, 0.5),
    latestP99Ms: sortedQuantile(latest, 0.99),
    olderP50Ms: sortedQuantile(older, 0.5),
    olderP99Ms: sortedQuantile(older, 0.99),
    errors,
  }
}
