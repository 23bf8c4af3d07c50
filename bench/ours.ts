/**
 * @module Identities and rooms on our server: users through the real REST register route (real
 * password hashing, real tokens), cities from GET /api/cities, topped up by the bench's admin.
 */
import type { Identities, ProvisionOptions, RunningTarget } from './targets.ts'

const REGISTER_CONCURRENCY = 8
const MAX_ATTEMPTS = 20

interface RegisterAnswer {
  accessToken?: unknown
  error?: { code?: string; message?: string; details?: { retryAfterMs?: number } }
}

/** Registers one user, waiting out 429s (auth routes may be rate limited). Returns the access token. */
async function register(
  baseUrl: string,
  tag: string,
  index: number,
  username = `b${tag}${index}`
): Promise<string> {
  const body = JSON.stringify({
    username,
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

/** The bench's admin (named by ADMIN_USERNAMES in its target's environment, bench/targets.ts). */
export const BENCH_ADMIN = 'benchadmin'

/**
 * The many-rooms scenario needs more rooms than the seeded city list: the bench's admin creates
 * `bench-city-N` through the admin route, as an operator would.
 */
async function addBenchCities(baseUrl: string, count: number, start: number): Promise<void> {
  const admin = await register(baseUrl, 'admin', 0, BENCH_ADMIN)
  for (let i = start; i < start + count; i++) {
    const response = await fetch(`${baseUrl}/api/admin/cities`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: `bench-city-${i}`,
        name: `Bench City ${i}`,
        country: 'Benchland',
      }),
    })
    if (response.status !== 201)
      throw new Error(`POST /api/admin/cities answered ${response.status}`)
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
    await addBenchCities(target.baseUrl, options.rooms - cities.length, cities.length)
    cities = await listCityIds(target.baseUrl, token)
    notes.push(`cities topped up to ${cities.length} through POST /api/admin/cities`)
  }
  return { tokens, cities, notes }
}
