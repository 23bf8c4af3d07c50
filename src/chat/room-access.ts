/**
 * @module Room access: the one rule for who may enter a room — any active user an existing city,
 * only its members a private chat. Joining, sending, reading history, editing and resuming a
 * session all ask it.
 */
import { ok, type Result } from '../errors.ts'
import type { ChatRole, UserRow } from '../store/schema.ts'
import type { createChats } from './chats.ts'
import type { createCities } from './cities.ts'
import type { RoomRef } from './rooms.ts'

/** What entering tells: the room's display name, and the actor's role in a private chat. */
export interface Entry {
  name: string
  role: ChatRole | null
}

/**
 * @example const entry = await access.canEnter(user, cityRoom('mumbai')) // ok → { name: 'Mumbai', role: null }
 */
export function createRoomAccess({
  cities,
  chats,
}: {
  cities: ReturnType<typeof createCities>
  chats: ReturnType<typeof createChats>
}) {
  /** `not_found` for a city or chat that does not exist, `not_member` outside a private chat. */
  async function canEnter(actor: UserRow, room: RoomRef): Promise<Result<Entry>> {
    if (room.kind === 'city') {
      const city = await cities.getCity(room.id)
      return city.ok ? ok({ name: city.value.name, role: null }) : city
    }
    const membership = await chats.requireChatMember(actor, room.id)
    if (!membership.ok) return membership
    return ok({ name: membership.value.chat.name ?? 'private', role: membership.value.member.role })
  }

  return { canEnter }
}

export type RoomAccess = ReturnType<typeof createRoomAccess>
