/**
 * @module Room kinds: the guide's city and private chats are the same set of events under two
 * vocabularies. This table names each event and room once; handlers and broadcasts read it.
 */
import type { z } from 'zod'
import {
  chatRoomPayload,
  cityRoomPayload,
  deleteCityMessagePayload,
  deletePrivateMessagePayload,
  editCityMessagePayload,
  editPrivateMessagePayload,
  sendCityMessagePayload,
  sendPrivateMessagePayload,
} from '../chat/inputs.ts'
import type { MessageWithAuthor, Room } from '../chat/messages.ts'
import type { User } from '../chat/service.ts'

export interface RoomKind {
  /** The payload key that names the room (`cityId` / `chatId`). */
  key: 'cityId' | 'chatId'
  /** The key of the room's display name in the `joined-*` confirmation. */
  nameKey: 'cityName' | 'chatName'
  /** What the user calls it in messages ("city chat", "private chat"). */
  label: string
  /** The realtime room (a Bun topic) for that city or chat. */
  topic(id: string): string
  room(id: string): Room
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
  }
}

export const CITY: RoomKind = {
  key: 'cityId',
  nameKey: 'cityName',
  label: 'city chat',
  schemas: {
    room: cityRoomPayload,
    send: sendCityMessagePayload,
    edit: editCityMessagePayload,
    delete: deleteCityMessagePayload,
  },
  topic: (id) => `city:${id}`,
  room: (id) => ({ cityId: id }),
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
  },
}

export const PRIVATE: RoomKind = {
  key: 'chatId',
  nameKey: 'chatName',
  label: 'private chat',
  schemas: {
    room: chatRoomPayload,
    send: sendPrivateMessagePayload,
    edit: editPrivateMessagePayload,
    delete: deletePrivateMessagePayload,
  },
  topic: (id) => `chat:${id}`,
  room: (id) => ({ chatId: id }),
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
  },
}

/** The kind and id of a city or private chat's realtime room; null for a socket's own or user room. */
export function roomOfTopic(topic: string): { kind: RoomKind; id: string } | null {
  for (const kind of [CITY, PRIVATE]) {
    const prefix = kind.topic('')
    if (topic.startsWith(prefix)) return { kind, id: topic.slice(prefix.length) }
  }
  return null
}

/** The stored room behind a city or private chat's realtime room; null for other rooms. */
export function storedRoomOfTopic(topic: string): Room | null {
  const target = roomOfTopic(topic)
  if (!target) return null
  return target.kind === CITY ? { cityId: target.id } : { chatId: target.id }
}

/** Is this realtime room a city or private chat (not a socket's own or user room)? */
export const isChatRoom = (room: string): boolean => roomOfTopic(room) !== null

/** The kind and id of the room a stored message belongs to. */
export function roomOfMessage(message: MessageWithAuthor): { kind: RoomKind; id: string } {
  return message.cityId !== null
    ? { kind: CITY, id: message.cityId }
    : { kind: PRIVATE, id: message.chatId ?? '' }
}

/** Who is doing something in a room, as `user-typing-*` and `user-left-*` carry it. */
export function actorIn(
  kind: RoomKind,
  id: string,
  user: Pick<User, 'id' | 'username' | 'fullName'>
) {
  return { userId: user.id, username: user.username, full_name: user.fullName, [kind.key]: id }
}

/** As `user-joined-*` carries it: the public user fields under `userId`. */
export function joinerIn(kind: RoomKind, id: string, user: User) {
  return { ...actorIn(kind, id, user), profile_photo_url: user.profilePhotoUrl }
}
