/**
 * @module Moderation on live sockets: a banned user's sockets on this node leave the city room
 * and hear `left-city-chat` `{ cityId, reason: 'banned', until, note }` (every node does this for its
 * own sockets when the change feed tells it, chat/moderation.ts); `report-created` goes to the
 * moderators' user rooms, which reach their sockets on every node.
 */
import type { ModerationOutlet } from '../chat/moderation.ts'
import { CITY, cityRoom, topicOf, userTopic } from '../chat/rooms.ts'
import { bannedView } from '../chat/views.ts'
import { type EventDeps, leaveRoom } from './room-handlers.ts'

/** @example chat.moderation.attach(createModerationOutlet(deps)) */
export function createModerationOutlet(deps: EventDeps): ModerationOutlet {
  const { io, log } = deps
  return {
    banned(cityId, userId, ban) {
      const room = cityRoom(cityId)
      const topic = topicOf(room)
      void (async () => {
        for (const socket of await io.local.in(userTopic(userId)).fetchSockets()) {
          if (!socket.inRoom(topic)) continue
          await leaveRoom(socket, deps, room)
          socket.emit(CITY.events.left, bannedView(cityId, ban))
        }
      })().catch((error) => log.error('evicting a banned user failed', { cityId, error }))
    },
    reportCreated(userIds, payload) {
      if (userIds.length > 0) io.to(userIds.map(userTopic)).emit('report-created', payload)
    },
  }
}
