/** @module Cities: the public city rooms. Any active user may read and join any existing city. */
import { fail, ok, type Result } from '../errors.ts'
import * as store from '../store/cities.ts'
import type { Db } from '../store/db.ts'
import type { CityRow } from '../store/schema.ts'

export function createCities({ db }: { db: Db }) {
  /** Cities are never deleted or renamed (they are seeded), so a found row can be kept. Misses still ask. */
  const known = new Map<string, CityRow>()

  async function listCities(): Promise<Result<CityRow[]>> {
    return ok(await store.listCities(db))
  }

  /** @example const city = await chat.getCity('mumbai') // ok → { id, name: 'Mumbai', ... } */
  async function getCity(cityId: string): Promise<Result<CityRow>> {
    const cached = known.get(cityId)
    if (cached) return ok(cached)
    const city = await store.findCityById(db, cityId)
    if (city) known.set(cityId, city)
    return city ? ok(city) : fail('not_found', `no city '${cityId}'`)
  }

  return { listCities, getCity }
}
