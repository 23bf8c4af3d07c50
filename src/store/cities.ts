/** @module City rows. */
import { asc, eq } from 'drizzle-orm'
import type { Db } from './db.ts'
import { type CityRow, cities } from './schema.ts'

export async function listCities(db: Db): Promise<CityRow[]> {
  return db.select().from(cities).orderBy(asc(cities.name))
}

export async function findCityById(db: Db, id: string): Promise<CityRow | undefined> {
  const [row] = await db.select().from(cities).where(eq(cities.id, id)).limit(1)
  return row
}
