/**
 * @module /api/chats: private chats — create, list mine, read, members and their roles, leave,
 * history, read receipts.
 */
import { Hono } from 'hono'
import {
  addMembersBody,
  chatIdParam,
  chatMemberParam,
  createChatBody,
  memberRoleBody,
} from '../../chat/inputs.ts'
import type { ChatNotices } from '../../chat/notices.ts'
import { chatRoom } from '../../chat/rooms.ts'
import type { Chat } from '../../chat/service.ts'
import { chatView, readView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readBody, readParams } from '../validate.ts'
import { listRoomMessages, listRoomPins, postRoomMessage } from './room-messages.ts'

export function chatRoutes(chat: Chat, notices: ChatNotices) {
  const app = new Hono<AppEnv>()
  app.use('*', requireUser(chat))

  app.post('/', async (c) => {
    const body = await readBody(c, createChatBody)
    if (!body.ok) return sendError(c, body.error)
    const created = await chat.createChat(c.get('user'), body.value)
    if (!created.ok) return sendError(c, created.error)
    const { chat: row, members } = created.value
    notices.chatMembersAdded(
      row.id,
      members.map((member) => member.userId)
    )
    return c.json({ chat: chatView(created.value) }, 201)
  })

  app.get('/', async (c) => {
    const chats = await chat.listMyChats(c.get('user'))
    if (!chats.ok) return sendError(c, chats.error)
    return c.json({ chats: chats.value.map(chatView) })
  })

  app.get('/:chatId', async (c) => {
    const params = readParams(c, chatIdParam)
    if (!params.ok) return sendError(c, params.error)
    const found = await chat.getChat(c.get('user'), params.value.chatId)
    if (!found.ok) return sendError(c, found.error)
    return c.json({ chat: chatView(found.value) })
  })

  app.post('/:chatId/members', async (c) => {
    const params = readParams(c, chatIdParam)
    if (!params.ok) return sendError(c, params.error)
    const body = await readBody(c, addMembersBody)
    if (!body.ok) return sendError(c, body.error)
    const updated = await chat.addMembers(c.get('user'), params.value.chatId, body.value.userIds)
    if (!updated.ok) return sendError(c, updated.error)
    notices.chatMembersAdded(params.value.chatId, body.value.userIds)
    return c.json({ chat: chatView(updated.value) })
  })

  app.delete('/:chatId/members/:userId', async (c) => {
    const params = readParams(c, chatMemberParam)
    if (!params.ok) return sendError(c, params.error)
    const { chatId, userId } = params.value
    const updated = await chat.removeMember(c.get('user'), chatId, userId)
    if (!updated.ok) return sendError(c, updated.error)
    notices.chatMembersRemoved(chatId, [userId])
    return c.json({ chat: chatView(updated.value) })
  })

  app.put('/:chatId/members/:userId/role', async (c) => {
    const params = readParams(c, chatMemberParam)
    if (!params.ok) return sendError(c, params.error)
    const body = await readBody(c, memberRoleBody)
    if (!body.ok) return sendError(c, body.error)
    const { chatId, userId } = params.value
    const set = await chat.setMemberRole(c.get('user'), chatId, userId, body.value.role)
    if (!set.ok) return sendError(c, set.error)
    return c.json({ chat: chatView(set.value.chat), changed: set.value.changed })
  })

  app.post('/:chatId/leave', async (c) => {
    const params = readParams(c, chatIdParam)
    if (!params.ok) return sendError(c, params.error)
    const left = await chat.leaveChat(c.get('user'), params.value.chatId)
    if (!left.ok) return sendError(c, left.error)
    notices.chatMembersRemoved(params.value.chatId, [c.get('user').id])
    return c.body(null, 204)
  })

  app.get('/:chatId/messages', (c) => {
    const params = readParams(c, chatIdParam)
    if (!params.ok) return sendError(c, params.error)
    return listRoomMessages(c, chat, chatRoom(params.value.chatId))
  })

  app.get('/:chatId/pins', (c) => {
    const params = readParams(c, chatIdParam)
    if (!params.ok) return sendError(c, params.error)
    return listRoomPins(c, chat, chatRoom(params.value.chatId))
  })

  app.post('/:chatId/messages', (c) => {
    const params = readParams(c, chatIdParam)
    if (!params.ok) return sendError(c, params.error)
    return postRoomMessage(c, chat, chatRoom(params.value.chatId))
  })

  app.post('/:chatId/read', async (c) => {
    const params = readParams(c, chatIdParam)
    if (!params.ok) return sendError(c, params.error)
    const receipt = await chat.markRead(c.get('user'), params.value.chatId)
    if (!receipt.ok) return sendError(c, receipt.error)
    notices.messagesRead(receipt.value)
    return c.json(readView(receipt.value))
  })

  return app
}
