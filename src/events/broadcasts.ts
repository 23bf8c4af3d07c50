/**
 * @module Broadcasts: the ChatEvents the domain's writes raise, turned into room events. REST
 * routes and socket handlers both go through here, so a write looks the same whichever path made it.
 * Message created / edited / deleted go through the room event log first (chat/recovery.ts), so
 * each carries its offset as the last argument and can be replayed to a client that missed it.
 */
import type { ChatEvents } from '../chat/chat-events.ts'
import type { RoomLog } from '../chat/recovery.ts'
import { deletedView, messageView, readView } from '../chat/views.ts'
import type { IOServer } from '../realtime/index.ts'
import { disconnectUser } from './auth-lifetime.ts'
import { PRIVATE, roomOfMessage } from './rooms.ts'

/**
 * @example createApp({ chat, events: createRoomBroadcasts(io, roomLog, onMembersRemoved), log, readiness })
 */
export function createRoomBroadcasts(
  io: IOServer,
  roomLog: RoomLog,
  onMembersRemoved: (chatId: string, userIds: string[]) => void
): ChatEvents {
  /** Logged, then published with the offset last (socket.io-client keeps it as `_lastOffset`). */
  const replayable = (topic: string, event: string, payload: unknown): Promise<void> =>
    roomLog.record(topic, [event, payload], (offset) => {
      if (offset === undefined) io.to(topic).emit(event, payload)
      else io.to(topic).emit(event, payload, offset)
    })

  return {
    messageCreated(message) {
      const { kind, id } = roomOfMessage(message)
      return replayable(kind.topic(id), kind.events.created, messageView(message))
    },
    messageEdited(message) {
      const { kind, id } = roomOfMessage(message)
      return replayable(kind.topic(id), kind.events.edited, messageView(message))
    },
    messageDeleted(message) {
      const { kind, id } = roomOfMessage(message)
      return replayable(kind.topic(id), kind.events.deleted, deletedView(message))
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
