/**
 * @module Private chats: creation (at most CHATS_PER_HOUR per user), membership (owner/admin
 * manage), leaving, read positions. Only members may see a chat, its history or its members. A
 * user who blocked the actor can be neither put in a new chat nor added by them (`blocked`,
 * saying nothing more).
 */
import type { z } from 'zod'
import { fail, ok, type Result } from '../errors.ts'
import { blockersAmong } from '../store/blocks.ts'
import * as store from '../store/chats.ts'
import type { Db } from '../store/db.ts'
import { newId } from '../store/ids.ts'
import { countUnreadMentions, lastMessagesOfChats, latestMessageId } from '../store/messages.ts'
import type { ChatMemberRow, ChatRow, UserRow } from '../store/schema.ts'
import { findUsersByIds } from '../store/users.ts'
import type { createChatBody } from './inputs.ts'
import type { Notifier } from './notifications.ts'
import type { SharedRateLimiter } from './rate-limit.ts'
import type { RoomStream } from './room-stream.ts'
import { CHAT_MEMBERS_ADDED, CHAT_MEMBERS_REMOVED, chatRoom } from './rooms.ts'
import type { ChatDetails, ChatMemberDetails, ReadReceipt } from './views.ts'

export interface Membership {
  chat: ChatRow
  member: ChatMemberRow
}

const canManage = (member: ChatMemberRow) => member.role === 'owner' || member.role === 'admin'

/**
 * The caller's membership of a chat: `not_found` if the chat does not exist, `not_member` if the
 * caller is not in it. Every private-chat action starts here (room access too, chat/room-access.ts).
 * @example const m = await requireChatMember(db, user, chatId); if (!m.ok) return m
 */
export async function requireChatMember(
  db: Db,
  actor: UserRow,
  chatId: string
): Promise<Result<Membership>> {
  const chat = await store.findChatById(db, chatId)
  if (!chat) return fail('not_found', 'no such chat')
  const member = await store.findChatMember(db, chatId, actor.id)
  if (!member) return fail('not_member', 'you are not a member of this chat')
  return ok({ chat, member })
}

/** The same refusal whoever of them blocked the actor, so it names nobody. */
const BLOCKED = fail('blocked', 'one of these users does not accept chats from you')

export function createChats({
  db,
  stream,
  notifier,
  chatLimiter,
}: {
  db: Db
  /** Membership changes are room events: the chat's members hear them, live and on recovery. */
  stream: RoomStream
  /** Reads each membership change from the log (webhooks, `added` notifications). */
  notifier: Notifier
  /** Chats one user may create per hour (CHATS_PER_HOUR; shared by the nodes with Redis). */
  chatLimiter?: SharedRateLimiter | undefined
}) {
  /** Active users among `ids`, or `not_found` naming the ones that are not. */
  async function requireActiveUsers(ids: string[]): Promise<Result<UserRow[]>> {
    const found = (await findUsersByIds(db, ids)).filter((user) => user.isActive)
    const missing = ids.filter((id) => !found.some((user) => user.id === id))
    if (missing.length > 0)
      return fail('not_found', 'some users do not exist', { userIds: missing })
    return ok(found)
  }

  async function withMembers(chats: ChatRow[]): Promise<Map<string, ChatMemberDetails[]>> {
    const members = await store.listChatMembers(
      db,
      chats.map((chat) => chat.id)
    )
    const users = new Map(
      (
        await findUsersByIds(
          db,
          members.map((m) => m.userId)
        )
      ).map((user) => [user.id, user])
    )
    const byChat = new Map<string, ChatMemberDetails[]>()
    for (const member of members) {
      const user = users.get(member.userId)
      if (!user) continue
      const list = byChat.get(member.chatId) ?? []
      list.push({ ...member, user })
      byChat.set(member.chatId, list)
    }
    return byChat
  }

  async function details(chat: ChatRow): Promise<ChatDetails> {
    const members = await withMembers([chat])
    return { chat, members: members.get(chat.id) ?? [] }
  }

  const membershipOf = (actor: UserRow, chatId: string) => requireChatMember(db, actor, chatId)

  /**
   * A membership change, after it was stored: `chat-members-added` / `chat-members-removed`
   * `{ chatId, actorId, userIds }` to the chat's room through the room stream (so it is
   * replayed and reaches every node), then the notifier reads it from the log. Resolves once
   * the room heard it.
   */
  async function announce(
    event: typeof CHAT_MEMBERS_ADDED | typeof CHAT_MEMBERS_REMOVED,
    chatId: string,
    actorId: string,
    userIds: string[]
  ): Promise<void> {
    if (userIds.length === 0) return
    await stream.append({ room: chatRoom(chatId), event, args: [{ chatId, actorId, userIds }] })
    notifier.eventLogged()
  }

  async function requireManager(actor: UserRow, chatId: string): Promise<Result<Membership>> {
    const membership = await membershipOf(actor, chatId)
    if (membership.ok && !canManage(membership.value.member)) {
      return fail('forbidden', 'only the chat owner or an admin may manage members')
    }
    return membership
  }

  /** Creates a chat with the caller as owner and `memberIds` as members. */
  async function createChat(
    actor: UserRow,
    input: z.output<typeof createChatBody>
  ): Promise<Result<ChatDetails>> {
    const others = [...new Set(input.memberIds)].filter((id) => id !== actor.id)
    if (others.length === 0)
      return fail('invalid_input', 'memberIds must name at least one other user')
    const users = await requireActiveUsers(others)
    if (!users.ok) return users
    if ((await blockersAmong(db, others, actor.id)).length > 0) return BLOCKED
    const allowed = chatLimiter ? await chatLimiter.take(actor.id) : ok(null)
    if (!allowed.ok) return allowed
    const now = Date.now()
    const chat: ChatRow = {
      id: newId(now),
      name: input.name ?? null,
      createdBy: actor.id,
      createdAt: now,
    }
    await store.insertChat(db, chat, [
      { userId: actor.id, role: 'owner' },
      ...others.map((userId) => ({ userId, role: 'member' as const })),
    ])
    await announce(CHAT_MEMBERS_ADDED, chat.id, actor.id, others)
    return ok(await details(chat))
  }

  async function getChat(actor: UserRow, chatId: string): Promise<Result<ChatDetails>> {
    const membership = await membershipOf(actor, chatId)
    if (!membership.ok) return membership
    return ok(await details(membership.value.chat))
  }

  /** The caller's chats, most recently active first, each with members, last message, unread count. */
  async function listMyChats(actor: UserRow): Promise<Result<ChatDetails[]>> {
    const chats = await store.findChatsByIds(db, await store.listChatIdsForUser(db, actor.id))
    const [members, lastMessages] = await Promise.all([
      withMembers(chats),
      lastMessagesOfChats(
        db,
        chats.map((chat) => chat.id)
      ),
    ])
    const list = await Promise.all(
      chats.map(async (chat) => {
        const chatMembers = members.get(chat.id) ?? []
        const mine = chatMembers.find((member) => member.userId === actor.id)
        const read = mine?.lastReadMessageId ?? null
        const [unreadCount, mentionCount] = await Promise.all([
          store.countUnread(db, chat.id, actor.id, read),
          countUnreadMentions(db, chatRoom(chat.id), actor.id, read),
        ])
        return {
          mentionCount,
          chat,
          members: chatMembers,
          lastMessage: lastMessages.get(chat.id) ?? null,
          unreadCount,
        }
      })
    )
    const activity = (c: ChatDetails) => c.lastMessage?.id ?? c.chat.id
    return ok(list.sort((a, b) => (activity(a) < activity(b) ? 1 : -1)))
  }

  async function addMembers(
    actor: UserRow,
    chatId: string,
    userIds: string[]
  ): Promise<Result<ChatDetails>> {
    const membership = await requireManager(actor, chatId)
    if (!membership.ok) return membership
    const ids = [...new Set(userIds)]
    const users = await requireActiveUsers(ids)
    if (!users.ok) return users
    const already = new Set((await store.listChatMembers(db, [chatId])).map((m) => m.userId))
    if ((await blockersAmong(db, ids, actor.id)).length > 0) return BLOCKED
    await store.addChatMembers(
      db,
      chatId,
      ids.map((userId) => ({ userId, role: 'member' as const })),
      Date.now()
    )
    await announce(
      CHAT_MEMBERS_ADDED,
      chatId,
      actor.id,
      ids.filter((id) => !already.has(id))
    )
    return ok(await details(membership.value.chat))
  }

  /** Owner/admin removes someone. Nobody removes the owner; admins do not remove admins. */
  async function removeMember(
    actor: UserRow,
    chatId: string,
    userId: string
  ): Promise<Result<ChatDetails>> {
    const membership = await requireManager(actor, chatId)
    if (!membership.ok) return membership
    if (userId === actor.id) return fail('invalid_input', 'to remove yourself, leave the chat')
    const target = await store.findChatMember(db, chatId, userId)
    if (!target) return fail('not_found', 'that user is not a member of this chat')
    if (target.role === 'owner') return fail('forbidden', 'the owner cannot be removed')
    if (target.role === 'admin' && membership.value.member.role !== 'owner') {
      return fail('forbidden', 'only the owner may remove an admin')
    }
    await store.removeChatMember(db, chatId, userId)
    await announce(CHAT_MEMBERS_REMOVED, chatId, actor.id, [userId])
    return ok(await details(membership.value.chat))
  }

  /**
   * The caller leaves. An owner hands the chat to the longest-standing admin, else the
   * longest-standing member; the last member out deletes the chat.
   */
  async function leaveChat(
    actor: UserRow,
    chatId: string
  ): Promise<Result<{ chatDeleted: boolean }>> {
    const membership = await membershipOf(actor, chatId)
    if (!membership.ok) return membership
    await store.removeChatMember(db, chatId, actor.id)
    await announce(CHAT_MEMBERS_REMOVED, chatId, actor.id, [actor.id])
    const rest = await store.listChatMembers(db, [chatId])
    if (rest.length === 0) {
      await store.deleteChat(db, chatId)
      return ok({ chatDeleted: true })
    }
    if (membership.value.member.role === 'owner') {
      const heir = rest.find((member) => member.role === 'admin') ?? rest[0]
      if (heir) await store.setChatMemberRole(db, chatId, heir.userId, 'owner')
    }
    return ok({ chatDeleted: false })
  }

  async function listChatMemberIds(chatId: string): Promise<string[]> {
    return (await store.listChatMembers(db, [chatId])).map((member) => member.userId)
  }

  /** Moves the caller's read position to the chat's newest message. */
  async function markRead(actor: UserRow, chatId: string): Promise<Result<ReadReceipt>> {
    const membership = await membershipOf(actor, chatId)
    if (!membership.ok) return membership
    const readAt = Date.now()
    const lastReadMessageId = await latestMessageId(db, chatRoom(chatId))
    await store.setReadPosition(db, chatId, actor.id, lastReadMessageId, readAt)
    return ok({ room: chatRoom(chatId), userId: actor.id, readAt, lastReadMessageId })
  }

  return {
    requireChatMember: membershipOf,
    createChat,
    getChat,
    listMyChats,
    addMembers,
    removeMember,
    leaveChat,
    listChatMemberIds,
    markRead,
  }
}
