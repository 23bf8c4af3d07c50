/**
 * @module Live notifications: each new one goes as a `notification` event to the user's own room,
 * which every socket of theirs is in, on every node (the adapter relays user rooms too).
 */
import type { NotificationPublisher } from '../chat/notifications.ts'
import { notificationView } from '../chat/views.ts'
import type { IOServer } from '../realtime/index.ts'
import { userRoom } from './auth-lifetime.ts'

/** @example chat.notifier.attach(createNotificationPublisher(io)) */
export function createNotificationPublisher(io: IOServer): NotificationPublisher {
  return {
    notify(userId, notification) {
      io.to(userRoom(userId)).emit('notification', notificationView(notification))
    },
  }
}
