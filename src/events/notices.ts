/**
 * @module Chat notices over the realtime layer: read receipts to the chat room, membership
 * changes to the users' own rooms (every socket of theirs, joined to the chat or not), and a
 * deactivated account's sockets closed. A failing notice is logged and never fails the request
 * that raised it.
 */
import type { ChatNotices } from '../chat/notices.ts'
import { topicOf } from '../chat/rooms.ts'
import { readView } from '../chat/views.ts'
import type { Logger } from '../log.ts'
import type { IOServer } from '../realtime/index.ts'
import { disconnectUser, endSessions, userRoom } from './auth-lifetime.ts'

/**
 * @example createApp({ chat, notices: createChatNotices(io, log, evict), log, readiness })
 */
export function createChatNotices(
  io: IOServer,
  log: Logger,
  evictMembers: (chatId: string, userIds: string[]) => Promise<void>
): ChatNotices {
  const guarded =
    <A extends unknown[]>(name: string, notice: (...args: A) => void) =>
    (...args: A) => {
      try {
        notice(...args)
      } catch (error) {
        log.error('chat notice failed', { notice: name, error })
      }
    }
  return {
    messagesRead: guarded('messagesRead', (receipt) => {
      const to = receipt.room.kind === 'chat' ? topicOf(receipt.room) : userRoom(receipt.userId)
      io.to(to).emit('messages-read', readView(receipt))
    }),
    chatMembersAdded: guarded('chatMembersAdded', (chatId, userIds) => {
      io.to(userIds.map(userRoom)).emit('added-to-chat', { chatId })
    }),
    chatMembersRemoved: guarded('chatMembersRemoved', (chatId, userIds) => {
      evictMembers(chatId, userIds).catch((error) =>
        log.error('evicting removed members failed', { chatId, error })
      )
      io.to(userIds.map(userRoom)).emit('removed-from-chat', { chatId })
    }),
    userDeactivated: guarded('userDeactivated', (userId) => disconnectUser(io, userId)),
    sessionsEnded: guarded('sessionsEnded', ({ sessionIds }) => endSessions(io, sessionIds)),
  }
}
