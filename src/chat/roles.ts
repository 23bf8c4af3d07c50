/**
 * @module Roles: `user`, `moderator` (every city) or `admin` on the user row, and the moderators
 * of each city, held in memory (the send path asks who moderates on every message) and reloaded
 * when another node changes them (chat/change-feed.ts). Nobody moderates against an admin.
 */
import { fail, ok, type Result } from '../errors.ts'
import { findCityById } from '../store/cities.ts'
import type { Db } from '../store/db.ts'
import * as moderators from '../store/moderation.ts'
import type { UserRole, UserRow } from '../store/schema.ts'
import * as users from '../store/users.ts'
import type { Audit } from './audit.ts'
import type { ChangeFeed } from './change-feed.ts'
import type { UserCache } from './user-cache.ts'

export const isAdmin = (actor: UserRow): boolean => actor.role === 'admin'
/** Global moderators and admins moderate every city. */
const isStaff = (actor: UserRow): boolean => actor.role === 'moderator' || actor.role === 'admin'

export const ADMINS_ONLY = fail('forbidden', 'only an admin may do this')

interface Deps {
  db: Db
  audit: Audit
  feed: ChangeFeed
  userCache: UserCache
}

export function createRoles({ db, audit, feed, userCache }: Deps) {
  /** City id → its moderators' ids. */
  let byCity = new Map<string, Set<string>>()

  async function reloadAll(): Promise<void> {
    const next = new Map<string, Set<string>>()
    for (const row of await moderators.listCityModerators(db)) {
      const set = next.get(row.cityId) ?? new Set<string>()
      set.add(row.userId)
      next.set(row.cityId, set)
    }
    byCity = next
  }
  async function reloadCity(cityId: string): Promise<void> {
    byCity.set(cityId, new Set(await moderators.listModeratorsOfCity(db, cityId)))
  }
  const ready = reloadAll()
  feed.listen((change) => {
    if (change.kind === 'moderators') void reloadCity(change.cityId)
  })

  /** Does `actor` moderate this city (its moderator, a global moderator, an admin)? From memory. */
  const moderates = (actor: UserRow, cityId: string): boolean =>
    isStaff(actor) || (byCity.get(cityId)?.has(actor.id) ?? false)

  /** The cities the actor moderates: every one for global moderators and admins. */
  function moderatedCities(actor: UserRow): 'all' | string[] {
    if (isStaff(actor)) return 'all'
    return [...byCity].filter(([, ids]) => ids.has(actor.id)).map(([cityId]) => cityId)
  }

  /** Everyone who moderates the city: its moderators, global moderators and admins. */
  async function moderatorIdsOf(cityId: string): Promise<string[]> {
    await ready
    return [...new Set([...(byCity.get(cityId) ?? []), ...(await users.listStaffIds(db))])]
  }

  /** An active user to act on, or not_found. */
  async function target(userId: string): Promise<Result<UserRow>> {
    const user = await users.findUserById(db, userId)
    return user?.isActive ? ok(user) : fail('not_found', 'no such user')
  }

  /** Moderation never acts against an admin. */
  async function moderatable(userId: string): Promise<Result<UserRow>> {
    const user = await target(userId)
    if (user.ok && isAdmin(user.value)) return fail('forbidden', 'admins cannot be moderated')
    return user
  }

  async function setRole(actor: UserRow, userId: string, role: UserRole): Promise<Result<UserRow>> {
    if (!isAdmin(actor)) return ADMINS_ONLY
    const found = await target(userId)
    if (!found.ok) return found
    const updated = await users.setUserRole(db, userId, role, Date.now())
    if (!updated) return fail('not_found', 'no such user')
    // This node forgets at once; others within the user cache's lifetime (2 s).
    userCache.forget(userId)
    await audit.record({
      actor,
      action: 'role.set',
      targetUserId: userId,
      details: { from: found.value.role, to: role },
    })
    return ok(updated)
  }

  async function setCityModerator(
    actor: UserRow,
    cityId: string,
    userId: string,
    on: boolean
  ): Promise<Result<null>> {
    if (!isAdmin(actor)) return ADMINS_ONLY
    if (!(await findCityById(db, cityId))) return fail('not_found', `no city '${cityId}'`)
    const found = await target(userId)
    if (!found.ok) return found
    await ready
    if (on) await moderators.addCityModerator(db, cityId, userId, Date.now())
    else await moderators.removeCityModerator(db, cityId, userId)
    await reloadCity(cityId)
    feed.publish({ kind: 'moderators', cityId })
    await audit.record({
      actor,
      action: on ? 'moderator.add' : 'moderator.remove',
      targetUserId: userId,
      cityId,
    })
    return ok(null)
  }

  return {
    moderates,
    moderatedCities,
    moderatorIdsOf,
    moderatable,
    setRole,
    setCityModerator,
    reload: reloadAll,
  }
}

export type Roles = ReturnType<typeof createRoles>
