/**
 * @module Room access: the one rule for who may enter a room — any active user an existing city
 * that is not archived and that has not banned them, only its members a private chat. Joining,
 * sending, reading history, editing and resuming a session all ask it; what they mean to do there
 * (`read`, `enter`, `write`) decides which refusals apply: an archived city keeps its history
 * readable, a ban refuses everything, a mute refuses writing only.
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Db } from '../store/db.ts'
import type { ChatRole, CityRow, RestrictionRow, UserRow } from '../store/schema.ts'
import { requireChatMember } from './chats.ts'
import type { Cities } from './cities.ts'
import type { Moderation } from './moderation.ts'
import type { RoomRef } from './rooms.ts'

/** What entering tells: the room's display name, and the actor's role in a private chat. */
export interface Entry {
  name: string
  role: ChatRole | null
  /** A city's slow mode (seconds between two messages; 0 off), as `joined-city-chat` tells it. */
  slowModeSeconds: number
  /** The actor's mute in this city (they may read, not send), as `joined-city-chat` tells it. */
  muted: Pick<RestrictionRow, 'until' | 'reason'> | null
}

/** `read`: history, reports; `enter`: join, resume; `write`: send, edit, delete. */
export type Purpose = 'read' | 'enter' | 'write'

/**
 * @example const entry = await access.canEnter(user, cityRoom('mumbai')) // ok → { name: 'Mumbai', role: null }
 */
export function createRoomAccess({
  db,
  cities,
  moderation,
}: {
  db: Db
  cities: Cities
  moderation: Moderation
}) {
  /**
   * `not_found` for a city or chat that does not exist, `not_member` outside a private chat;
   * in a city `archived` (but for reading), `banned`, and `muted` for writing. A city already in
   * the cities' cache is answered at once, without a promise (the send path's, issue 20);
   * awaiting the answer works either way.
   */
  function canEnter(
    actor: UserRow,
    room: RoomRef,
    purpose: Purpose = 'enter'
  ): Promise<Result<Entry>> | Result<Entry> {
    if (room.kind !== 'city') return canEnterChat(actor, room.id)
    const cached = cities.cachedCity(room.id)
    return cached ? cityEntry(actor, cached, purpose) : canEnterCity(actor, room.id, purpose)
  }

  async function canEnterCity(
    actor: UserRow,
    cityId: string,
    purpose: Purpose
  ): Promise<Result<Entry>> {
    const city = await cities.getCity(cityId)
    return city.ok ? cityEntry(actor, city.value, purpose) : city
  }

  function cityEntry(actor: UserRow, city: CityRow, purpose: Purpose): Result<Entry> {
    if (city.archived && purpose !== 'read')
      return fail('archived', `${city.name} is archived: its history stays readable`)
    const refused = moderation.refusal(city.id, actor.id, purpose === 'write')
    if (!refused.ok) return refused
    return ok({
      name: city.name,
      role: null,
      slowModeSeconds: city.slowModeSeconds,
      muted: moderation.muteOf(city.id, actor.id) ?? null,
    })
  }

  async function canEnterChat(actor: UserRow, chatId: string): Promise<Result<Entry>> {
    const membership = await requireChatMember(db, actor, chatId)
    if (!membership.ok) return membership
    return ok({
      name: membership.value.chat.name ?? 'private',
      role: membership.value.member.role,
      slowModeSeconds: 0,
      muted: null,
    })
  }

  return { canEnter }
}

export type RoomAccess = ReturnType<typeof createRoomAccess>
