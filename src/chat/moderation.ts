/**
 * @module Moderation in a city: restrictions (ban, mute, shadow, each maybe `until` a time, after
 * which it ends by itself), slow mode, and the word filter. The send path reads all of it from
 * memory; a change made on one node reaches the others through the change feed, each reloading
 * that user's restrictions or the filter from the database (and everything every minute, for a
 * message a dropped Redis link lost). A ban makes the user's sockets leave the room on every node
 * at once, through the outlet the realtime layer plugs in (events/moderation-outlet.ts).
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import * as store from '../store/moderation.ts'
import type {
  CityRow,
  FilterAction,
  RestrictionKind,
  RestrictionRow,
  UserRow,
} from '../store/schema.ts'
import type { Audit } from './audit.ts'
import type { ChangeFeed } from './change-feed.ts'
import type { Cities } from './cities.ts'
import { type RateLimitOptions, type SharedRateLimits, sharedOrLocal } from './rate-limit.ts'
import { ADMINS_ONLY, isAdmin, type Roles } from './roles.ts'

/** Where moderation reaches live sockets (the realtime layer, events/moderation-outlet.ts). */
export interface ModerationOutlet {
  /**
   * This node's sockets of `userId` leave the city's room and hear `left-city-chat` why: until
   * when, and the moderator's reason.
   */
  banned(cityId: string, userId: string, ban: Pick<RestrictionRow, 'until' | 'reason'>): void
  /** `report-created` to these users' sockets, on every node. */
  reportCreated(
    userIds: string[],
    payload: { reportId: string; messageId: string } & ({ cityId: string } | { chatId: string })
  ): void
}

const NO_OUTLET: ModerationOutlet = { banned() {}, reportCreated() {} }

/** Terms and content are compared after NFKC and lower-casing, so look-alike forms match. */
const normalise = (text: string): string => text.normalize('NFKC').toLowerCase()

const escape = (term: string) => term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** One pattern for a set of terms, matching whole words only (letters, digits, _ around none). */
function wordPattern(terms: string[]): RegExp | null {
  if (terms.length === 0) return null
  return new RegExp(
    `(?<![\\p{L}\\p{N}_])(?:${terms.map(escape).join('|')})(?![\\p{L}\\p{N}_])`,
    'u'
  )
}

export type Screened = { action: 'pass' } | { action: 'block' | 'flag'; term: string }

interface Deps {
  db: Db
  audit: Audit
  feed: ChangeFeed
  roles: Roles
  cities: Cities
  log: Logger
  /** Slow mode intervals held across nodes (scale-out); this node's own without. */
  sharedLimits?: SharedRateLimits | undefined
  now?: () => number
}

const key = (cityId: string, userId: string) => `${cityId}\u0000${userId}`

export function createModeration({
  db,
  audit,
  feed,
  roles,
  cities,
  log,
  sharedLimits,
  now = Date.now,
}: Deps) {
  let outlet = NO_OUTLET
  /** city + user → that user's restrictions there, by kind. */
  let restricted = new Map<string, RestrictionRow[]>()
  let filter: Array<{ term: string; action: FilterAction }> = []
  let blockPattern: RegExp | null = null
  let flagPattern: RegExp | null = null

  function setFilter(terms: Array<{ term: string; action: FilterAction }>): void {
    filter = terms
    blockPattern = wordPattern(terms.filter((t) => t.action === 'block').map((t) => t.term))
    flagPattern = wordPattern(terms.filter((t) => t.action === 'flag').map((t) => t.term))
  }

  async function reloadAll(): Promise<void> {
    const next = new Map<string, RestrictionRow[]>()
    for (const row of await store.listRestrictions(db)) {
      const k = key(row.cityId, row.userId)
      next.set(k, [...(next.get(k) ?? []), row])
    }
    restricted = next
    setFilter(await store.listWordFilter(db))
  }

  /** One user's restrictions in one city read again; a ban in force evicts this node's sockets. */
  async function reloadUser(cityId: string, userId: string): Promise<void> {
    const rows = await store.listUserRestrictions(db, cityId, userId)
    if (rows.length > 0) restricted.set(key(cityId, userId), rows)
    else restricted.delete(key(cityId, userId))
    const ban = active(cityId, userId, 'ban')
    if (ban) outlet.banned(cityId, userId, ban)
  }

  const ready = reloadAll()
  const timer = setInterval(() => {
    Promise.all([reloadAll(), cities.reloadAll(), roles.reload()]).catch((error) =>
      log.error('reloading moderation state failed', { error })
    )
  }, 60_000)
  timer.unref?.()
  feed.listen((change) => {
    const done =
      change.kind === 'restrictions'
        ? reloadUser(change.cityId, change.userId)
        : change.kind === 'filter'
          ? store.listWordFilter(db).then(setFilter)
          : undefined
    done?.catch((error) => log.error('applying a moderation change failed', { error, change }))
  })

  /** The user's restriction of this kind in the city, if one is in force now (memory only). */
  function active(
    cityId: string,
    userId: string,
    kind: RestrictionKind
  ): RestrictionRow | undefined {
    const rows = restricted.get(key(cityId, userId))
    if (!rows) return undefined
    const row = rows.find((r) => r.kind === kind)
    return row && (row.until === null || row.until > now()) ? row : undefined
  }

  const untilView = (until: number | null) =>
    until === null ? null : new Date(until).toISOString()

  /**
   * May the user be in the city at all (`ban`), and send there (`mute`)? The room access rule
   * asks this (chat/room-access.ts); memory only.
   */
  function refusal(cityId: string, userId: string, write: boolean): Result<null> {
    if (restricted.size === 0) return ok(null)
    const ban = active(cityId, userId, 'ban')
    if (ban)
      return fail('banned', 'you are banned from this city', {
        until: untilView(ban.until),
        reason: ban.reason,
      })
    if (!write) return ok(null)
    const mute = active(cityId, userId, 'mute')
    if (mute)
      return fail('muted', 'you are muted in this city', {
        until: untilView(mute.until),
        reason: mute.reason,
      })
    return ok(null)
  }

  /** The user's mute in the city, if one is in force (joining tells the user; memory only). */
  const muteOf = (cityId: string, userId: string): RestrictionRow | undefined =>
    restricted.size > 0 ? active(cityId, userId, 'mute') : undefined

  /** Is the author shadow-restricted here (their new messages reach only themselves)? */
  const isShadowed = (cityId: string, userId: string): boolean =>
    restricted.size > 0 && active(cityId, userId, 'shadow') !== undefined

  /** What the word filter says of a message's content (memory only; nothing to do without terms). */
  function screen(content: string): Screened {
    if (!blockPattern && !flagPattern) return { action: 'pass' }
    const text = normalise(content)
    const blocked = blockPattern?.exec(text)
    if (blocked) return { action: 'block', term: blocked[0] }
    const flagged = flagPattern?.exec(text)
    return flagged ? { action: 'flag', term: flagged[0] } : { action: 'pass' }
  }

  /** One limiter per interval length: a bucket of one token refilled once per interval. */
  const slowLimiters = new Map<number, ReturnType<typeof sharedOrLocal>>()
  /** Slow mode: a member's second message within the interval waits; moderators are exempt. */
  async function slowMode(actor: UserRow, city: CityRow): Promise<Result<null>> {
    const seconds = city.slowModeSeconds
    if (seconds === 0 || roles.moderates(actor, city.id)) return ok(null)
    let limiter = slowLimiters.get(seconds)
    if (!limiter) {
      const options: RateLimitOptions = {
        burst: 1,
        refill: 1,
        perMs: seconds * 1_000,
        message: 'slow mode',
        now,
      }
      limiter = sharedOrLocal(sharedLimits?.(`slow-${seconds}`, options), options)
      slowLimiters.set(seconds, limiter)
    }
    const taken = await limiter.take(key(city.id, actor.id))
    if (taken.ok) return taken
    const retryAfterMs =
      (taken.error.details as { retryAfterMs?: number } | undefined)?.retryAfterMs ??
      seconds * 1_000
    return fail('slow_mode', `this city is in slow mode: one message every ${seconds} s`, {
      retryAfterMs,
      slowModeSeconds: seconds,
    })
  }

  async function requireModerator(actor: UserRow, cityId: string): Promise<Result<CityRow>> {
    const city = await cities.getCity(cityId)
    if (!city.ok) return city
    return roles.moderates(actor, cityId)
      ? city
      : fail('forbidden', 'only a moderator of this city may do this')
  }

  async function restrict(
    actor: UserRow,
    cityId: string,
    input: {
      userId: string
      kind: RestrictionKind
      until?: number | undefined
      reason?: string | undefined
    }
  ): Promise<Result<RestrictionRow>> {
    const city = await requireModerator(actor, cityId)
    if (!city.ok) return city
    const target = await roles.moderatable(input.userId)
    if (!target.ok) return target
    if (input.until !== undefined && input.until <= now())
      return fail('invalid_input', 'until must be in the future')
    await ready
    const row: RestrictionRow = {
      cityId,
      userId: input.userId,
      kind: input.kind,
      until: input.until ?? null,
      reason: input.reason ?? null,
      createdBy: actor.id,
      createdAt: now(),
    }
    await store.putRestriction(db, row)
    await reloadUser(cityId, input.userId)
    feed.publish({ kind: 'restrictions', cityId, userId: input.userId })
    await audit.record({
      actor,
      action: `restriction.${input.kind}`,
      targetUserId: input.userId,
      cityId,
      reason: input.reason,
      details: { until: row.until },
    })
    return ok(row)
  }

  /** The restrictions in force in the city (ended ones are left out). */
  async function listRestrictions(
    actor: UserRow,
    cityId: string
  ): Promise<Result<RestrictionRow[]>> {
    const city = await requireModerator(actor, cityId)
    if (!city.ok) return city
    const at = now()
    return ok(
      (await store.listRestrictions(db, cityId)).filter((r) => r.until === null || r.until > at)
    )
  }

  async function lift(actor: UserRow, cityId: string, userId: string): Promise<Result<null>> {
    const city = await requireModerator(actor, cityId)
    if (!city.ok) return city
    const gone = await store.deleteUserRestrictions(db, cityId, userId)
    if (gone === 0) return fail('not_found', 'that user has no restriction here')
    await reloadUser(cityId, userId)
    feed.publish({ kind: 'restrictions', cityId, userId })
    await audit.record({ actor, action: 'restriction.lift', targetUserId: userId, cityId })
    return ok(null)
  }

  async function getWordFilter(actor: UserRow): Promise<Result<typeof filter>> {
    if (!isAdmin(actor)) return ADMINS_ONLY
    await ready
    return ok(filter)
  }

  async function setWordFilter(
    actor: UserRow,
    terms: Array<{ term: string; action: FilterAction }>
  ): Promise<Result<typeof filter>> {
    if (!isAdmin(actor)) return ADMINS_ONLY
    const normalised = terms.map((t) => ({ term: normalise(t.term.trim()), action: t.action }))
    await store.replaceWordFilter(db, normalised)
    setFilter(await store.listWordFilter(db))
    feed.publish({ kind: 'filter' })
    await audit.record({ actor, action: 'word_filter.set', details: { terms: normalised.length } })
    return ok(filter)
  }

  return {
    /** Plugs in the realtime side (events/moderation-outlet.ts). */
    attach(next: ModerationOutlet): void {
      outlet = next
    },
    outlet: () => outlet,
    ready,
    refusal,
    muteOf,
    isShadowed,
    screen,
    slowMode,
    restrict,
    listRestrictions,
    lift,
    getWordFilter,
    setWordFilter,
    close() {
      clearInterval(timer)
    },
  }
}

export type Moderation = ReturnType<typeof createModeration>
