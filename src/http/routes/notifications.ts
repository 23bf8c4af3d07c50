/**
 * @module /api/notifications (my feed, newest first; mark read up to one) and
 * /api/notification-settings/:roomKind/:roomId (my level and mute for a room).
 */
import { Hono } from 'hono'
import {
  notificationSettingBody,
  notificationsQuery,
  notificationsReadBody,
  roomSettingParam,
} from '../../chat/inputs.ts'
import type { RoomRef } from '../../chat/rooms.ts'
import type { Chat } from '../../chat/service.ts'
import { notificationSettingView, notificationView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readBody, readParams, readQuery } from '../validate.ts'

export function notificationRoutes(chat: Chat) {
  const app = new Hono<AppEnv>()
  app.use('*', requireUser(chat))

  app.get('/', async (c) => {
    const query = readQuery(c, notificationsQuery)
    if (!query.ok) return sendError(c, query.error)
    const feed = await chat.notifier.listMyNotifications(c.get('user'), query.value)
    if (!feed.ok) return sendError(c, feed.error)
    const { notifications, hasMore, unreadCount } = feed.value
    return c.json({ notifications: notifications.map(notificationView), hasMore, unreadCount })
  })

  app.post('/read', async (c) => {
    const body = await readBody(c, notificationsReadBody)
    if (!body.ok) return sendError(c, body.error)
    const done = await chat.notifier.markNotificationsReadUpTo(c.get('user'), body.value.upTo)
    if (!done.ok) return sendError(c, done.error)
    return c.json(done.value)
  })

  return app
}

export function notificationSettingRoutes(chat: Chat) {
  const app = new Hono<AppEnv>()
  app.use('*', requireUser(chat))

  app.get('/:roomKind/:roomId', async (c) => {
    const params = readParams(c, roomSettingParam)
    if (!params.ok) return sendError(c, params.error)
    const room: RoomRef = { kind: params.value.roomKind, id: params.value.roomId }
    const setting = await chat.getNotificationSetting(c.get('user'), room)
    if (!setting.ok) return sendError(c, setting.error)
    return c.json({ setting: notificationSettingView(room, setting.value) })
  })

  app.put('/:roomKind/:roomId', async (c) => {
    const params = readParams(c, roomSettingParam)
    if (!params.ok) return sendError(c, params.error)
    const body = await readBody(c, notificationSettingBody)
    if (!body.ok) return sendError(c, body.error)
    const room: RoomRef = { kind: params.value.roomKind, id: params.value.roomId }
    const saved = await chat.setNotificationSetting(c.get('user'), room, body.value)
    if (!saved.ok) return sendError(c, saved.error)
    return c.json({ setting: notificationSettingView(room, saved.value) })
  })

  return app
}
