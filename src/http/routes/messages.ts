/** @module /api/messages/:messageId: edit (author) and delete (author or chat owner/admin). */
import { Hono } from 'hono'
import { editMessageBody, messageIdParam } from '../../chat/inputs.ts'
import type { Chat } from '../../chat/service.ts'
import { messageView } from '../../chat/views.ts'
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

  return app
}
