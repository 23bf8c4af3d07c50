/**
 * @module /api/admin (admins): set a user's role, create / rename / archive cities, the word
 * filter, the audit log of every moderation action, and registered webhooks with their
 * deliveries. The domain checks the role.
 */
import { Hono } from 'hono'
import { erasureView } from '../../chat/erasure.ts'
import {
  auditQuery,
  cityIdParam,
  createCityBody,
  createWebhookBody,
  eraseUserBody,
  setRoleBody,
  updateCityBody,
  userIdParam,
  webhookDeliveriesQuery,
  webhookIdParam,
  wordFilterBody,
} from '../../chat/inputs.ts'
import type { Chat } from '../../chat/service.ts'
import {
  auditView,
  cityView,
  publicUserView,
  webhookDeliveryView,
  webhookView,
} from '../../chat/views.ts'
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

  app.post('/webhooks', async (c) => {
    const body = await readBody(c, createWebhookBody)
    if (!body.ok) return sendError(c, body.error)
    const made = await chat.webhooks.registerWebhook(c.get('user'), body.value)
    if (!made.ok) return sendError(c, made.error)
    return c.json({ webhook: webhookView(made.value.hook), secret: made.value.hook.secret }, 201)
  })

  app.get('/webhooks', async (c) => {
    const hooks = await chat.webhooks.listRegisteredWebhooks(c.get('user'))
    if (!hooks.ok) return sendError(c, hooks.error)
    return c.json({ webhooks: hooks.value.map(webhookView) })
  })

  app.delete('/webhooks/:id', async (c) => {
    const params = readParams(c, webhookIdParam)
    if (!params.ok) return sendError(c, params.error)
    const removed = await chat.webhooks.removeWebhook(c.get('user'), params.value.id)
    if (!removed.ok) return sendError(c, removed.error)
    return c.body(null, 204)
  })

  app.get('/webhooks/:id/deliveries', async (c) => {
    const params = readParams(c, webhookIdParam)
    if (!params.ok) return sendError(c, params.error)
    const query = readQuery(c, webhookDeliveriesQuery)
    if (!query.ok) return sendError(c, query.error)
    const page = await chat.webhooks.listDeliveries(c.get('user'), params.value.id, query.value)
    if (!page.ok) return sendError(c, page.error)
    return c.json({
      deliveries: page.value.deliveries.map(webhookDeliveryView),
      hasMore: page.value.hasMore,
    })
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
