/**
 * @module Cities: the public city rooms. Any active user may read and join any existing city;
 * each user has a read position per city, from which unread and mention counts are counted.
 */
import { fail, ok, type Result } from '../errors.ts'
import * as store from '../store/cities.ts'
import type { Db } from '../store/db.ts'
import { countUnreadMentions, countUnreadMessages, latestMessageId } from '../store/messages.ts'
import type { CityRow, UserRow } from '../store/schema.ts'
import { cityRoom } from './rooms.ts'
import type { ReadReceipt } from './views.ts'

/** A city with the caller's counts: unreadCount is null before their first read position. */
export interface CityWithCounts {
  city: CityRow
  unreadCount: number | null
  mentionCount: number
}

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

  /**
   * Every city with the caller's unread count (from their read position; null without one) and
   * unread mentions (since the read position, or all of them without one).
   */
  async function listCitiesFor(actor: UserRow): Promise<Result<CityWithCounts[]>> {
    const [cities, reads] = await Promise.all([
      store.listCities(db),
      store.listCityReads(db, actor.id),
    ])
    return ok(
      await Promise.all(
        cities.map(async (city) => {
          const room = cityRoom(city.id)
          const read = reads.get(city.id) ?? null
          const [unreadCount, mentionCount] = await Promise.all([
            reads.has(city.id) ? countUnreadMessages(db, room, actor.id, read) : null,
            countUnreadMentions(db, room, actor.id, read),
          ])
          return { city, unreadCount, mentionCount }
        })
      )
    )
  }

  /** Moves the caller's read position in a city to its newest message. */
  async function markCityRead(actor: UserRow, cityId: string): Promise<Result<ReadReceipt>> {
    const city = await getCity(cityId)
    if (!city.ok) return city
    const readAt = Date.now()
    const lastReadMessageId = await latestMessageId(db, cityRoom(cityId))
    await store.setCityReadPosition(db, actor.id, cityId, lastReadMessageId, readAt)
    return ok({ room: cityRoom(cityId), userId: actor.id, readAt, lastReadMessageId })
  }

  return { listCities, getCity, listCitiesFor, markCityRead }
}
