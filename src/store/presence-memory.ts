/** @module In-process presence: the single-node PresenceStore, plain maps and sets. */
import type { ConnectionChange, PresenceStore, PresenceUser } from './presence-store.ts'

/**
 * @example const presence = createMemoryPresence()
 */
export function createMemoryPresence(): PresenceStore {
  const socketsByUser = new Map<string, Set<string>>()
  const users = new Map<string, PresenceUser>()
  const lastSeen = new Map<string, Date>()
  /** room → userId → socket ids of that user in the room */
  const rooms = new Map<string, Map<string, Set<string>>>()

  const change = (changed: boolean): ConnectionChange => ({
    changed,
    onlineCount: socketsByUser.size,
  })

  return {
    async addConnection(user, socketId) {
      users.set(user.userId, user)
      const sockets = socketsByUser.get(user.userId)
      if (sockets) {
        sockets.add(socketId)
        return change(false)
      }
      socketsByUser.set(user.userId, new Set([socketId]))
      lastSeen.delete(user.userId)
      return change(true)
    },
    async removeConnection(userId, socketId, at) {
      const sockets = socketsByUser.get(userId)
      if (!sockets?.delete(socketId)) return change(false)
      if (sockets.size > 0) return change(false)
      socketsByUser.delete(userId)
      users.delete(userId)
      lastSeen.set(userId, at)
      return change(true)
    },
    async onlineCount() {
      return socketsByUser.size
    },
    async connectionCount(userId) {
      return socketsByUser.get(userId)?.size ?? 0
    },
    async status(userId) {
      const isOnline = socketsByUser.has(userId)
      return { isOnline, lastSeen: isOnline ? null : (lastSeen.get(userId) ?? null) }
    },
    async onlineAmong(userIds) {
      return new Set(userIds.filter((id) => socketsByUser.has(id)))
    },
    async joinRoom(room, userId, socketId) {
      let members = rooms.get(room)
      if (!members) rooms.set(room, (members = new Map()))
      const sockets = members.get(userId)
      if (sockets) {
        sockets.add(socketId)
        return false
      }
      members.set(userId, new Set([socketId]))
      return true
    },
    async leaveRoom(room, userId, socketId) {
      const members = rooms.get(room)
      const sockets = members?.get(userId)
      if (!members || !sockets?.delete(socketId)) return false
      if (sockets.size > 0) return false
      members.delete(userId)
      if (members.size === 0) rooms.delete(room)
      return true
    },
    async roomUsers(room) {
      const members = rooms.get(room)
      if (!members) return []
      return [...members.keys()].flatMap((id) => {
        const user = users.get(id)
        return user ? [user] : []
      })
    },
    async close() {
      socketsByUser.clear()
      rooms.clear()
    },
  }
}
