/** @module /api/cities: list, read, and each city's message history and REST send. */
import { Hono } from 'hono'
import type { ChatEvents } from '../../chat/chat-events.ts'
import { cityIdParam } from '../../chat/inputs.ts'
import type { Chat } from '../../chat/service.ts'
import { cityView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readParams } from '../validate.ts'
import { listRoomMessages, postRoomMessage } from './history.ts'

export function cityRoutes(chat: Chat, events: ChatEvents) {
  const app = new Hono<AppEnv>()
  app.use('*', requireUser(chat))

  app.get('/', async (c) => {
    const cities = await chat.listCities()
    if (!cities.ok) return sendError(c, cities.error)
    return c.json({ cities: cities.value.map(cityView) })
  })

  app.get('/:cityId', async (c) => {
    const params = readParams(c, cityIdParam)
    if (!params.ok) return sendError(c, params.error)
    const city = await chat.getCity(params.value.cityId)
    if (!city.ok) return sendError(c, city.error)
    return c.json({ city: cityView(city.value) })
  })

  app.get('/:cityId/messages', (c) => {
    const params = readParams(c, cityIdParam)
    if (!params.ok) return sendError(c, params.error)
    return listRoomMessages(c, chat, { cityId: params.value.cityId })
  })

  app.post('/:cityId/messages', (c) => {
    const params = readParams(c, cityIdParam)
    if (!params.ok) return sendError(c, params.error)
    return postRoomMessage(c, chat, events, { cityId: params.value.cityId })
  })

  return app
}
