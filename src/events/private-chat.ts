/** @module Private chat events (the guide's privateChat.js): members only, plus read receipts. */
import { chatRoomPayload } from '../chat/inputs.ts'
import { readView } from '../chat/views.ts'
import { ok } from '../errors.ts'
import { on } from './respond.ts'
import { type EventDeps, leaveRoom, registerRoomHandlers, userOf } from './room-handlers.ts'
import { PRIVATE } from './rooms.ts'

/** Once per server: the handlers are shared by every socket. */
export function registerPrivateChat(deps: EventDeps): void {
  registerRoomHandlers(deps, PRIVATE, async (actor, chatId) => {
    const membership = await deps.chat.requireChatMember(actor, chatId)
    if (!membership.ok) return membership
    return ok({ name: membership.value.chat.name ?? 'private' })
  })

  on(deps.io, deps.log, 'mark-messages-read', chatRoomPayload, async (socket, input) => {
    const receipt = await deps.chat.markRead(userOf(socket), input.chatId)
    if (!receipt.ok) return receipt
    deps.broadcasts.messagesRead(receipt.value)
    return ok(readView(receipt.value))
  })
}

/**
 * Removed members lose the room at once: their sockets on this node leave it and are told so.
 * @example createRoomBroadcasts(io, (chatId, userIds) => void evictMembers(deps, chatId, userIds))
 */
export async function evictMembers(
  deps: EventDeps,
  chatId: string,
  userIds: string[]
): Promise<void> {
  const removed = new Set(userIds)
  const sockets = await deps.io.in(PRIVATE.topic(chatId)).fetchSockets()
  for (const socket of sockets) {
    if (!removed.has(userOf(socket).id)) continue
    await leaveRoom(socket, deps, PRIVATE, chatId)
    socket.emit(PRIVATE.events.left, { chatId })
  }
}
