/**
 * @module /api/cities/:cityId moderation: slow mode (its moderators), city moderators (admins),
 * and restrictions — ban, mute, shadow — listed, added and lifted by its moderators. Mounted
 * inside the city routes, behind their bearer auth (one token check per request).
 */
import { Hono } from 'hono'
import { cityIdParam, cityUserParam, restrictionBody, slowModeBody } from '../../chat/inputs.ts'
import type { Chat } from '../../chat/service.ts'
import { cityView, restrictionView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { sendError } from '../middleware/errors.ts'
import { readBody, readParams } from '../validate.ts'

export function cityModerationRoutes(chat: Chat) {
  const app = new Hono<AppEnv>()
  app.patch('/:cityId', async (c) => {
    const params = readParams(c, cityIdParam)
    if (!params.ok) return sendError(c, params.error)
    const body = await readBody(c, slowModeBody)
    if (!body.ok) return sendError(c, body.error)
    const city = await chat.setSlowMode(
      c.get('user'),
      params.value.cityId,
      body.value.slowModeSeconds
    )
    if (!city.ok) return sendError(c, city.error)
    return c.json({ city: cityView(city.value) })
  })

  for (const [method, on] of [
    ['put', true],
    ['delete', false],
  ] as const) {
    app[method]('/:cityId/moderators/:userId', async (c) => {
      const params = readParams(c, cityUserParam)
      if (!params.ok) return sendError(c, params.error)
      const { cityId, userId } = params.value
      const done = await chat.setCityModerator(c.get('user'), cityId, userId, on)
      if (!done.ok) return sendError(c, done.error)
      return c.body(null, 204)
    })
  }

  app.get('/:cityId/restrictions', async (c) => {
    const params = readParams(c, cityIdParam)
    if (!params.ok) return sendError(c, params.error)
    const list = await chat.listRestrictions(c.get('user'), params.value.cityId)
    if (!list.ok) return sendError(c, list.error)
    return c.json({ restrictions: list.value.map(restrictionView) })
  })

  app.post('/:cityId/restrictions', async (c) => {
    const params = readParams(c, cityIdParam)
    if (!params.ok) return sendError(c, params.error)
    const body = await readBody(c, restrictionBody)
    if (!body.ok) return sendError(c, body.error)
    const row = await chat.restrict(c.get('user'), params.value.cityId, body.value)
    if (!row.ok) return sendError(c, row.error)
    return c.json({ restriction: restrictionView(row.value) }, 201)
  })

  app.delete('/:cityId/restrictions/:userId', async (c) => {
    const params = readParams(c, cityUserParam)
    if (!params.ok) return sendError(c, params.error)
    const { cityId, userId } = params.value
    const done = await chat.liftRestrictions(c.get('user'), cityId, userId)
    if (!done.ok) return sendError(c, done.error)
    return c.body(null, 204)
  })

  return app
}
