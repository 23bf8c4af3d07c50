/**
 * @module /api/messages/:messageId: edit (author), delete (author, chat owner/admin, city
 * moderator) and report (anyone who can see it, once).
 */
import { Hono } from 'hono'
import { editMessageBody, messageIdParam, reportBody } from '../../chat/inputs.ts'
import type { Chat } from '../../chat/service.ts'
import { messageView, reportView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readBody, readParams } from '../validate.ts'

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

  return app
}
