/** @module A room's messages over REST, for cities and chats alike: history pages, sends, pins. */
import type { Context } from 'hono'
import { historyQuery, messageBody } from '../../chat/inputs.ts'
import type { RoomRef } from '../../chat/rooms.ts'
import type { Chat } from '../../chat/service.ts'
import { messageView, pinView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { sendError } from '../middleware/errors.ts'
import { readBody, readQuery } from '../validate.ts'

/**
 * GET …/messages?before=&after=&around=&limit= → `{ messages (oldest first), hasMore }`, and
 * `hasNewer` for an `around` page.
 */
export async function listRoomMessages(c: Context<AppEnv>, chat: Chat, room: RoomRef) {
  const query = readQuery(c, historyQuery)
  if (!query.ok) return sendError(c, query.error)
  const page = await chat.listMessages(c.get('user'), room, query.value)
  if (!page.ok) return sendError(c, page.error)
  const { messages, hasMore, hasNewer } = page.value
  return c.json({
    messages: messages.map(messageView),
    hasMore,
    ...(hasNewer === undefined ? {} : { hasNewer }),
  })
}

/**
 * POST …/messages → 201 `{ message }`, broadcast to the room like the socket event. A repeated
 * clientId answers 200 with the first message and `duplicate: true`, and is not broadcast again.
 */
export async function postRoomMessage(c: Context<AppEnv>, chat: Chat, room: RoomRef) {
  const body = await readBody(c, messageBody)
  if (!body.ok) return sendError(c, body.error)
  const sent = await chat.sendMessage({ actor: c.get('user'), target: room, ...body.value })
  if (!sent.ok) return sendError(c, sent.error)
  const { message, duplicate } = sent.value
  if (duplicate) return c.json({ message: messageView(message), duplicate: true }, 200)
  return c.json({ message: messageView(message) }, 201)
}

/** GET …/pins → `{ pins }`, newest pin first, each with its message. */
export async function listRoomPins(c: Context<AppEnv>, chat: Chat, room: RoomRef) {
  const pins = await chat.listPins(c.get('user'), room)
  if (!pins.ok) return sendError(c, pins.error)
  return c.json({ pins: pins.value.map(pinView) })
}
