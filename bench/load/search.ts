/**
 * @module Search (ours only): the target's database is filled with a million messages by a direct
 * bulk insert (the server's own triggers index them, as they index every send), then one-word
 * queries go through GET /api/search one after another, timed end to end.
 */
import { join } from 'node:path'
import { sortedQuantile } from './histogram.ts'
import { makeWords, pickRank, random, seedMessages } from './seed.ts'
import type { ScenarioContext } from './session.ts'

export interface SearchResult {
  messages: number
  seedSeconds: number
  queries: number
  p50Ms: number | null
  p99Ms: number | null
  /** Queries that found nothing (a word the seed never used would measure nothing). */
  empty: number
  errors: number
}

const WARMUP_QUERIES = 20

export async function searchLatency(
  ctx: ScenarioContext,
  messages: number,
  queries: number
): Promise<SearchResult> {
  const words = makeWords(random(42))
  const began = performance.now()
  seedMessages(join(ctx.target.dir, 'bench.db'), ctx.identities.cities, messages, words)
  const seedSeconds = (performance.now() - began) / 1_000
  ctx.log(`  search: ${messages} messages stored and indexed in ${seedSeconds.toFixed(1)} s`)
  const token = ctx.identities.tokens[0] ?? ''
  const next = random(99)
  const latencies: number[] = []
  let empty = 0
  let errors = 0
  for (let i = 0; i < WARMUP_QUERIES + queries; i++) {
    const word = words[pickRank(next)] as string
    const sent = performance.now()
    const response = await fetch(`${ctx.target.baseUrl}/api/search?q=${word}&limit=20`, {
      headers: { authorization: `Bearer ${token}` },
    })
    const body = (await response.json().catch(() => null)) as { results?: unknown[] } | null
    const took = performance.now() - sent
    if (i < WARMUP_QUERIES) continue
    if (!response.ok || !body?.results) errors++
    else {
      latencies.push(took)
      if (body.results.length === 0) empty++
    }
  }
  latencies.sort((a, b) => a - b)
  return {
    messages,
    seedSeconds,
    queries: latencies.length,
    p50Ms: sortedQuantile(latencies, 0.5),
    p99Ms: sortedQuantile(latencies, 0.99),
    empty,
    errors,
  }
}
