/**
 * @module Pin rows: pin (bounded per room, in one statement), unpin, a room's pins with their
 * messages, and a room's count (the `joined-*` confirmation carries it).
 */
import { and, count, desc, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from './db.ts'
import {
  flatten,
  type MessageWithAuthor,
  type RoomRef,
  selectWithAuthor,
  visibleTo,
} from './messages.ts'
import { messagePins, messages, type PinRow } from './schema.ts'

const inRoom = (room: RoomRef) =>
  and(eq(messagePins.roomKind, room.kind), eq(messagePins.roomId, room.id))

/**
 * Pins the message unless it is pinned already (`exists`) or its room has `maxPins` already
 * (`full`). One statement, so concurrent pins never pass the bound.
 */
export async function addPin(
  db: Db,
  pin: PinRow,
  maxPins: number
): Promise<'added' | 'exists' | 'full'> {
  const { messageId, roomKind, roomId, pinnedBy, pinnedAt } = pin
  const inserted = await db.all(sql`INSERT INTO message_pins
    (message_id, room_kind, room_id, pinned_by, pinned_at)
    SELECT ${messageId}, ${roomKind}, ${roomId}, ${pinnedBy}, ${pinnedAt}
    WHERE (SELECT count(*) FROM message_pins WHERE room_kind = ${roomKind} AND room_id = ${roomId}) < ${maxPins}
    ON CONFLICT DO NOTHING RETURNING message_id`)
  if (inserted.length === 1) return 'added'
  const [row] = await db
    .select({ messageId: messagePins.messageId })
    .from(messagePins)
    .where(eq(messagePins.messageId, messageId))
  return row ? 'exists' : 'full'
}

/** Unpins; false when it was not pinned. */
export async function removePin(db: Db, messageId: string): Promise<boolean> {
  const removed = await db
    .delete(messagePins)
    .where(eq(messagePins.messageId, messageId))
    .returning({ messageId: messagePins.messageId })
  return removed.length > 0
}

export type PinWithMessage = PinRow & { message: MessageWithAuthor }

/** A room's pins as `viewerId` may see them, newest pin first. */
export async function listPins(db: Db, room: RoomRef, viewerId: string): Promise<PinWithMessage[]> {
  const pins = await db
    .select()
    .from(messagePins)
    .where(inRoom(room))
    .orderBy(desc(messagePins.pinnedAt))
  if (pins.length === 0) return []
  const rows = await selectWithAuthor(db).where(
    and(
      inArray(
        messages.id,
        pins.map((pin) => pin.messageId)
      ),
      visibleTo(viewerId)
    )
  )
  const byId = new Map(rows.map((row) => [row.message.id, flatten(row)]))
  return pins.flatMap((pin) => {
    const message = byId.get(pin.messageId)
    return message ? [{ ...pin, message }] : []
  })
}

/** How many messages of the room are pinned. */
export async function countPins(db: Db, room: RoomRef): Promise<number> {
  const [row] = await db.select({ n: count() }).from(messagePins).where(inRoom(room))
  return row?.n ?? 0
}
