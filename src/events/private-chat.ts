/** @module Private chat events (the guide's privateChat.js): members only, plus read receipts. */
import { readRoomPayload } from '../chat/inputs.ts'
import type { ChatNotices } from '../chat/notices.ts'
import { chatRoom, PRIVATE, roomOfPayload, topicOf } from '../chat/rooms.ts'
import { readView } from '../chat/views.ts'
import { ok } from '../errors.ts'
import { on } from './respond.ts'
import { type EventDeps, leaveRoom, registerRoomHandlers, userOf } from './room-handlers.ts'

/** Once per server: the handlers are shared by every socket. */
export function registerPrivateChat(deps: EventDeps, notices: ChatNotices): void {
  registerRoomHandlers(deps, PRIVATE)

  on(deps.io, deps.log, 'mark-messages-read', readRoomPayload, async (socket, input) => {
    const room = roomOfPayload(input)
    const receipt =
      room.kind === 'chat'
        ? await deps.chat.markRead(userOf(socket), room.id)
        : await deps.chat.markCityRead(userOf(socket), room.id)
    if (!receipt.ok) return receipt
    notices.messagesRead(receipt.value)
    return ok(readView(receipt.value))
  })
}

/**
 * Removed members lose the room at once: their sockets on this node leave it and are told so.
 * @example createChatNotices(io, log, (chatId, userIds) => evictMembers(deps, chatId, userIds))
 */
export async function evictMembers(
  deps: EventDeps,
  chatId: string,
  userIds: string[]
): Promise<void> {
  const removed = new Set(userIds)
  const room = chatRoom(chatId)
  const sockets = await deps.io.local.in(topicOf(room)).fetchSockets()
  for (const socket of sockets) {
    if (!removed.has(userOf(socket).id)) continue
    await leaveRoom(socket, deps, room)
    socket.emit(PRIVATE.events.left, { chatId })
  }
}
