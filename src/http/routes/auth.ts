/** @module /api/auth: register, login, refresh (rotating), logout, me. */
import { Hono } from 'hono'
import { loginBody, refreshBody, registerBody } from '../../chat/inputs.ts'
import type { Chat } from '../../chat/service.ts'
import { userView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { createLoginThrottle, type LoginThrottleOptions } from '../middleware/login-throttle.ts'
import { readBody } from '../validate.ts'

/**
 * Login throttling sits in front of /login (per account and per address). /register is not
 * throttled here: it costs one argon2 hash like a login, but benchmarks register users in bulk.
 */
export function authRoutes(chat: Chat, throttleOptions: LoginThrottleOptions) {
  const app = new Hono<AppEnv>()
  const throttle = createLoginThrottle(throttleOptions)

  app.post('/register', async (c) => {
    const body = await readBody(c, registerBody)
    if (!body.ok) return sendError(c, body.error)
    const session = await chat.register(body.value)
    if (!session.ok) return sendError(c, session.error)
    const { user, accessToken, refreshToken } = session.value
    return c.json({ user: userView(user), accessToken, refreshToken }, 201)
  })

  app.post('/login', throttle.check, async (c) => {
    const body = await readBody(c, loginBody)
    if (!body.ok) return sendError(c, body.error)
    const session = await chat.login(body.value)
    if (!session.ok) return sendError(c, session.error)
    await throttle.succeeded(body.value.login)
    const { user, accessToken, refreshToken } = session.value
    return c.json({ user: userView(user), accessToken, refreshToken })
  })

  app.post('/refresh', async (c) => {
    const body = await readBody(c, refreshBody)
    if (!body.ok) return sendError(c, body.error)
    const tokens = await chat.refresh(body.value.refreshToken)
    if (!tokens.ok) return sendError(c, tokens.error)
    return c.json(tokens.value)
  })

  app.post('/logout', async (c) => {
    const body = await readBody(c, refreshBody)
    if (!body.ok) return sendError(c, body.error)
    await chat.logout(body.value.refreshToken)
    return c.body(null, 204)
  })

  app.get('/me', requireUser(chat), (c) => c.json({ user: userView(c.get('user')) }))

  return app
}
