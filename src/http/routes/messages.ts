/**
 * @module /api/messages/:messageId: edit (author), delete (author, chat owner/admin, city
 * moderator), report (anyone who can see it, once), reactions, the thread's replies, and pins
 * (city moderators, chat owner/admins).
 */
import { Hono } from 'hono'
import {
  editMessageBody,
  historyQuery,
  messageEmojiParam,
  messageIdParam,
  reportBody,
} from '../../chat/inputs.ts'
import type { Chat } from '../../chat/service.ts'
import { messageView, pinView, reportView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readBody, readParams, readQuery } from '../validate.ts'

export function messageRoutes(chat: Chat) {
  const app = new Hono<AppEnv>()
  app.use('*', requireUser(chat))

  app.patch('/:messageId', async (c) => {
    const params = readParams(c, messageIdParam)
    if (!params.ok) return sendError(c, params.error)
    const body = await readBody(c, editMessageBody)
    if (!body.ok) return sendError(c, body.error)
    const edited = await chat.editMessage({
      actor: c.get('user'),
      messageId: params.value.messageId,
      content: body.value.content,
    })
    if (!edited.ok) return sendError(c, edited.error)
    return c.json({ message: messageView(edited.value) })
  })

  app.delete('/:messageId', async (c) => {
    const params = readParams(c, messageIdParam)
    if (!params.ok) return sendError(c, params.error)
    const deleted = await chat.deleteMessage({
      actor: c.get('user'),
      messageId: params.value.messageId,
    })
    if (!deleted.ok) return sendError(c, deleted.error)
    return c.json({ message: messageView(deleted.value) })
  })

  app.post('/:messageId/reports', async (c) => {
    const params = readParams(c, messageIdParam)
    if (!params.ok) return sendError(c, params.error)
    const body = await readBody(c, reportBody)
    if (!body.ok) return sendError(c, body.error)
    const report = await chat.reportMessage(
      c.get('user'),
      params.value.messageId,
      body.value.reason
    )
    if (!report.ok) return sendError(c, report.error)
    return c.json({ report: reportView(report.value) }, 201)
  })

  for (const [method, action] of [
    ['put', chat.react],
    ['delete', chat.unreact],
  ] as const) {
    app[method]('/:messageId/reactions/:emoji', async (c) => {
      const params = readParams(c, messageEmojiParam)
      if (!params.ok) return sendError(c, params.error)
      const done = await action({ actor: c.get('user'), ...params.value })
      if (!done.ok) return sendError(c, done.error)
      return c.json(done.value)
    })
  }

  app.get('/:messageId/replies', async (c) => {
    const params = readParams(c, messageIdParam)
    if (!params.ok) return sendError(c, params.error)
    const query = readQuery(c, historyQuery)
    if (!query.ok) return sendError(c, query.error)
    const page = await chat.listThreadReplies(c.get('user'), params.value.messageId, query.value)
    if (!page.ok) return sendError(c, page.error)
    return c.json({ messages: page.value.messages.map(messageView), hasMore: page.value.hasMore })
  })

  app.put('/:messageId/pin', async (c) => {
    const params = readParams(c, messageIdParam)
    if (!params.ok) return sendError(c, params.error)
    const pinned = await chat.pinMessage(c.get('user'), params.value.messageId)
    if (!pinned.ok) return sendError(c, pinned.error)
    return c.json({ pin: pinView(pinned.value.pin), changed: pinned.value.changed })
  })

  app.delete('/:messageId/pin', async (c) => {
    const params = readParams(c, messageIdParam)
    if (!params.ok) return sendError(c, params.error)
    const unpinned = await chat.unpinMessage(c.get('user'), params.value.messageId)
    if (!unpinned.ok) return sendError(c, unpinned.error)
    return c.json(unpinned.value)
  })

  return app
}
