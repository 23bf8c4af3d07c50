/** @module Bearer auth: resolves `Authorization: Bearer <accessToken>` to an active user. */
import type { MiddlewareHandler } from 'hono'
import type { Chat } from '../../chat/service.ts'
import type { AppEnv } from '../env.ts'
import { sendError } from './errors.ts'

const BEARER = /^Bearer\s+(\S+)$/i

export function requireUser(chat: Chat): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const match = BEARER.exec(c.req.header('authorization') ?? '')
    if (!match?.[1])
      return sendError(c, { code: 'unauthorized', message: 'missing bearer access token' })
    const session = await chat.authenticate(match[1])
    if (!session.ok) return sendError(c, session.error)
    c.set('user', session.value.user)
    c.set('sessionId', session.value.sessionId)
    await next()
  }
}
