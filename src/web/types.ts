/** @module Wire shapes the web client reads, as contract.md defines them, plus tolerant normalizers. */

import type {
  MessageView,
  NotificationView,
  PublicUserView,
  SearchResultView,
  UserView,
} from '../chat/views.ts'

/** The public projection of a user used inside events and messages (the server's own type). */
export type PublicUser = PublicUserView
export type User = UserView
export type Message = MessageView
export type SearchResult = SearchResultView
export type FeedNotification = NotificationView

export interface City {
  _id: string
  name: string
  /** My unread messages here (null before I first read the city) and unread mentions of me. */
  unreadCount?: number | null
  mentionCount?: number
  /** I moderate this city (its moderator, a global moderator, an admin). */
  canModerate?: boolean
}

/** A private chat member as the client uses it, whatever nesting the server chose. */
export interface Member {
  userId: string
  username: string
  full_name: string
  role: string
  /** ISO time up to which this member has read the chat, or null. */
  readAt: string | null
  /** Id of the last message this member has read, when the server tracks it. */
  lastReadMessageId: string | null
}

export interface Chat {
  _id: string
  name: string | null
  members: Member[]
  unreadCount: number
  mentionCount: number
  lastMessage: Message | null
}

/** The error half of every answer: REST `{ error }` bodies and socket acks share it. */
export interface WireError {
  code: string
  message: string
  details?: unknown
}

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: WireError }

/** A room is a city chat or a private chat; the pair keys every per-room structure. */
export type RoomKind = 'city' | 'chat'
export interface Room {
  kind: RoomKind
  id: string
  title: string
}

export const roomKey = (room: { kind: RoomKind; id: string }) => `${room.kind}:${room.id}`

type Loose = Record<string, unknown>
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null)

/** Accepts `{ user, role, last_read_at }`, flat `{ _id, username, role, readAt }` or `{ userId, ... }`. */
function toMember(raw: unknown): Member | null {
  if (!raw || typeof raw !== 'object') return null
  const row = raw as Loose
  const user = (row.user && typeof row.user === 'object' ? row.user : row) as Loose
  const userId = str(row.userId) ?? str(row.user_id) ?? str(user._id) ?? str(user.id)
  if (!userId) return null
  return {
    userId,
    username: str(user.username) ?? '',
    full_name: str(user.full_name) ?? str(user.username) ?? '',
    role: str(row.role) ?? 'member',
    readAt: str(row.readAt) ?? str(row.last_read_at) ?? str(row.lastReadAt) ?? null,
    lastReadMessageId: str(row.lastReadMessageId) ?? str(row.last_read_message_id) ?? null,
  }
}

export function toChat(raw: unknown): Chat | null {
  if (!raw || typeof raw !== 'object') return null
  const row = raw as Loose
  const id = str(row._id)
  if (!id) return null
  const members = Array.isArray(row.members)
    ? row.members.map(toMember).filter((m): m is Member => m !== null)
    : []
  const last = row.lastMessage ?? row.last_message ?? null
  const unread = row.unreadCount ?? row.unread_count
  return {
    _id: id,
    name: str(row.name),
    members,
    unreadCount: typeof unread === 'number' ? unread : 0,
    mentionCount: typeof row.mentionCount === 'number' ? row.mentionCount : 0,
    lastMessage: last && typeof last === 'object' ? (last as Message) : null,
  }
}

/** A chat's display title: its name, else the other members' names. */
export function chatTitle(chat: Chat, meId: string): string {
  if (chat.name) return chat.name
  const others = chat.members.filter((m) => m.userId !== meId).map((m) => m.full_name || m.username)
  return others.length ? others.join(', ') : 'Just me'
}
