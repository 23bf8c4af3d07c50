/** @module City rows, and each user's read position in a city. */
import { asc, eq } from 'drizzle-orm'
import type { Db } from './db.ts'
import { type CityRow, cities, cityReads } from './schema.ts'

export async function listCities(db: Db): Promise<CityRow[]> {
  return db.select().from(cities).orderBy(asc(cities.name))
}

export async function findCityById(db: Db, id: string): Promise<CityRow | undefined> {
  const [row] = await db.select().from(cities).where(eq(cities.id, id)).limit(1)
  return row
}

/** The user's read positions, by city id (cities never read have none). */
export async function listCityReads(db: Db, userId: string): Promise<Map<string, string | null>> {
  const rows = await db
    .select({ cityId: cityReads.cityId, lastReadMessageId: cityReads.lastReadMessageId })
    .from(cityReads)
    .where(eq(cityReads.userId, userId))
  return new Map(rows.map((row) => [row.cityId, row.lastReadMessageId]))
}

export async function setCityReadPosition(
  db: Db,
  userId: string,
  cityId: string,
  lastReadMessageId: string | null,
  lastReadAt: number
): Promise<void> {
  await db
    .insert(cityReads)
    .values({ userId, cityId, lastReadMessageId, lastReadAt })
    .onConflictDoUpdate({
      target: [cityReads.userId, cityReads.cityId],
      set: { lastReadMessageId, lastReadAt },
    })
}

export async function insertCity(
  db: Db,
  city: { id: string; name: string; country: string; createdAt: number }
): Promise<CityRow | undefined> {
  const [row] = await db.insert(cities).values(city).onConflictDoNothing().returning()
  return row
}

export async function updateCity(
  db: Db,
  id: string,
  changes: Partial<Pick<CityRow, 'name' | 'archived' | 'slowModeSeconds'>>
): Promise<CityRow | undefined> {
  const [row] = await db.update(cities).set(changes).where(eq(cities.id, id)).returning()
  return row
}
