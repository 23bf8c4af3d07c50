/**
 * @module /api/admin (admins): set a user's role, create / rename / archive cities, the word
 * filter, and the audit log of every moderation action. The domain checks the role.
 */
import { Hono } from 'hono'
import { erasureView } from '../../chat/erasure.ts'
import {
  auditQuery,
  cityIdParam,
  createCityBody,
  eraseUserBody,
  setRoleBody,
  updateCityBody,
  userIdParam,
  wordFilterBody,
} from '../../chat/inputs.ts'
import type { Chat } from '../../chat/service.ts'
import { auditView, cityView, publicUserView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readBody, readParams, readQuery } from '../validate.ts'

export function adminRoutes(chat: Chat) {
  const app = new Hono<AppEnv>()
  app.use('*', requireUser(chat))

  app.patch('/users/:userId', async (c) => {
    const params = readParams(c, userIdParam)
    if (!params.ok) return sendError(c, params.error)
    const body = await readBody(c, setRoleBody)
    if (!body.ok) return sendError(c, body.error)
    const user = await chat.setRole(c.get('user'), params.value.userId, body.value.role)
    if (!user.ok) return sendError(c, user.error)
    return c.json({ user: { ...publicUserView(user.value), role: user.value.role } })
  })

  /** Erases a user's account as `DELETE /api/users/me` with erase does (audited). */
  app.post('/users/:userId/erase', async (c) => {
    const params = readParams(c, userIdParam)
    if (!params.ok) return sendError(c, params.error)
    const body = await readBody(c, eraseUserBody)
    if (!body.ok) return sendError(c, body.error)
    const erased = await chat.erasure.eraseUser(
      c.get('user'),
      params.value.userId,
      body.value.reason
    )
    if (!erased.ok) return sendError(c, erased.error)
    return c.json({ erasure: erasureView(erased.value) }, 202)
  })

  app.post('/cities', async (c) => {
    const body = await readBody(c, createCityBody)
    if (!body.ok) return sendError(c, body.error)
    const city = await chat.createCity(c.get('user'), body.value)
    if (!city.ok) return sendError(c, city.error)
    return c.json({ city: cityView(city.value) }, 201)
  })

  app.patch('/cities/:cityId', async (c) => {
    const params = readParams(c, cityIdParam)
    if (!params.ok) return sendError(c, params.error)
    const body = await readBody(c, updateCityBody)
    if (!body.ok) return sendError(c, body.error)
    const city = await chat.updateCity(c.get('user'), params.value.cityId, body.value)
    if (!city.ok) return sendError(c, city.error)
    return c.json({ city: cityView(city.value) })
  })

  app.get('/word-filter', async (c) => {
    const filter = await chat.getWordFilter(c.get('user'))
    if (!filter.ok) return sendError(c, filter.error)
    return c.json({ terms: filter.value })
  })

  app.put('/word-filter', async (c) => {
    const body = await readBody(c, wordFilterBody)
    if (!body.ok) return sendError(c, body.error)
    const filter = await chat.setWordFilter(c.get('user'), body.value.terms)
    if (!filter.ok) return sendError(c, filter.error)
    return c.json({ terms: filter.value })
  })

  app.get('/audit', async (c) => {
    const query = readQuery(c, auditQuery)
    if (!query.ok) return sendError(c, query.error)
    if (c.get('user').role !== 'admin')
      return sendError(c, { code: 'forbidden', message: 'only an admin may do this' })
    const entries = await chat.listAudit(query.value.limit, query.value.before)
    if (!entries.ok) return sendError(c, entries.error)
    return c.json({ entries: entries.value.map(auditView) })
  })

  return app
}
