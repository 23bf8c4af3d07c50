/**
 * @module Recovery hooks for the realtime layer, over the chat's room event log: a dropped
 * socket's chat rooms are saved (in the database, so a restart keeps them); a reconnect with the
 * same user resumes them, re-checking each room (a user removed from a private chat while away
 * gets nothing from it), and receives every message, edit and delete it missed, in order.
 */
import type { Chat, User } from '../chat/service.ts'
import type { Logger } from '../log.ts'
import type { RecoveryHooks } from '../realtime/index.ts'
import { isChatRoom, storedRoomOfTopic } from './rooms.ts'

/**
 * @example const io = createIO({ recovery: chat.roomLog.enabled ? createRecoveryHooks(chat, log) : undefined })
 */
export function createRecoveryHooks(chat: Chat, log: Logger): RecoveryHooks {
  return {
    async save({ pid, id, rooms, data }) {
      const user = data.user as User | undefined
      if (!user) return
      await chat.roomLog.saveSession({
        pid,
        socketId: id,
        userId: user.id,
        rooms: rooms.filter(isChatRoom),
      })
    },
    async restore({ pid, offset, socket }) {
      // The handshake middleware already verified the (possibly refreshed) token.
      const user = socket.data.user as User
      const resumed = await chat.roomLog.resume({
        pid,
        offset,
        userId: user.id,
        allowed: (rooms) => allowedRooms(chat, user, rooms),
      })
      if (!resumed.ok) {
        log.debug('session not resumed', { userId: user.id, reason: resumed.error.message })
        return undefined
      }
      const { socketId, rooms, missed } = resumed.value
      return { id: socketId, rooms, missed }
    },
  }
}

/** The saved rooms the user may still enter: the city still exists, the user is still a member. */
async function allowedRooms(chat: Chat, user: User, rooms: string[]): Promise<string[]> {
  const allowed: string[] = []
  for (const room of rooms) {
    const stored = storedRoomOfTopic(room)
    if (!stored) continue
    const access =
      'cityId' in stored
        ? await chat.getCity(stored.cityId)
        : await chat.requireChatMember(user, stored.chatId)
    if (access.ok) allowed.push(room)
  }
  return allowed
}
