/**
 * @module Search (ours only): the target's database is filled with a million messages by a direct
 * bulk insert (the server's own triggers index them, as they index every send), then one-word
 * queries go through GET /api/search one after another, timed end to end.
 */
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { scopeOf } from '../../src/store/search.ts'
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

const VOCABULARY = 10_000
const ROWS_PER_COMMIT = 20_000
const WARMUP_QUERIES = 20

/** A seeded generator, so every run stores the same text. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Pronounceable made-up words, the same for a seed. */
function makeWords(next: () => number): string[] {
  const consonants = 'bcdfghjklmnprstvz'
  const vowels = 'aeiou'
  const words = new Set<string>()
  while (words.size < VOCABULARY) {
    let word = ''
    const syllables = 1 + Math.floor(next() * 3)
    for (let s = 0; s < syllables; s++) {
      word += consonants[Math.floor(next() * consonants.length)]
      word += vowels[Math.floor(next() * vowels.length)]
    }
    if (next() < 0.5) word += consonants[Math.floor(next() * consonants.length)]
    words.add(word)
  }
  return [...words]
}

/**
 * Word rank r is drawn with probability about 1/r (log-uniform), as words are in real text: the
 * commonest is in about half the messages, the rarest in a handful.
 */
const pickRank = (next: () => number) => Math.floor(VOCABULARY ** next()) - 1

/** Inserts `count` messages spread over `cities`, by the first bench user, in large commits. */
function seed(dbPath: string, cities: readonly string[], count: number, words: string[]): void {
  const db = new Database(dbPath)
  try {
    db.run('PRAGMA busy_timeout = 10000')
    const author = db.query('SELECT id FROM users ORDER BY created_at LIMIT 1').get() as {
      id: string
    } | null
    if (!author) throw new Error('no user to write as')
    // The next offsets, as the server's writer computes them (store/room-stream.ts LATEST_OFFSET).
    const latest = db
      .query(
        `SELECT max(coalesce((SELECT max(seq) FROM messages), 0),
          coalesce((SELECT max(id) FROM room_events), 0)) AS n`
      )
      .get() as { n: number }
    const insert = db.prepare(
      'INSERT INTO messages (seq, id, city_id, author_id, content, created_at) VALUES (?, ?, ?, ?, ?, ?)'
    )
    // Indexed as the server's writer indexes a message (store/write-batch.ts).
    const index = db.prepare('INSERT INTO messages_fts (rowid, content, scope) VALUES (?, ?, ?)')
    const next = random(7)
    const start = Date.now() - count
    let seq = latest.n
    for (let done = 0; done < count; done += ROWS_PER_COMMIT) {
      const rows = Math.min(ROWS_PER_COMMIT, count - done)
      db.transaction(() => {
        for (let i = 0; i < rows; i++) {
          seq++
          const length = 4 + Math.floor(next() * 9)
          const text: string[] = []
          for (let w = 0; w < length; w++) text.push(words[pickRank(next)] as string)
          const createdAt = start + done + i
          const id =
            createdAt.toString(16).padStart(12, '0') + (done + i).toString(16).padStart(12, '0')
          const cityId = cities[seq % cities.length] ?? 'mumbai'
          const content = text.join(' ')
          insert.run(seq, id, cityId, author.id, content, createdAt)
          index.run(seq, content, scopeOf({ cityId, authorId: author.id }))
        }
      })()
    }
  } finally {
    db.close()
  }
}

function quantileOf(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? null
}

export async function searchLatency(
  ctx: ScenarioContext,
  messages: number,
  queries: number
): Promise<SearchResult> {
  const words = makeWords(random(42))
  const began = performance.now()
  seed(join(ctx.target.dir, 'bench.db'), ctx.identities.cities, messages, words)
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
    p50Ms: quantileOf(latencies, 0.5),
    p99Ms: quantileOf(latencies, 0.99),
    empty,
    errors,
  }
}
