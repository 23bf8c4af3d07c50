/**
 * @module Connection: authenticates handshakes, registers the guide's handlers on every socket,
 * and cleans up typing and room presence when a socket goes. The events layer's one entry point.
 */
import type { ChatNotices } from '../chat/notices.ts'
import { type PresenceStore, presenceUser } from '../chat/presence.ts'
import { kindOf, roomOfTopic } from '../chat/rooms.ts'
import type { Chat } from '../chat/service.ts'
import { createTypingTracker } from '../chat/typing.ts'
import { joinerView } from '../chat/views.ts'
import type { Logger } from '../log.ts'
import type { IOServer, IOSocket, MiddlewareError } from '../realtime/index.ts'
import { createTokenExpiry, registerAuthLifetime, sessionRoom, userRoom } from './auth-lifetime.ts'
import { registerCityChat } from './city-chat.ts'
import { createModerationOutlet } from './moderation-outlet.ts'
import { createChatNotices } from './notices.ts'
import { createNotificationPublisher } from './notification-publisher.ts'
import {
  createOfflineNotice,
  createOnlineCountBroadcaster,
  createRoomOnlineBroadcaster,
  type PresenceScope,
  presenceDisconnected,
  registerPresence,
} from './presence-handlers.ts'
import { evictMembers, registerPrivateChat } from './private-chat.ts'
import { registerReactions } from './reaction-handlers.ts'
import { settleHandlers } from './respond.ts'
import { type EventDeps, leaveRoom, type TypingNotice, userOf } from './room-handlers.ts'
import { createRoomPublisher } from './room-publisher.ts'
import { trackSession } from './session-hooks.ts'

export interface ChatEventsOptions {
  io: IOServer
  chat: Chat
  presence: PresenceStore
  log: Logger
  /** A typing state not refreshed for this long stops by itself. */
  typingTimeoutMs: number
  /** City and private rooms one socket may have joined at once. */
  maxRoomsPerSocket: number
  /** Open sockets one user may have on every node; a further handshake is refused. */
  maxConnectionsPerUser: number
  /** A user whose last socket dropped counts as online this long, so a reconnect is no offline. */
  presenceGraceMs: number
  /** Who hears `user-offline`: every socket, or those sharing a chat room with the user. */
  presenceScope: PresenceScope
}

/** A resumed socket is back in its rooms: count it in their online lists again. */
async function rejoinPresence(socket: IOSocket, deps: EventDeps): Promise<void> {
  const user = userOf(socket)
  for (const topic of socket.rooms) {
    const room = roomOfTopic(topic)
    if (room && (await deps.presence.joinRoom(topic, user.id, socket.id))) {
      socket.to(topic).emit(kindOf(room).events.userJoined, joinerView(room, user))
      deps.roomChanged(topic)
    }
  }
}

/** Rooms are still known while disconnecting; after 'disconnect' they are gone. */
async function leaveChatRooms(socket: IOSocket, deps: EventDeps): Promise<void> {
  for (const topic of [...socket.rooms]) {
    const room = roomOfTopic(topic)
    if (room) await leaveRoom(socket, deps, room, true)
  }
}

/** The guide's message for every refused handshake; the client sees it as `connect_error`. */
const AUTH_ERROR = 'Authentication error'

/**
 * Wires the chat onto the realtime layer: the room stream hands its events to io's rooms, and the
 * guide's handlers serve every socket. Returns the notices REST writes should raise, and
 * `close()` for shutdown.
 * @example
 * const realtime = attachChatEvents({ io, chat, presence, log, typingTimeoutMs: 5_000,
 *   maxRoomsPerSocket: 100, maxConnectionsPerUser: 20, presenceGraceMs: 5_000,
 *   presenceScope: 'all' })
 * createApp({ chat, notices: realtime.notices, log, readiness })
 */
export function attachChatEvents({
  io,
  chat,
  presence,
  log,
  typingTimeoutMs,
  maxRoomsPerSocket,
  maxConnectionsPerUser,
  presenceGraceMs,
  presenceScope,
}: ChatEventsOptions) {
  chat.stream.attach(createRoomPublisher(io))
  chat.notifier.attach(createNotificationPublisher(io))
  const typing = createTypingTracker<TypingNotice>({
    ttlMs: typingTimeoutMs,
    sweepMs: Math.min(1_000, typingTimeoutMs / 2),
    onExpire: ({ room, socketId, who }) =>
      io.to(room).except(socketId).emit(who.kind.events.userStoppedTyping, who.payload),
  })
  const roomChanged = createRoomOnlineBroadcaster(io, presence, log)
  const deps: EventDeps = { io, chat, presence, typing, log, maxRoomsPerSocket, roomChanged }
  chat.moderation.attach(createModerationOutlet(deps))
  const notices: ChatNotices = createChatNotices(io, log, (chatId, userIds) =>
    evictMembers(deps, chatId, userIds)
  )
  // An erased account: its sockets close on every node, its chats hear it left (as a leave).
  chat.erasure.attach({
    accountErased(userId, chatIds) {
      for (const chatId of chatIds) notices.chatMembersRemoved(chatId, [userId])
      notices.userDeactivated(userId)
    },
  })

  const announceOnlineCount = createOnlineCountBroadcaster(io, presence, log)
  const offline = createOfflineNotice(io, presenceScope)
  /** Open sockets per user on this node. */
  const connections = new Map<string, number>()
  /**
   * The user's open sockets for the connection limit: on every node as presence counts them, or
   * this node's own while presence cannot answer (Redis down). A socket is counted in presence
   * just after its CONNECT, so handshakes racing on two nodes may both pass.
   */
  const openSockets = async (userId: string): Promise<number> => {
    const here = connections.get(userId) ?? 0
    try {
      return Math.max(here, await presence.connectionCount(userId))
    } catch {
      return here
    }
  }

  io.use(async (socket, next) => {
    try {
      const session = await chat.authenticateSocket(socket.handshake.auth.token)
      if (!session.ok) return next(new Error(AUTH_ERROR))
      const { user, expiresAt, sessionId } = session.value
      if ((await openSockets(user.id)) >= maxConnectionsPerUser) {
        const refusal: MiddlewareError = new Error('Too many connections')
        refusal.data = { code: 'rate_limited', limit: maxConnectionsPerUser }
        return next(refusal)
      }
      socket.data.user = user
      socket.data.tokenExpiresAt = expiresAt
      socket.data.sessionId = sessionId
      next()
    } catch (error) {
      log.error('handshake verification failed', { error })
      const refusal: MiddlewareError = new Error(AUTH_ERROR)
      next(refusal)
    }
  })

  // The guide's events: one shared handler table for every socket, not closures per socket.
  const expiry = createTokenExpiry()
  registerAuthLifetime(deps, expiry)
  registerCityChat(deps)
  registerReactions(deps)
  registerPrivateChat(deps, notices)
  registerPresence(deps)

  // Leaving, like the events: shared by every socket, no listener or closure per socket.
  io.sockets.handle('disconnecting', (socket: IOSocket) => {
    offline.dropping(socket)
    return leaveChatRooms(socket, deps)
  })
  io.sockets.handle('disconnect', (socket: IOSocket) => {
    const userId = userOf(socket).id
    const left = (connections.get(userId) ?? 1) - 1
    if (left > 0) connections.set(userId, left)
    else connections.delete(userId)
    expiry.disarm(socket)
    presenceDisconnected(socket, deps, announceOnlineCount, offline, presenceGraceMs)
  })

  io.on('connection', async (socket) => {
    const user = userOf(socket)
    connections.set(user.id, (connections.get(user.id) ?? 0) + 1)
    socket.join(userRoom(user.id))
    if (typeof socket.data.sessionId === 'string') socket.join(sessionRoom(socket.data.sessionId))
    expiry.arm(socket)
    if (socket.recovered) await rejoinPresence(socket, deps)
    // Resumable even if this process dies: its rooms are kept in the stream while it lives.
    trackSession(chat, socket)
    chat.lastSeen.connected(user.id)
    try {
      const change = await presence.addConnection(presenceUser(user), socket.id)
      if (change.changed) announceOnlineCount()
    } catch (error) {
      log.error('presence update failed on connect', { userId: user.id, error })
    }
  })

  return {
    notices,
    /** Resolves once every socket handler already running has answered (graceful shutdown). */
    async settle() {
      await settleHandlers(io)
      await chat.stream.settled()
    },
    close() {
      typing.close()
      expiry.close()
      chat.moderation.close()
      chat.stream.close()
    },
  }
}
