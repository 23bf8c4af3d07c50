/**
 * @module Chat notices: what REST writes tell the connected clients after they succeed, besides
 * the replayable room events (those go through the room stream, chat/room-stream.ts). Nothing
 * here is replayed. The realtime layer implements it (events/notices.ts).
 */
import type { ReadReceipt } from './views.ts'

export interface ChatNotices {
  /**
   * Emit `messages-read` `{ chatId, userId, readAt }` to the chat room; a city's read position is
   * the reader's own business, so `{ cityId, … }` goes to their own sockets only.
   */
  messagesRead(receipt: ReadReceipt): void
  /** Users became members (a new chat, or added): emit `added-to-chat` `{ chatId }` to each. */
  chatMembersAdded(chatId: string, userIds: string[]): void
  /**
   * Users stopped being members: their sockets leave the chat room, and each is sent
   * `removed-from-chat` `{ chatId }`.
   */
  chatMembersRemoved(chatId: string, userIds: string[]): void
  /** The account was deactivated: close every socket it has at once. */
  userDeactivated(userId: string): void
  /** Sessions were signed out (device list, password change or reset): close their sockets. */
  sessionsEnded(ended: { userId: string; sessionIds: string[] }): void
}
