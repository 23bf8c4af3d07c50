/**
 * @module Identities and rooms on our server: users through the real REST register route (real
 * password hashing, real tokens), cities from GET /api/cities, topped up in the bench's own database.
 */
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import type { Identities, ProvisionOptions, RunningTarget } from './targets.ts'

const REGISTER_CONCURRENCY = 8
const MAX_ATTEMPTS = 20

interface RegisterAnswer {
  accessToken?: unknown
  error?: { code?: string; message?: string; details?: { retryAfterMs?: number } }
}

/** Registers one user, waiting out 429s (auth routes may be rate limited). Returns the access token. */
async function register(baseUrl: string, tag: string, index: number): Promise<string> {
  const body = JSON.stringify({
    username: `b${tag}${index}`,
    email: `b${tag}${index}@bench.test`,
    full_name: `Bench User ${index}`,
    password: 'bench-password-1234',
  })
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const response = await fetch(`${baseUrl}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    const answer = (await response.json().catch(() => ({}))) as RegisterAnswer
    if (response.status === 201 && typeof answer.accessToken === 'string') return answer.accessToken
    if (response.status !== 429) {
      throw new Error(`register ${response.status}: ${answer.error?.message ?? 'no error message'}`)
    }
    const retryAfter =
      answer.error?.details?.retryAfterMs ??
      Number(response.headers.get('retry-after') ?? 1) * 1_000
    await Bun.sleep(Math.min(Math.max(retryAfter, 50), 5_000))
  }
  throw new Error(`register still rate limited after ${MAX_ATTEMPTS} attempts`)
}

async function registerAll(baseUrl: string, users: number): Promise<string[]> {
  const tag = Math.random().toString(36).slice(2, 6)
  const tokens: string[] = new Array(users)
  let next = 0
  const lane = async () => {
    while (next < users) {
      const index = next++
      tokens[index] = await register(baseUrl, tag, index)
    }
  }
  await Promise.all(Array.from({ length: REGISTER_CONCURRENCY }, lane))
  return tokens
}

async function listCityIds(baseUrl: string, token: string): Promise<string[]> {
  const response = await fetch(`${baseUrl}/api/cities`, {
    headers: { authorization: `Bearer ${token}` },
  })
  if (!response.ok) throw new Error(`GET /api/cities answered ${response.status}`)
  const { cities } = (await response.json()) as { cities?: Array<Record<string, unknown>> }
  return (cities ?? [])
    .map((city) => city.cityId ?? city._id ?? city.id)
    .filter((id): id is string => typeof id === 'string')
}

/**
 * The many-rooms scenario needs more rooms than the seeded city list. There is no REST route that
 * creates a city, so the bench adds `bench-city-N` rows to its own temporary database, filling every
 * NOT NULL column from the table's own schema so a column rename does not break the bench.
 */
function addBenchCities(dbPath: string, count: number, start: number): void {
  const db = new Database(dbPath)
  try {
    db.run('PRAGMA busy_timeout = 5000')
    const columns = db.query('PRAGMA table_info(cities)').all() as Array<{
      name: string
      type: string
      notnull: number
      dflt_value: unknown
    }>
    const names = columns.map((column) => column.name)
    const valueFor = (column: (typeof columns)[number], index: number): string | number | null => {
      if (column.name === 'id') return `bench-city-${index}`
      if (column.name === 'name') return `Bench City ${index}`
      if (!column.notnull || column.dflt_value !== null) return null
      if (/INT/i.test(column.type)) return Date.now()
      if (/REAL|NUM/i.test(column.type)) return 0
      return 'Benchland'
    }
    const insert = db.prepare(
      `INSERT OR IGNORE INTO cities (${names.map((n) => `"${n}"`).join(',')}) VALUES (${names.map(() => '?').join(',')})`
    )
    for (let i = start; i < start + count; i++) {
      insert.run(...columns.map((column) => valueFor(column, i)))
    }
  } finally {
    db.close()
  }
}

export async function provisionOurs(
  target: RunningTarget,
  options: ProvisionOptions
): Promise<Identities> {
  const notes: string[] = []
  const tokens = await registerAll(target.baseUrl, options.users)
  const token = tokens[0] ?? ''
  let cities = await listCityIds(target.baseUrl, token)
  if (cities.length < options.rooms) {
    addBenchCities(join(target.dir, 'bench.db'), options.rooms - cities.length, cities.length)
    cities = await listCityIds(target.baseUrl, token)
    notes.push(
      `cities topped up to ${cities.length} in the bench database (no REST route creates cities)`
    )
  }
  return { tokens, cities, notes }
}
