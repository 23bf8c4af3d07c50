/**
 * @module Stored messages in bulk, for the scenarios that measure cost as the data grows (search,
 * history): rows written straight into the target's database file with bun:sqlite, in large
 * commits, each indexed for search as the server's writer indexes a send (store/write-batch.ts).
 * The text is made-up words drawn about 1/rank, seeded, so every run stores the same messages.
 */
import { Database } from 'bun:sqlite'
import { scopeOf } from '../../src/store/search.ts'

const VOCABULARY = 10_000
const ROWS_PER_COMMIT = 20_000
/** Message ids handed back for cursors (e.g. `before=`), spread evenly over what was stored. */
const SAMPLE_IDS = 1_000

/** A seeded generator, so every run stores the same text. */
export function random(seed: number): () => number {
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
export function makeWords(next: () => number): string[] {
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
export const pickRank = (next: () => number) => Math.floor(VOCABULARY ** next()) - 1

export interface Seeded {
  /** Up to 1,000 stored messages, oldest first, evenly spread: each id and how many this seed stored before it. */
  samples: Array<{ id: string; before: number }>
}

/**
 * Inserts `count` messages by the first bench user, round-robin over `cities`, after the newest
 * offset already in the file. The file may be open in a running server (WAL, busy timeout) or not.
 */
export function seedMessages(
  dbPath: string,
  cities: readonly string[],
  count: number,
  words: readonly string[]
): Seeded {
  const db = new Database(dbPath)
  const samples: Seeded['samples'] = []
  const every = Math.max(1, Math.floor(count / SAMPLE_IDS))
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
          let content = words[pickRank(next)] as string
          for (let w = 1; w < length; w++) content += ` ${words[pickRank(next)] as string}`
          const createdAt = start + done + i
          const id =
            createdAt.toString(16).padStart(12, '0') + (done + i).toString(16).padStart(12, '0')
          const cityId = cities[seq % cities.length] ?? 'mumbai'
          insert.run(seq, id, cityId, author.id, content, createdAt)
          index.run(seq, content, scopeOf({ cityId, authorId: author.id }))
          if ((done + i) % every === 0 && samples.length < SAMPLE_IDS)
            samples.push({ id, before: done + i })
        }
      })()
    }
  } finally {
    db.close()
  }
  return { samples }
}
