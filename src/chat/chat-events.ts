/**
 * @module Chat events: the hook REST writes call after they succeed, so socket rooms see them.
 * The realtime handlers implement it (events/broadcasts.ts).
 */
import type { MessageWithAuthor } from '../store/messages.ts'
import type { ReadReceipt } from './views.ts'

/** A room broadcast as the room log keeps it: the room's topic and the packet `[event, ...args]`. */
export interface RoomBroadcast {
  room: string
  packet: [event: string, ...args: unknown[]]
}

/** A replayable broadcast: its offset and its packet JSON `[event, ...args]`. */
export interface LoggedBroadcast {
  offset: number
  packet: string
}

export interface ChatEvents {
  /**
   * A message was stored: emit `new-city-message` / `new-private-message` to its room, with the
   * offset it was stored at (none when recovery is off). Called from the commit that stored it,
   * so broadcasts go out in offset order.
   */
  messageCreated(message: MessageWithAuthor, logged: LoggedBroadcast | undefined): void
  /**
   * Emit `city-message-edited` / `private-message-edited`. An implementation may return a promise
   * that resolves once it went out (the room log writes first); socket handlers await it so the
   * sender's ack follows the broadcast.
   */
  messageEdited(message: MessageWithAuthor): void
  /** Emit `city-message-deleted` / `private-message-deleted` with `{ messageId, cityId | chatId }`. */
  messageDeleted(message: MessageWithAuthor): void
  /** Emit `messages-read` `{ chatId, userId, readAt }` to the chat room. */
  messagesRead(receipt: ReadReceipt): void
  /** Users became members (a new chat, or added): emit `added-to-chat` `{ chatId }` to each. */
  chatMembersAdded?(chatId: string, userIds: string[]): void
  /**
   * Users stopped being members: their sockets leave the chat room, and each is sent
   * `removed-from-chat` `{ chatId }`.
   */
  chatMembersRemoved?(chatId: string, userIds: string[]): void
  /** The account was deactivated: close every socket it has at once. */
  userDeactivated?(userId: string): void
}
