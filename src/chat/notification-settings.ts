/**
 * @module Notification settings: per user and room, a level (`all`, `mentions`, `none`) and an
 * optional mute until a time. Without a choice, private chats notify of everything and cities of
 * mentions (and replies) only. The one rule for what a setting lets through is `lets`. Who chose
 * `all` in each city is held in memory (`CityAllChoosers`), so a plain city message costs the
 * notifier no query; the change feed keeps every node's copy in step.
 */
import { ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import { listCityAllChoosers, saveSetting, settingsOf } from '../store/notifications.ts'
import type {
  NotificationKind,
  NotificationLevel,
  NotificationSettingRow,
  UserRow,
} from '../store/schema.ts'
import type { ChangeFeed } from './change-feed.ts'
import type { RoomAccess } from './room-access.ts'
import type { RoomRef } from './rooms.ts'

export interface NotificationSetting {
  level: NotificationLevel
  /** ms since the epoch, or null: not muted. */
  muteUntil: number | null
}

/** The defaults: everything from private chats, mentions from cities. */
const defaultSetting = (room: RoomRef): NotificationSetting => ({
  level: room.kind === 'chat' ? 'all' : 'mentions',
  muteUntil: null,
})

/** Does this setting let a notification of `kind` through at `now`? */
export function lets(setting: NotificationSetting, kind: NotificationKind, now: number): boolean {
  if (setting.muteUntil !== null && setting.muteUntil > now) return false
  if (setting.level === 'none') return false
  if (setting.level === 'mentions') return kind !== 'message'
  return true
}

const NOBODY: ReadonlySet<string> = new Set()
/** How often the whole map is read again (a change feed message a dropped link lost). */
const RELOAD_MS = 60_000

/**
 * Who chose `all` in each city, in memory: loaded once, updated by this node's changes and by the
 * change feed for the other nodes' (and read again every minute). A user it still holds after
 * they changed away costs a lookup and is filtered by the stored setting; one it misses would
 * miss a notification, so every change to a city setting goes through `changed`.
 * @example const choosers = createCityAllChoosers({ db, feed, log }); choosers.of('mumbai')
 */
export function createCityAllChoosers({
  db,
  feed,
  log,
}: {
  db: Db
  feed: ChangeFeed
  log: Logger
}) {
  let byCity = new Map<string, Set<string>>()
  let loaded = false

  function put(cityId: string, userId: string, wantsAll: boolean): void {
    let users = byCity.get(cityId)
    if (wantsAll) {
      if (!users) byCity.set(cityId, (users = new Set()))
      users.add(userId)
    } else if (users) {
      users.delete(userId)
      if (users.size === 0) byCity.delete(cityId)
    }
  }

  async function reloadAll(): Promise<void> {
    const next = new Map<string, Set<string>>()
    for (const { cityId, userId } of await listCityAllChoosers(db)) {
      let users = next.get(cityId)
      if (!users) next.set(cityId, (users = new Set()))
      users.add(userId)
    }
    byCity = next
    loaded = true
  }

  async function reloadOne(cityId: string, userId: string): Promise<void> {
    const [row] = await settingsOf(db, 'city', cityId, [userId])
    put(cityId, userId, row?.level === 'all')
  }

  const ready = reloadAll()
  ready.catch((error) => log.error('reading notification settings failed', { error }))
  feed.listen((change) => {
    if (change.kind !== 'notification-setting') return
    reloadOne(change.cityId, change.userId).catch((error) =>
      log.error('reading a notification setting failed', { error })
    )
  })
  const timer = setInterval(() => {
    reloadAll().catch((error) => log.error('reading notification settings failed', { error }))
  }, RELOAD_MS)
  timer.unref?.()

  return {
    /** Whether the map is in memory (before that, `whoWantsAll` waits for it). */
    get loaded(): boolean {
      return loaded
    },
    /** Those who chose `all` in the city, once loaded (check `loaded`, or await `whoWantsAll`). */
    of(cityId: string): ReadonlySet<string> {
      return byCity.get(cityId) ?? NOBODY
    },
    /** The cities where someone chose `all`, once loaded. */
    cities(): string[] {
      return [...byCity].flatMap(([cityId, users]) => (users.size > 0 ? [cityId] : []))
    },
    async whoWantsAll(cityId: string): Promise<ReadonlySet<string>> {
      if (!loaded) await ready
      return byCity.get(cityId) ?? NOBODY
    },
    /** This node saved a city setting: applied here, and told to the other nodes. */
    changed(cityId: string, userId: string, level: NotificationLevel): void {
      put(cityId, userId, level === 'all')
      feed.publish({ kind: 'notification-setting', cityId, userId })
    },
    close(): void {
      clearInterval(timer)
    },
  }
}

export type CityAllChoosers = ReturnType<typeof createCityAllChoosers>

/**
 * @example await settings.setNotificationSetting(user, chatRoom(id), { level: 'mentions', muteUntil: null })
 */
export function createNotificationSettings({
  db,
  access,
  choosers,
}: {
  db: Db
  access: RoomAccess
  choosers: CityAllChoosers
}) {
  /** The caller's setting for a room they may enter. */
  async function get(actor: UserRow, room: RoomRef): Promise<Result<NotificationSetting>> {
    const entry = await access.canEnter(actor, room)
    if (!entry.ok) return entry
    const [row] = await settingsOf(db, room.kind, room.id, [actor.id])
    return ok(row ? { level: row.level, muteUntil: row.muteUntil } : defaultSetting(room))
  }

  async function set(
    actor: UserRow,
    room: RoomRef,
    setting: NotificationSetting
  ): Promise<Result<NotificationSetting>> {
    const entry = await access.canEnter(actor, room)
    if (!entry.ok) return entry
    const row: NotificationSettingRow = {
      userId: actor.id,
      roomKind: room.kind,
      roomId: room.id,
      ...setting,
    }
    await saveSetting(db, row)
    if (room.kind === 'city') choosers.changed(room.id, actor.id, setting.level)
    return ok(setting)
  }

  return { getNotificationSetting: get, setNotificationSetting: set }
}

/** Each user's setting for one room, defaults filled in. */
export async function settingsForUsers(
  db: Db,
  room: RoomRef,
  userIds: readonly string[]
): Promise<Map<string, NotificationSetting>> {
  const rows = await settingsOf(db, room.kind, room.id, userIds)
  const found = new Map(rows.map((row) => [row.userId, row]))
  return new Map(
    userIds.map((id) => {
      const row = found.get(id)
      return [id, row ? { level: row.level, muteUntil: row.muteUntil } : defaultSetting(room)]
    })
  )
}
