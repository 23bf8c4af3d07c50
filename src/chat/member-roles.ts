/**
 * @module Chat member roles: the owner of a private chat makes a member an admin, or an admin a
 * member again (admins add and remove members and pin; chat/chats.ts, chat/pins.ts). Each change
 * reaches the chat room through the room stream as `chat-member-role-changed`, so the members'
 * clients hear it live and a resumed session replays it. Nobody changes the owner's role here
 * (the owner's seat passes on only when the owner leaves).
 */
import { fail, ok, type Result } from '../errors.ts'
import { findChatMember, setChatMemberRole } from '../store/chats.ts'
import type { Db } from '../store/db.ts'
import type { UserRow } from '../store/schema.ts'
import type { createChats } from './chats.ts'
import type { RoomStream } from './room-stream.ts'
import { chatRoom } from './rooms.ts'
import { type ChatDetails, memberRoleView } from './views.ts'

/** The roles the owner gives: `owner` is not one of them. */
export type GivenRole = 'admin' | 'member'

/** The event of a member's new role, as the chat room hears it (docs/events.md). */
const ROLE_CHANGED = 'chat-member-role-changed'

interface Deps {
  db: Db
  chats: ReturnType<typeof createChats>
  stream: RoomStream
}

/**
 * @example
 * const roles = createMemberRoles({ db, chats, stream })
 * await roles.setMemberRole(owner, chatId, bobId, 'admin') // ok → { chat, changed: true }
 */
export function createMemberRoles({ db, chats, stream }: Deps) {
  /**
   * Gives `userId` the role; resolves once the room heard of it. `not_found` (chat or member),
   * `not_member`, `forbidden` unless the actor owns the chat, `invalid_input` for the owner.
   * Giving the role they have changes nothing and announces nothing.
   */
  async function setMemberRole(
    actor: UserRow,
    chatId: string,
    userId: string,
    role: GivenRole
  ): Promise<Result<{ chat: ChatDetails; changed: boolean }>> {
    const membership = await chats.requireChatMember(actor, chatId)
    if (!membership.ok) return membership
    if (membership.value.member.role !== 'owner')
      return fail('forbidden', 'only the chat owner may make or unmake admins')
    if (userId === actor.id) return fail('invalid_input', "the owner's own role cannot be changed")
    const target = await findChatMember(db, chatId, userId)
    if (!target) return fail('not_found', 'that user is not a member of this chat')
    const changed = target.role !== role
    if (changed) {
      await setChatMemberRole(db, chatId, userId, role)
      await stream.append({
        room: chatRoom(chatId),
        event: ROLE_CHANGED,
        args: [memberRoleView({ chatId, userId, role, changedBy: actor.id })],
      })
    }
    const chat = await chats.getChat(actor, chatId)
    if (!chat.ok) return chat
    return ok({ chat: chat.value, changed })
  }

  return { setMemberRole }
}
