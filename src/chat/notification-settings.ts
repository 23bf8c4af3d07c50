/**
 * @module Notification settings: per user and room, a level (`all`, `mentions`, `none`) and an
 * optional mute until a time. Without a choice, private chats notify of everything and cities of
 * mentions (and replies) only. The one rule for what a setting lets through is `lets`.
 */
import { ok, type Result } from '../errors.ts'
import type { Db } from '../store/db.ts'
import { saveSetting, settingsOf } from '../store/notifications.ts'
import type {
  NotificationKind,
  NotificationLevel,
  NotificationSettingRow,
  UserRow,
} from '../store/schema.ts'
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

/**
 * @example await settings.setNotificationSetting(user, chatRoom(id), { level: 'mentions', muteUntil: null })
 */
export function createNotificationSettings({ db, access }: { db: Db; access: RoomAccess }) {
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
