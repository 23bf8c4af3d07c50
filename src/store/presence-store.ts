/** @module Presence store interface: who is connected, and who sits in which room, across all nodes. */

/** What presence keeps of a user: enough to answer the guide's online-user lists without a DB read. */
export interface PresenceUser {
  userId: string
  username: string
  fullName: string
  profilePhotoUrl: string | null
}

/** A user a dead node's sockets were the last of in a room (presence-redis.ts reaps them). */
export interface RoomLeft {
  room: string
  user: PresenceUser
}

export interface ConnectionChange {
  /** True when this was the user's first (connect) or last (disconnect) live connection. */
  changed: boolean
  /** Distinct users online after the change. */
  onlineCount: number
}

/**
 * Two implementations exist: `presence-memory.ts` (one process) and `presence-redis.ts` (several nodes).
 * Connections are counted per socket id, users are counted once however many tabs they have.
 */
export interface PresenceStore {
  addConnection(user: PresenceUser, socketId: string): Promise<ConnectionChange>
  removeConnection(userId: string, socketId: string, at: Date): Promise<ConnectionChange>
  onlineCount(): Promise<number>
  /** The user's live connections (on every node, for the Redis store). */
  connectionCount(userId: string): Promise<number>
  /** `lastSeen` is null while online, or when never seen since the store started. */
  status(userId: string): Promise<{ isOnline: boolean; lastSeen: Date | null }>
  /** The subset of `userIds` that is online. */
  onlineAmong(userIds: readonly string[]): Promise<Set<string>>
  /** True when the user had no socket in the room before (announce the join once per user). */
  joinRoom(room: string, userId: string, socketId: string): Promise<boolean>
  /** True when the user has no socket left in the room (announce the leave once per user). */
  leaveRoom(room: string, userId: string, socketId: string): Promise<boolean>
  /** Distinct users with at least one socket in the room. */
  roomUsers(room: string): Promise<PresenceUser[]>
  close(): Promise<void>
}
