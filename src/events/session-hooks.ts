/**
 * @module Connection state recovery over the room stream: the realtime layer's hooks. A socket's
 * chat rooms are kept in the stream while it lives (events/connection.ts, room-handlers.ts) and
 * saved again when it drops, so a reconnect with the same user resumes them even after the node
 * was killed — every room re-checked by the access rule — and receives every event it missed,
 * in order.
 */
import { isChatRoom, type RoomRef, roomOfTopic, topicOf } from '../chat/rooms.ts'
import type { Chat, User } from '../chat/service.ts'
import type { Logger } from '../log.ts'
import type { IOSocket, RecoveryHooks } from '../realtime/index.ts'

/**
 * Keeps a live socket's session (its chat rooms) in the room stream, so it resumes even if this
 * process dies: called when it connects and whenever its rooms change. Sockets without a pid
 * (recovery off) have nothing to keep.
 */
export function trackSession(chat: Chat, socket: IOSocket): void {
  if (socket.pid === undefined) return
  const rooms: RoomRef[] = []
  for (const topic of socket.rooms) {
    const room = isChatRoom(topic) ? roomOfTopic(topic) : null
    if (room) rooms.push(room)
  }
  chat.stream.trackSession({
    pid: socket.pid,
    socketId: socket.id,
    userId: (socket.data.user as User).id,
    rooms,
  })
}

/**
 * @example const io = createIO({ recovery: chat.stream.enabled ? createSessionHooks(chat, log) : undefined })
 */
export function createSessionHooks(chat: Chat, log: Logger): RecoveryHooks {
  return {
    async save({ pid, id, rooms, data }) {
      const user = data.user as User | undefined
      if (!user) return
      const chatRooms = rooms.map(roomOfTopic).filter((room): room is RoomRef => room !== null)
      await chat.stream.dropSession({ pid, socketId: id, userId: user.id, rooms: chatRooms })
    },
    async restore({ pid, offset, socket }) {
      // The handshake middleware already verified the (possibly refreshed) token.
      const actor = socket.data.user as User
      const resumed = await chat.stream.resume({ pid, offset, actor })
      if (!resumed.ok) {
        log.debug('session not resumed', { userId: actor.id, reason: resumed.error.message })
        return undefined
      }
      const { socketId, rooms, missed } = resumed.value
      return { id: socketId, rooms: rooms.map(topicOf), missed }
    },
    forget: (pid) => chat.stream.forgetSession(pid),
  }
}
