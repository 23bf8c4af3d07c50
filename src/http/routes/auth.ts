/**
 * @module /api/auth: register, login, refresh (rotating), logout, me. The web client asks for
 * its refresh token as an HttpOnly cookie scoped to /api/auth/refresh (header `X-Refresh-Cookie: 1`
 * on login, register and refresh); API and mobile clients get it in the JSON body.
 */
import { type Context, Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { loginBody, refreshOrCookieBody, registerBody } from '../../chat/inputs.ts'
import type { Chat } from '../../chat/service.ts'
import { userView } from '../../chat/views.ts'
import { clientInfo } from '../client-info.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { createLoginThrottle, type LoginThrottleOptions } from '../middleware/login-throttle.ts'
import { readBody } from '../validate.ts'

export interface AuthRouteOptions {
  throttle: LoginThrottleOptions
  /** Secure cookies (every environment but development, which may run on plain http). */
  secureCookies: boolean
  refreshTtlMs: number
}

const COOKIE = 'mc_refresh'
const COOKIE_PATH = '/api/auth/refresh'
/** Asks for cookie mode; on /refresh also the CSRF guard: a cross-site page cannot send it. */
const COOKIE_HEADER = 'x-refresh-cookie'

const wantsCookie = (c: Context<AppEnv>) => c.req.header(COOKIE_HEADER) === '1'

/**
 * CSRF protection for the cookie on /refresh: SameSite=Strict keeps it off cross-site requests,
 * the custom header needs a CORS preflight no other origin passes (it is not in the allowed
 * headers), and an Origin, when the browser sends one, must be this server's own.
 */
function sameOrigin(c: Context<AppEnv>): boolean {
  const origin = c.req.header('origin')
  if (origin === undefined) return true
  return origin === new URL(c.req.url).origin
}

/**
 * Throttling sits in front of /login (per account and per address) and /register (per address:
 * it costs one argon2 hash like a login).
 */
export function authRoutes(chat: Chat, options: AuthRouteOptions) {
  const app = new Hono<AppEnv>()
  const throttle = createLoginThrottle(options.throttle)

  /** The session's answer: the refresh token in the body, or as the cookie for the browser. */
  const answer = (
    c: Context<AppEnv>,
    tokens: { accessToken: string; refreshToken: string },
    extra: object,
    status: 200 | 201
  ) => {
    if (!wantsCookie(c)) return c.json({ ...extra, ...tokens }, status)
    setCookie(c, COOKIE, tokens.refreshToken, {
      path: COOKIE_PATH,
      httpOnly: true,
      secure: options.secureCookies,
      sameSite: 'Strict',
      maxAge: Math.floor(options.refreshTtlMs / 1000),
    })
    return c.json({ ...extra, accessToken: tokens.accessToken }, status)
  }

  app.post('/register', throttle.checkRegister, async (c) => {
    const body = await readBody(c, registerBody)
    if (!body.ok) return sendError(c, body.error)
    const session = await chat.register(body.value, clientInfo(c))
    if (!session.ok) return sendError(c, session.error)
    const { user, ...tokens } = session.value
    return answer(c, tokens, { user: userView(user) }, 201)
  })

  app.post('/login', throttle.check, async (c) => {
    const body = await readBody(c, loginBody)
    if (!body.ok) return sendError(c, body.error)
    const session = await chat.login(body.value, clientInfo(c))
    if (!session.ok) return sendError(c, session.error)
    await throttle.succeeded(body.value.login)
    const { user, ...tokens } = session.value
    return answer(c, tokens, { user: userView(user) }, 200)
  })

  app.post('/refresh', async (c) => {
    const body = await readBody(c, refreshOrCookieBody)
    if (!body.ok) return sendError(c, body.error)
    let token = body.value.refreshToken
    if (token === undefined) {
      if (!wantsCookie(c))
        return sendError(c, { code: 'invalid_input', message: 'refreshToken is required' })
      if (!sameOrigin(c))
        return sendError(c, { code: 'forbidden', message: 'refresh cookie refused (CSRF guard)' })
      token = getCookie(c, COOKIE)
      if (!token) return sendError(c, { code: 'unauthorized', message: 'no refresh token' })
    }
    const tokens = await chat.refresh(token, clientInfo(c))
    if (!tokens.ok) {
      if (body.value.refreshToken === undefined) deleteCookie(c, COOKIE, { path: COOKIE_PATH })
      return sendError(c, tokens.error)
    }
    return answer(c, tokens.value, {}, 200)
  })

  /**
   * Revokes the session of `refreshToken`; in cookie mode (the web client, which never sees its
   * refresh token), the session of the bearer access token, and the cookie is cleared.
   */
  app.post('/logout', async (c) => {
    const body = await readBody(c, refreshOrCookieBody)
    if (!body.ok) return sendError(c, body.error)
    if (body.value.refreshToken !== undefined) await chat.logout(body.value.refreshToken)
    else if (!wantsCookie(c))
      return sendError(c, { code: 'invalid_input', message: 'refreshToken is required' })
    else {
      const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1]
      const session = await chat.authenticate(bearer)
      if (!session.ok) return sendError(c, session.error)
      if (session.value.sessionId !== null)
        await chat.revokeSession(session.value.user, session.value.sessionId)
      deleteCookie(c, COOKIE, { path: COOKIE_PATH })
    }
    return c.body(null, 204)
  })

  app.get('/me', requireUser(chat), (c) => c.json({ user: userView(c.get('user')) }))

  return app
}
