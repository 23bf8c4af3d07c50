/**
 * @module Broadcasts: the ChatEvents the domain's writes raise, turned into room events. REST
 * routes and socket handlers both go through here, so a write looks the same whichever path made it.
 * Message created / edited / deleted carry their offset as the last argument, so each can be
 * replayed to a client that missed it (chat/recovery.ts): a new message's is its own, given out in
 * its commit (chat/messages.ts); edits and deletes are appended to the room event log here first.
 */
import type { ChatEvents, LoggedBroadcast, RoomBroadcast } from '../chat/chat-events.ts'
import type { MessageWithAuthor } from '../chat/messages.ts'
import { type RoomLog, withOffset } from '../chat/recovery.ts'
import { deletedView, messageView, readView } from '../chat/views.ts'
import type { IOServer } from '../realtime/index.ts'
import { disconnectUser, userRoom } from './auth-lifetime.ts'
import { PRIVATE, roomOfMessage } from './rooms.ts'

/** A new message as its room hears it: `new-city-message` / `new-private-message` with its view. */
export function newMessageBroadcast(message: MessageWithAuthor): RoomBroadcast {
  const { kind, id } = roomOfMessage(message)
  return { room: kind.topic(id), packet: [kind.events.created, messageView(message)] }
}

/**
 * Publishes a broadcast: a replayable one as its JSON, not encoded again, with the offset last
 * (socket.io-client keeps it as `_lastOffset`); without an offset, as `packet()`.
 */
function publish(
  io: IOServer,
  room: string,
  logged: LoggedBroadcast | undefined,
  packet: () => RoomBroadcast['packet']
): void {
  if (logged) io.to(room).emitJson(withOffset(logged.packet, logged.offset), logged.offset)
  else io.to(room).emit(...packet())
}

/**
 * @example createApp({ chat, events: createRoomBroadcasts(io, roomLog, onMembersRemoved), log, readiness })
 */
export function createRoomBroadcasts(
  io: IOServer,
  roomLog: RoomLog,
  onMembersRemoved: (chatId: string, userIds: string[]) => void
): ChatEvents {
  /** Logged first, then published with its offset. */
  const replayable = (broadcast: RoomBroadcast): Promise<void> =>
    roomLog.record(broadcast, (logged) =>
      publish(io, broadcast.room, logged, () => broadcast.packet)
    )

  return {
    messageCreated(message, logged) {
      // Its offset and packet came from the message's own commit (chat/messages.ts): the view is
      // built again only when there is no logged packet (recovery off).
      const { kind, id } = roomOfMessage(message)
      publish(io, kind.topic(id), logged, () => newMessageBroadcast(message).packet)
    },
    messageEdited(message) {
      const { kind, id } = roomOfMessage(message)
      return replayable({
        room: kind.topic(id),
        packet: [kind.events.edited, messageView(message)],
      })
    },
    messageDeleted(message) {
      const { kind, id } = roomOfMessage(message)
      return replayable({
        room: kind.topic(id),
        packet: [kind.events.deleted, deletedView(message)],
      })
    },
    messagesRead(receipt) {
      io.to(PRIVATE.topic(receipt.chatId)).emit('messages-read', readView(receipt))
    },
    // To the users' own rooms, so every socket of theirs hears it, joined to the chat or not.
    chatMembersAdded(chatId, userIds) {
      io.to(userIds.map(userRoom)).emit('added-to-chat', { chatId })
    },
    chatMembersRemoved(chatId, userIds) {
      onMembersRemoved(chatId, userIds)
      io.to(userIds.map(userRoom)).emit('removed-from-chat', { chatId })
    },
    userDeactivated(userId) {
      disconnectUser(io, userId)
    },
  }
}
