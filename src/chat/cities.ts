/**
 * @module Cities: the public city rooms. Each user has a read position per city, from which
 * unread and mention counts are counted. Admins create, rename and archive cities (an archived
 * city keeps its history but takes no joins or messages, chat/room-access.ts) and set their
 * message retention (chat/retention.ts); moderators set
 * slow mode. Rows are kept in memory (every send reads its city) and reloaded when another node
 * changes one (chat/change-feed.ts), plus a periodic reload for changes a dropped Redis link
 * missed.
 */
import { fail, ok, type Result } from '../errors.ts'
import * as store from '../store/cities.ts'
import type { Db } from '../store/db.ts'
import { countUnreadMentions, countUnreadMessages, latestMessageId } from '../store/messages.ts'
import type { CityRow, UserRow } from '../store/schema.ts'
import type { Audit } from './audit.ts'
import type { ChangeFeed } from './change-feed.ts'
import { ADMINS_ONLY, isAdmin, type Roles } from './roles.ts'
import { cityRoom } from './rooms.ts'
import type { ReadReceipt } from './views.ts'

/** A city with the caller's counts: unreadCount is null before their first read position. */
export interface CityWithCounts {
  city: CityRow
  unreadCount: number | null
  mentionCount: number
  /** Does the caller moderate it (its moderator, a global moderator, an admin)? */
  canModerate: boolean
}

interface Deps {
  db: Db
  audit: Audit
  feed: ChangeFeed
  roles: Roles
}

export function createCities({ db, audit, feed, roles }: Deps) {
  /** Found rows; a miss still asks the database (a city another node just created). */
  const known = new Map<string, CityRow>()
  feed.listen((change) => {
    if (change.kind === 'city') void reload(change.cityId)
  })

  async function reload(cityId: string): Promise<CityRow | undefined> {
    const city = await store.findCityById(db, cityId)
    if (city) known.set(cityId, city)
    else known.delete(cityId)
    return city
  }

  /** Every known row read again (what a missed feed message changed). */
  async function reloadAll(): Promise<void> {
    for (const city of await store.listCities(db)) known.set(city.id, city)
  }

  async function listCities(): Promise<Result<CityRow[]>> {
    return ok(await store.listCities(db))
  }

  /** @example const city = await chat.getCity('mumbai') // ok → { id, name: 'Mumbai', ... } */
  async function getCity(cityId: string): Promise<Result<CityRow>> {
    const cached = known.get(cityId)
    if (cached) return ok(cached)
    const city = await reload(cityId)
    return city ? ok(city) : fail('not_found', `no city '${cityId}'`)
  }

  /**
   * Every city with the caller's unread count (from their read position; null without one),
   * unread mentions (since the read position, or all of them without one), and whether the
   * caller moderates it (so a client knows where to offer moderator actions).
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
          return { city, unreadCount, mentionCount, canModerate: roles.moderates(actor, city.id) }
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

  /** One city as the caller sees it: the row and whether they moderate it. */
  async function getCityFor(
    actor: UserRow,
    cityId: string
  ): Promise<Result<{ city: CityRow; canModerate: boolean }>> {
    const city = await getCity(cityId)
    if (!city.ok) return city
    return ok({ city: city.value, canModerate: roles.moderates(actor, cityId) })
  }

  /** The cached row only (the send path's synchronous read), after getCity loaded it. */
  const cachedCity = (cityId: string): CityRow | undefined => known.get(cityId)

  async function changed(actor: UserRow, city: CityRow, action: string, details: object) {
    known.set(city.id, city)
    feed.publish({ kind: 'city', cityId: city.id })
    await audit.record({ actor, action, cityId: city.id, details: { ...details } })
  }

  async function createCity(
    actor: UserRow,
    input: { id: string; name: string; country: string }
  ): Promise<Result<CityRow>> {
    if (!isAdmin(actor)) return ADMINS_ONLY
    const city = await store.insertCity(db, { ...input, createdAt: Date.now() })
    if (!city) return fail('conflict', `city '${input.id}' already exists`)
    await changed(actor, city, 'city.create', input)
    return ok(city)
  }

  async function updateCity(
    actor: UserRow,
    cityId: string,
    changes: {
      name?: string | undefined
      archived?: boolean | undefined
      retentionDays?: number | null | undefined
    }
  ): Promise<Result<CityRow>> {
    if (!isAdmin(actor)) return ADMINS_ONLY
    const set = {
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.archived !== undefined ? { archived: changes.archived } : {}),
      ...(changes.retentionDays !== undefined ? { retentionDays: changes.retentionDays } : {}),
    }
    const city = await store.updateCity(db, cityId, set)
    if (!city) return fail('not_found', `no city '${cityId}'`)
    await changed(actor, city, 'city.update', set)
    return ok(city)
  }

  /** Its moderators set slow mode: seconds between two messages of one member (0 is off). */
  async function setSlowMode(
    actor: UserRow,
    cityId: string,
    slowModeSeconds: number
  ): Promise<Result<CityRow>> {
    const found = await getCity(cityId)
    if (!found.ok) return found
    if (!roles.moderates(actor, cityId))
      return fail('forbidden', 'only a moderator of this city may do this')
    const city = await store.updateCity(db, cityId, { slowModeSeconds })
    if (!city) return fail('not_found', `no city '${cityId}'`)
    await changed(actor, city, 'city.slow_mode', { slowModeSeconds })
    return ok(city)
  }

  return {
    listCities,
    getCity,
    getCityFor,
    listCitiesFor,
    markCityRead,
    cachedCity,
    createCity,
    updateCity,
    setSlowMode,
    reloadAll,
  }
}

export type Cities = ReturnType<typeof createCities>
