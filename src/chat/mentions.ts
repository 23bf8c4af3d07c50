/**
 * @module Mentions: `@username` in a message's content, resolved at send into the ids of users
 * who can read the room (any active user in a city; members in a private chat), and `@all` in a
 * private chat (every other member; its owner and admins only). Only a content with an `@` costs
 * a lookup, so the hot send path stays as it was.
 */
import { listChatMembers } from '../store/chats.ts'
import type { Db } from '../store/db.ts'
import { findActiveUsersByUsernames } from '../store/users.ts'
import type { Entry } from './room-access.ts'
import type { RoomRef } from './rooms.ts'

/** Usernames as chat/inputs.ts allows them; preceded by start, space or punctuation (not an email). */
const MENTION = /(?:^|[^a-z0-9_.@])@([a-z0-9_.]{3,30})/gi

/** At most this many distinct names are looked up per message. */
const MAX_NAMES = 50

/** The `@names` in a content, lower-cased, de-duplicated (a trailing dot ends a sentence). */
function mentionedNames(content: string): string[] {
  const names = new Set<string>()
  for (const match of content.matchAll(MENTION)) {
    const name = (match[1] as string).toLowerCase().replace(/\.+$/, '')
    if (name.length >= 3) names.add(name)
    if (names.size >= MAX_NAMES) break
  }
  return [...names]
}

/**
 * The user ids a message mentions, or null when it mentions no one (most messages: no lookup).
 * `entry` is the author's entry to the room (its role decides `@all`).
 * @example await resolveMentions(db, { authorId, room: chatRoom(id), content: 'hi @asha', entry })
 */
export async function resolveMentions(
  db: Db,
  input: { authorId: string; room: RoomRef; content: string; entry: Entry }
): Promise<string[] | null> {
  const { authorId, room, content, entry } = input
  if (!content.includes('@')) return null
  const names = mentionedNames(content)
  if (names.length === 0) return null
  const all = room.kind === 'chat' && names.includes('all')
  const canAll = all && (entry.role === 'owner' || entry.role === 'admin')
  const users = await findActiveUsersByUsernames(db, names)
  let ids = users.map((user) => user.id)
  if (room.kind === 'chat') {
    const members = new Set((await listChatMembers(db, [room.id])).map((m) => m.userId))
    ids = canAll
      ? [...members].filter((id) => id !== authorId)
      : ids.filter((id) => members.has(id))
  }
  const unique = [...new Set(ids)]
  return unique.length > 0 ? unique : null
}
