/**
 * @module Presence in the domain: what presence keeps of a user, and the store interface the
 * events layer talks to (memory or Redis, chosen by the server).
 */
import type { PresenceUser } from '../store/presence-store.ts'
import type { User } from './service.ts'

export type { PresenceStore, PresenceUser, RoomLeft } from '../store/presence-store.ts'

/** The public fields the guide's online-user lists carry (chat/views.ts onlineUserView). */
export const presenceUser = (user: User): PresenceUser => ({
  userId: user.id,
  username: user.username,
  fullName: user.fullName,
  profilePhotoUrl: user.profilePhotoUrl,
})
