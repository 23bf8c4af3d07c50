/**
 * @module Rooms: the one room reference (kind + id) and its vocabulary. The guide's city and
 * private chats are the same set of events under two names; this table names each event once,
 * and the topic string and the contract's `{ cityId } | { chatId }` are made and read here only.
 */
import type { z } from 'zod'
import type { MessageWithAuthor, RoomRef } from '../store/messages.ts'
import {
  chatRoomPayload,
  cityRoomPayload,
  deleteCityMessagePayload,
  deletePrivateMessagePayload,
  editCityMessagePayload,
  editPrivateMessagePayload,
  sendCityMessagePayload,
  sendPrivateMessagePayload,
} from './inputs.ts'

export type { RoomRef }

export interface RoomKind {
  name: RoomRef['kind']
  /** The payload key that names the room (`cityId` / `chatId`). */
  key: 'cityId' | 'chatId'
  /** The key of the room's display name in the `joined-*` confirmation. */
  nameKey: 'cityName' | 'chatName'
  /** What the user calls it in messages ("city chat", "private chat"). */
  label: string
  /** The realtime room (a Bun topic, and the room event log's room) starts with this. */
  prefix: string
  schemas: {
    room: z.ZodType<Record<string, string>>
    send: typeof sendCityMessagePayload | typeof sendPrivateMessagePayload
    edit: typeof editCityMessagePayload | typeof editPrivateMessagePayload
    delete: typeof deleteCityMessagePayload | typeof deletePrivateMessagePayload
  }
  events: {
    join: string
    joined: string
    userJoined: string
    leave: string
    left: string
    userLeft: string
    send: string
    created: string
    edit: string
    edited: string
    delete: string
    deleted: string
    typing: string
    stopTyping: string
    userTyping: string
    userStoppedTyping: string
    /** A reaction added or removed (chat/reactions.ts). */
    reaction: string
    /** A reply moved its parent's thread (chat/threads.ts). */
    threadUpdated: string
    pinned: string
    unpinned: string
  }
}

export const CITY: RoomKind = {
  name: 'city',
  prefix: 'city:',
  key: 'cityId',
  nameKey: 'cityName',
  label: 'city chat',
  schemas: {
    room: cityRoomPayload,
    send: sendCityMessagePayload,
    edit: editCityMessagePayload,
    delete: deleteCityMessagePayload,
  },
  events: {
    join: 'join-city-chat',
    joined: 'joined-city-chat',
    userJoined: 'user-joined-city-chat',
    leave: 'leave-city-chat',
    left: 'left-city-chat',
    userLeft: 'user-left-city-chat',
    send: 'send-city-message',
    created: 'new-city-message',
    edit: 'edit-city-message',
    edited: 'city-message-edited',
    delete: 'delete-city-message',
    deleted: 'city-message-deleted',
    typing: 'city-typing',
    stopTyping: 'city-stop-typing',
    userTyping: 'user-typing-city',
    userStoppedTyping: 'user-stopped-typing-city',
    reaction: 'city-message-reaction',
    threadUpdated: 'city-message-thread-updated',
    pinned: 'city-message-pinned',
    unpinned: 'city-message-unpinned',
  },
}

export const PRIVATE: RoomKind = {
  name: 'chat',
  prefix: 'chat:',
  key: 'chatId',
  nameKey: 'chatName',
  label: 'private chat',
  schemas: {
    room: chatRoomPayload,
    send: sendPrivateMessagePayload,
    edit: editPrivateMessagePayload,
    delete: deletePrivateMessagePayload,
  },
  events: {
    join: 'join-private-chat',
    joined: 'joined-private-chat',
    userJoined: 'user-joined-private-chat',
    leave: 'leave-private-chat',
    left: 'left-private-chat',
    userLeft: 'user-left-private-chat',
    send: 'send-private-message',
    created: 'new-private-message',
    edit: 'edit-private-message',
    edited: 'private-message-edited',
    delete: 'delete-private-message',
    deleted: 'private-message-deleted',
    typing: 'private-typing',
    stopTyping: 'private-stop-typing',
    userTyping: 'user-typing-private',
    userStoppedTyping: 'user-stopped-typing-private',
    reaction: 'private-message-reaction',
    threadUpdated: 'private-message-thread-updated',
    pinned: 'private-message-pinned',
    unpinned: 'private-message-unpinned',
  },
}

const KINDS: Record<RoomRef['kind'], RoomKind> = { city: CITY, chat: PRIVATE }

/** The vocabulary of a room's kind. */
/**
 * Membership changes of a private chat, to its room (chat/chats.ts): `{ chatId, actorId, userIds }`
 * (created with them or added by actorId; removed by actorId, or left: actorId is theirs).
 */
export const CHAT_MEMBERS_ADDED = 'chat-members-added'
export const CHAT_MEMBERS_REMOVED = 'chat-members-removed'

export const kindOf = (room: RoomRef): RoomKind => KINDS[room.kind]

export const cityRoom = (id: string): RoomRef => ({ kind: 'city', id })
export const chatRoom = (id: string): RoomRef => ({ kind: 'chat', id })

/** The realtime room (a Bun topic) of a city or private chat; the log's room column too. */
export const topicOf = (room: RoomRef): string => KINDS[room.kind].prefix + room.id

/**
 * Every socket of a user is in this realtime room, on every node: deactivation, membership
 * notices, and the events only that user may hear (a shadowed author's own messages).
 */
export const userTopic = (userId: string): string => `user:${userId}`

/** The room behind a topic; null for a socket's own room or a user room. */
export function roomOfTopic(topic: string): RoomRef | null {
  if (topic.startsWith(CITY.prefix)) return cityRoom(topic.slice(CITY.prefix.length))
  if (topic.startsWith(PRIVATE.prefix)) return chatRoom(topic.slice(PRIVATE.prefix.length))
  return null
}

/** Is this topic a city or private chat (not a socket's own or user room)? */
export const isChatRoom = (topic: string): boolean => roomOfTopic(topic) !== null

/** The room a stored message belongs to. */
export function roomOfMessage(message: MessageWithAuthor): RoomRef {
  return message.cityId !== null ? cityRoom(message.cityId) : chatRoom(message.chatId ?? '')
}

/** Is the message in this room? */
export const isInRoom = (message: MessageWithAuthor, room: RoomRef): boolean =>
  room.kind === 'city' ? message.cityId === room.id : message.chatId === room.id

/** The room the contract's `{ cityId }` or `{ chatId }` names. */
export const roomOfPayload = (payload: { cityId: string } | { chatId: string }): RoomRef =>
  'chatId' in payload ? chatRoom(payload.chatId) : cityRoom(payload.cityId)

/** The contract's form of a room, `{ cityId }` or `{ chatId }`. */
export const roomPayload = (room: RoomRef): { cityId: string } | { chatId: string } =>
  room.kind === 'city' ? { cityId: room.id } : { chatId: room.id }
