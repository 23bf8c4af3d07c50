/**
 * @module /api/auth account routes: email verification, forgotten and changed passwords, email
 * change, and the device list (sessions). What ends sessions closes their sockets too.
 */
import { Hono } from 'hono'
import type { EndedSessions } from '../../chat/account.ts'
import {
  changeEmailBody,
  changePasswordBody,
  emailTokenBody,
  forgotPasswordBody,
  resetPasswordBody,
  sessionIdParam,
} from '../../chat/inputs.ts'
import type { ChatNotices } from '../../chat/notices.ts'
import type { Chat } from '../../chat/service.ts'
import { sessionView, userView } from '../../chat/views.ts'
import { addressOf } from '../client-info.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readBody, readParams } from '../validate.ts'

export function accountRoutes(chat: Chat, notices: ChatNotices) {
  const app = new Hono<AppEnv>()
  const ended = (sessions: EndedSessions) => notices.sessionsEnded(sessions)

  app.post('/verify-email', async (c) => {
    const body = await readBody(c, emailTokenBody)
    if (!body.ok) return sendError(c, body.error)
    const user = await chat.verifyEmail(body.value.token)
    if (!user.ok) return sendError(c, user.error)
    return c.json({ user: userView(user.value) })
  })

  app.post('/resend-verification', requireUser(chat), async (c) => {
    const sent = await chat.resendVerification(c.get('user'))
    if (!sent.ok) return sendError(c, sent.error)
    return c.body(null, 202)
  })

  /** 202 for every address, known or not; the owner of a known one gets a link. */
  app.post('/forgot-password', async (c) => {
    const body = await readBody(c, forgotPasswordBody)
    if (!body.ok) return sendError(c, body.error)
    const done = await chat.forgotPassword(body.value.email, addressOf(c))
    if (!done.ok) return sendError(c, done.error)
    return c.json({ status: 'accepted' }, 202)
  })

  app.post('/reset-password', async (c) => {
    const body = await readBody(c, resetPasswordBody)
    if (!body.ok) return sendError(c, body.error)
    const reset = await chat.resetPassword(body.value)
    if (!reset.ok) return sendError(c, reset.error)
    ended(reset.value)
    return c.body(null, 204)
  })

  app.post('/change-password', requireUser(chat), async (c) => {
    const body = await readBody(c, changePasswordBody)
    if (!body.ok) return sendError(c, body.error)
    const changed = await chat.changePassword(c.get('user'), c.get('sessionId'), body.value)
    if (!changed.ok) return sendError(c, changed.error)
    ended(changed.value)
    return c.body(null, 204)
  })

  app.post('/change-email', requireUser(chat), async (c) => {
    const body = await readBody(c, changeEmailBody)
    if (!body.ok) return sendError(c, body.error)
    const started = await chat.changeEmail(c.get('user'), body.value)
    if (!started.ok) return sendError(c, started.error)
    return c.json({ status: 'verification_sent' }, 202)
  })

  app.get('/sessions', requireUser(chat), async (c) => {
    const sessions = await chat.listSessions(c.get('user'), c.get('sessionId'))
    return c.json({ sessions: sessions.map(sessionView) })
  })

  /** Signs out every other session; the caller's own stays. */
  app.delete('/sessions', requireUser(chat), async (c) => {
    const user = c.get('user')
    const sessionId = c.get('sessionId')
    if (sessionId === null)
      return sendError(c, { code: 'invalid_input', message: 'this token names no session' })
    ended(await chat.endSessions(user.id, sessionId))
    return c.body(null, 204)
  })

  app.delete('/sessions/:id', requireUser(chat), async (c) => {
    const params = readParams(c, sessionIdParam)
    if (!params.ok) return sendError(c, params.error)
    const revoked = await chat.revokeSession(c.get('user'), params.value.id)
    if (!revoked.ok) return sendError(c, revoked.error)
    ended(revoked.value)
    return c.body(null, 204)
  })

  return app
}
