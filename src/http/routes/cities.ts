/**
 * @module /api/cities: list (with my unread and mention counts), read, mark read, each city's
 * message history and REST send, and its moderation (routes/moderation.ts).
 */
import { Hono } from 'hono'
import { cityIdParam } from '../../chat/inputs.ts'
import type { ChatNotices } from '../../chat/notices.ts'
import { cityRoom } from '../../chat/rooms.ts'
import type { Chat } from '../../chat/service.ts'
import { cityForViewerView, cityWithCountsView, readView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readParams } from '../validate.ts'
import { cityModerationRoutes } from './moderation.ts'
import { listRoomMessages, listRoomPins, postRoomMessage } from './room-messages.ts'

export function cityRoutes(chat: Chat, notices: ChatNotices) {
  const app = new Hono<AppEnv>()
  app.use('*', requireUser(chat))

  app.get('/', async (c) => {
    const cities = await chat.listCitiesFor(c.get('user'))
    if (!cities.ok) return sendError(c, cities.error)
    return c.json({ cities: cities.value.map(cityWithCountsView) })
  })

  app.post('/:cityId/read', async (c) => {
    const params = readParams(c, cityIdParam)
    if (!params.ok) return sendError(c, params.error)
    const receipt = await chat.markCityRead(c.get('user'), params.value.cityId)
    if (!receipt.ok) return sendError(c, receipt.error)
    notices.messagesRead(receipt.value)
    return c.json(readView(receipt.value))
  })

  app.get('/:cityId', async (c) => {
    const params = readParams(c, cityIdParam)
    if (!params.ok) return sendError(c, params.error)
    const city = await chat.getCityFor(c.get('user'), params.value.cityId)
    if (!city.ok) return sendError(c, city.error)
    return c.json({ city: cityForViewerView(city.value) })
  })

  app.get('/:cityId/messages', (c) => {
    const params = readParams(c, cityIdParam)
    if (!params.ok) return sendError(c, params.error)
    return listRoomMessages(c, chat, cityRoom(params.value.cityId))
  })

  app.get('/:cityId/pins', (c) => {
    const params = readParams(c, cityIdParam)
    if (!params.ok) return sendError(c, params.error)
    return listRoomPins(c, chat, cityRoom(params.value.cityId))
  })

  app.post('/:cityId/messages', (c) => {
    const params = readParams(c, cityIdParam)
    if (!params.ok) return sendError(c, params.error)
    return postRoomMessage(c, chat, cityRoom(params.value.cityId))
  })

  app.route('/', cityModerationRoutes(chat))
  return app
}
