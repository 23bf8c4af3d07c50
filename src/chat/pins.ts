/**
 * @module Pins: in a city its moderators pin (chat/roles.ts), in a private chat its owner and
 * admins; at most `MAX_PINS` per room. Pinning and unpinning reach the room through the room
 * stream (`*-message-pinned` / `*-message-unpinned`); a deleted message leaves the pins.
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Db } from '../store/db.ts'
import type { MessageWithAuthor } from '../store/messages.ts'
import * as store from '../store/pins.ts'
import type { UserRow } from '../store/schema.ts'
import type { Messages } from './messages.ts'
import { withReactions } from './reactions.ts'
import type { Roles } from './roles.ts'
import type { RoomAccess } from './room-access.ts'
import type { RoomEvent, RoomStream } from './room-stream.ts'
import { kindOf, type RoomRef, roomOfMessage } from './rooms.ts'
import { pinView, unpinView } from './views.ts'

/** Pinned messages one room may have. */
const MAX_PINS = 20

/**
 * The event of a message leaving the pins (unpinned by `userId`, or deleted by them).
 * @example await stream.append(unpinned(message, actor.id))
 */
export function unpinned(message: MessageWithAuthor, userId: string): RoomEvent {
  const room = roomOfMessage(message)
  return { room, event: kindOf(room).events.unpinned, args: [unpinView(room, message.id, userId)] }
}

interface Deps {
  db: Db
  access: RoomAccess
  stream: RoomStream
  messages: Messages
  roles: Roles
  now?: () => number
}

/**
 * @example
 * const pins = createPins({ db, access, stream, messages, roles })
 * await pins.pinMessage(moderator, messageId) // ok → { pinned: true, … }
 */
export function createPins({ db, access, stream, messages, roles, now = Date.now }: Deps) {
  /** The message, if the actor may pin or unpin it: a moderator of its city, a chat's owner or admin. */
  async function target(actor: UserRow, messageId: string): Promise<Result<MessageWithAuthor>> {
    const found = await messages.findVisibleMessage(actor, messageId)
    if (!found.ok) return found
    const message = found.value
    const room = roomOfMessage(message)
    const entry = await access.canEnter(actor, room, 'write')
    if (!entry.ok) return entry
    const allowed =
      room.kind === 'city'
        ? roles.moderates(actor, room.id)
        : entry.value.role === 'owner' || entry.value.role === 'admin'
    if (!allowed) {
      return fail(
        'forbidden',
        room.kind === 'city'
          ? 'only a moderator of this city may pin'
          : 'only the owner or an admin of this chat may pin'
      )
    }
    return ok(message)
  }

  /** Pins; resolves once the room heard of it. Pinning a pinned message changes nothing. */
  async function pinMessage(
    actor: UserRow,
    messageId: string
  ): Promise<Result<{ pin: store.PinWithMessage; changed: boolean }>> {
    const found = await target(actor, messageId)
    if (!found.ok) return found
    const message = found.value
    if (message.isDeleted) return fail('not_found', 'this message was deleted')
    // Only its author (and moderators) see a shadowed message: pinning would show it to all.
    if (message.shadowed) return fail('forbidden', 'this message cannot be pinned')
    const room = roomOfMessage(message)
    const pin = {
      messageId,
      roomKind: room.kind,
      roomId: room.id,
      pinnedBy: actor.id,
      pinnedAt: now(),
    }
    const added = await store.addPin(db, pin, MAX_PINS)
    if (added === 'full')
      return fail('conflict', `a room has at most ${MAX_PINS} pinned messages`, { limit: MAX_PINS })
    if (added === 'exists') {
      const existing = (await store.listPins(db, room, actor.id)).find(
        (p) => p.messageId === messageId
      )
      if (existing) return ok({ pin: existing, changed: false })
    }
    const [shown] = await withReactions(db, [message], '')
    const made = { ...pin, message: shown ?? message }
    await stream.append({ room, event: kindOf(room).events.pinned, args: [pinView(made)] })
    return ok({ pin: made, changed: true })
  }

  /** Unpins; resolves once the room heard of it. Unpinning what is not pinned changes nothing. */
  async function unpinMessage(
    actor: UserRow,
    messageId: string
  ): Promise<Result<{ messageId: string; changed: boolean }>> {
    const found = await target(actor, messageId)
    if (!found.ok) return found
    const changed = await store.removePin(db, messageId)
    if (changed) await stream.append(unpinned(found.value, actor.id))
    return ok({ messageId, changed })
  }

  /** A room's pins, newest first, as the actor may see them. */
  async function listPins(actor: UserRow, room: RoomRef): Promise<Result<store.PinWithMessage[]>> {
    const entry = await access.canEnter(actor, room, 'read')
    if (!entry.ok) return entry
    const pins = await store.listPins(db, room, actor.id)
    const shown = await withReactions(
      db,
      pins.map((pin) => pin.message),
      actor.id
    )
    return ok(pins.map((pin, i) => ({ ...pin, message: shown[i] ?? pin.message })))
  }

  return {
    pinMessage,
    unpinMessage,
    listPins,
    /** How many messages of the room are pinned (`joined-*` carries it). */
    pinnedCount: (room: RoomRef) => store.countPins(db, room),
  }
}
