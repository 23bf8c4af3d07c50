/**
 * @module Broadcasts: the ChatEvents the domain's writes raise, turned into room events. REST
 * routes and socket handlers both go through here, so a write looks the same whichever path made it.
 */
import type { ChatEvents } from '../chat/chat-events.ts'
import { deletedView, messageView, readView } from '../chat/views.ts'
import type { IOServer } from '../realtime/index.ts'
import { disconnectUser } from './auth-lifetime.ts'
import { PRIVATE, roomOfMessage } from './rooms.ts'

/**
 * @example server.setChatEvents(createRoomBroadcasts(io, { onMembersRemoved }))
 */
export function createRoomBroadcasts(
  io: IOServer,
  onMembersRemoved: (chatId: string, userIds: string[]) => void
): ChatEvents {
  return {
    messageCreated(message) {
      const { kind, id } = roomOfMessage(message)
      io.to(kind.topic(id)).emit(kind.events.created, messageView(message))
    },
    messageEdited(message) {
      const { kind, id } = roomOfMessage(message)
      io.to(kind.topic(id)).emit(kind.events.edited, messageView(message))
    },
    messageDeleted(message) {
      const { kind, id } = roomOfMessage(message)
      io.to(kind.topic(id)).emit(kind.events.deleted, deletedView(message))
    },
    messagesRead(receipt) {
      io.to(PRIVATE.topic(receipt.chatId)).emit('messages-read', readView(receipt))
    },
    chatMembersRemoved: onMembersRemoved,
    userDeactivated(userId) {
      disconnectUser(io, userId)
    },
  }
}
