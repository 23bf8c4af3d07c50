/**
 * @module Presence events (the guide's presence.js): online counts, who is online in a room,
 * one user's status, `user-offline`, and the heartbeat. Users are counted once however many tabs.
 */
import { z } from 'zod'
import {
  chatRoomPayload,
  checkUserOnlinePayload,
  cityRoomPayload,
  heartbeatPayload,
} from '../chat/inputs.ts'
import { type PresenceStore, presenceUser, type RoomLeft } from '../chat/presence.ts'
import { chatRoom, cityRoom, isChatRoom, kindOf, roomOfTopic, topicOf } from '../chat/rooms.ts'
import { actorView, onlineUserView } from '../chat/views.ts'
import { ok } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { IOServer, IOSocket } from '../realtime/index.ts'
import { on } from './respond.ts'
import { type EventDeps, userOf } from './room-handlers.ts'

const noPayload = z.unknown()

/**
 * `online-users` goes to everyone on every change; changes that land together (a reconnect
 * storm) are coalesced into one broadcast of the latest count a few milliseconds later.
 */
export function createOnlineCountBroadcaster(
  io: IOServer,
  presence: PresenceStore,
  log: Logger,
  delayMs = 25
): () => void {
  let pending: ReturnType<typeof setTimeout> | undefined
  return () => {
    if (pending) return
    pending = setTimeout(() => {
      pending = undefined
      // Redis down: no count to give; the next change after it is back broadcasts one.
      presence.onlineCount().then(
        (count) => io.emit('online-users', count),
        (error: unknown) => log.warn('online count unavailable', { error })
      )
    }, delayMs)
  }
}

/** The most users one pushed `city-online-users` lists; its `count` is always the whole room. */
export const ROOM_ONLINE_USERS_CAP = 100

/** What a city room's online list is built from: a room's presence, capped. */
async function cityOnlineUsers(presence: PresenceStore, cityId: string, cap: number) {
  const all = await presence.roomUsers(topicOf(cityRoom(cityId)))
  return { cityId, count: all.length, users: all.slice(0, cap).map(onlineUserView) }
}

/**
 * `city-online-users` goes to a city room whenever its members change (a user's first socket
 * joins, the last one leaves), so a count shown once stays true. Changes that land together are
 * coalesced per room into one push a few milliseconds later, as `online-users` is; the node where
 * the change happened pushes it, and io's adapter carries it to the room on every node.
 */
export function createRoomOnlineBroadcaster(
  io: IOServer,
  presence: PresenceStore,
  log: Logger,
  delayMs = 25,
  cap = ROOM_ONLINE_USERS_CAP
): (topic: string) => void {
  const pending = new Set<string>()
  return (topic) => {
    const room = roomOfTopic(topic)
    if (room?.kind !== 'city' || pending.has(topic)) return
    pending.add(topic)
    setTimeout(() => {
      pending.delete(topic)
      cityOnlineUsers(presence, room.id, cap).then(
        (answer) => io.to(topic).emit('city-online-users', answer),
        (error: unknown) => log.warn('room presence unavailable', { topic, error })
      )
    }, delayMs)
  }
}

/** Who hears `user-offline` (PRESENCE_SCOPE): every socket, or only those sharing a room. */
export type PresenceScope = 'all' | 'shared'

interface OfflineUser {
  userId: string
  username: string
}

/**
 * `user-offline` to every socket (`all`, the guide), or (`shared`) one emit to the union of the
 * chat rooms the user held: the adapter gives each socket in any of them the frame once, on every
 * node, so the cost is the sockets of those rooms rather than every online user. No rooms, no one.
 */
function announceOffline(
  io: IOServer,
  scope: PresenceScope,
  { userId, username }: OfflineUser,
  at: Date,
  rooms: ReadonlySet<string> | undefined
): void {
  const payload = { userId, username, lastSeen: at.toISOString() }
  if (scope === 'all') io.emit('user-offline', payload)
  else if (rooms && rooms.size > 0) io.to([...rooms]).emit('user-offline', payload)
}

/**
 * This node's `user-offline` after a socket went. With `shared` it holds the chat rooms each
 * dropped socket was in (read at `disconnecting`, before they are left) until that socket's
 * presence removal ran, so a user's last socket going is heard in the rooms of every socket of
 * theirs that dropped on this node within the grace. With `all` it holds nothing.
 */
export function createOfflineNotice(io: IOServer, scope: PresenceScope) {
  const held = new Map<string, { rooms: Set<string>; pending: number }>()
  return {
    /** The socket is disconnecting: its rooms are still known. */
    dropping(socket: IOSocket): void {
      if (scope === 'all') return
      const userId = userOf(socket).id
      let entry = held.get(userId)
      if (!entry) {
        entry = { rooms: new Set(), pending: 0 }
        held.set(userId, entry)
      }
      entry.pending++
      for (const room of socket.rooms) if (isChatRoom(room)) entry.rooms.add(room)
    },
    /** The dropped socket's presence removal ran; `last`: it was the user's last connection. */
    removed(user: OfflineUser, at: Date, last: boolean): void {
      const entry = held.get(user.userId)
      if (entry && --entry.pending <= 0) held.delete(user.userId)
      if (last) announceOffline(io, scope, user, at, entry?.rooms)
    },
  }
}

export type OfflineNotice = ReturnType<typeof createOfflineNotice>

/**
 * Users taken off presence without a local disconnect (the node holding their last connection
 * died, reaped by this node): `user-offline` for each (with `shared`, to the rooms the dead node
 * held them in), then the new count. Runs on one node only, and io's adapter carries it to every node.
 */
async function announceUsersOffline(
  io: IOServer,
  presence: PresenceStore,
  scope: PresenceScope,
  users: readonly OfflineUser[],
  roomsOf: ReadonlyMap<string, ReadonlySet<string>>,
  at: Date
): Promise<void> {
  for (const user of users) announceOffline(io, scope, user, at, roomsOf.get(user.userId))
  io.emit('online-users', await presence.onlineCount())
}

/**
 * What this node announces when presence changed without a local socket event (a dead node
 * reaped, Redis back after an outage). A reap reports the rooms left (`roomsLeft`) just before
 * the users lost; a lost user's rooms on the dead node are all among them.
 * @example scale.announceTo(createPresenceAnnouncer(io, presence, log, 'all'))
 */
export function createPresenceAnnouncer(
  io: IOServer,
  presence: PresenceStore,
  log: Logger,
  scope: PresenceScope
) {
  let roomsOf = new Map<string, Set<string>>()
  const lost = (users: readonly OfflineUser[], at: Date) => {
    const rooms = roomsOf
    roomsOf = new Map()
    announceUsersOffline(io, presence, scope, users, rooms, at).catch((error) =>
      log.error('announcing offline users failed', { error })
    )
  }
  const roomChanged = createRoomOnlineBroadcaster(io, presence, log)
  return {
    roomsLeft: (left: readonly RoomLeft[]) => {
      announceRoomsLeft(io, left)
      for (const { room, user } of left) {
        roomChanged(room)
        if (scope === 'all') continue
        const rooms = roomsOf.get(user.userId)
        if (rooms) rooms.add(room)
        else roomsOf.set(user.userId, new Set([room]))
      }
    },
    usersLost: lost,
    resynced: () => lost([], new Date()),
  }
}

/**
 * A dead node's sockets were a user's last in these rooms: the others hear them stop typing (the
 * typing state died with the node) and `user-left-*`, as from a leave. (Survivors reap the node;
 * exactly one of them announces it.)
 */
function announceRoomsLeft(io: IOServer, left: readonly RoomLeft[]): void {
  for (const { room, user } of left) {
    const target = roomOfTopic(room)
    if (!target) continue
    const actor = { id: user.userId, username: user.username, fullName: user.fullName }
    const payload = actorView(target, actor)
    io.to(room).emit(kindOf(target).events.userStoppedTyping, payload)
    io.to(room).emit(kindOf(target).events.userLeft, payload)
  }
}

/** Once per server: the handlers are shared by every socket. */
export function registerPresence(deps: EventDeps): void {
  const { io, chat, presence, log } = deps

  on(io, log, 'get-online-count', noPayload, async (socket) => {
    const count = await presence.onlineCount()
    socket.emit('online-users', count)
    return ok({ count })
  })

  on(io, log, 'get-city-online-users', cityRoomPayload, async (socket, { cityId }) => {
    const room = cityRoom(cityId)
    const entry = await chat.canEnter(userOf(socket), room)
    if (!entry.ok) return entry
    // Asked for, the list is whole; only the pushes are capped.
    const answer = await cityOnlineUsers(presence, cityId, Number.POSITIVE_INFINITY)
    socket.emit('city-online-users', answer)
    return ok(answer)
  })

  on(io, log, 'get-chat-online-users', chatRoomPayload, async (socket, { chatId }) => {
    const entry = await chat.canEnter(userOf(socket), chatRoom(chatId))
    if (!entry.ok) return entry
    const online = await presence.onlineAmong(await chat.listChatMemberIds(chatId))
    const users = (await chat.findUsersByIds([...online])).map((user) =>
      onlineUserView(presenceUser(user))
    )
    const answer = { chatId, count: users.length, users }
    socket.emit('chat-online-users', answer)
    return ok(answer)
  })

  on(io, log, 'check-user-online', checkUserOnlinePayload, async (socket, { userId }) => {
    const target = await chat.getUser(userId)
    if (!target.ok) return target
    const status = await presence.status(target.value.id)
    // Presence knows since its store started; the database since ever (a restart without Redis).
    const stored = status.isOnline ? null : chat.lastSeen.of(target.value)
    const lastSeen = status.lastSeen ?? (stored === null ? null : new Date(stored))
    const answer = {
      userId: target.value.id,
      isOnline: status.isOnline,
      lastSeen: lastSeen?.toISOString() ?? null,
    }
    socket.emit('user-online-status', answer)
    return ok(answer)
  })

  on(io, log, 'heartbeat', heartbeatPayload, (socket, { timestamp }) => {
    const serverTime = Date.now()
    const answer = { timestamp: timestamp ?? serverTime, serverTime }
    socket.emit('heartbeat-ack', answer)
    return ok(answer)
  })
}

/**
 * A socket went: after `graceMs` its connection leaves presence, and its user is offline when it
 * was the last one (`user-offline`, new count). A user back within the grace (on any node) was
 * never offline to anyone: their new connection is counted before the old one goes.
 */
export function presenceDisconnected(
  socket: IOSocket,
  deps: EventDeps,
  announceOnlineCount: () => void,
  offline: OfflineNotice,
  graceMs: number
): void {
  // Seen until now, whatever the grace decides (and written even if the process stops within it).
  deps.chat.lastSeen.disconnected(userOf(socket).id)
  if (graceMs <= 0) {
    void removePresence(socket, deps, announceOnlineCount, offline)
    return
  }
  setTimeout(() => void removePresence(socket, deps, announceOnlineCount, offline), graceMs)
}

async function removePresence(
  socket: IOSocket,
  deps: EventDeps,
  announceOnlineCount: () => void,
  offline: OfflineNotice
): Promise<void> {
  const user = userOf(socket)
  const at = new Date()
  let last = false
  try {
    last = (await deps.presence.removeConnection(user.id, socket.id, at)).changed
  } catch (error) {
    deps.log.error('presence update failed on disconnect', { userId: user.id, error })
  }
  offline.removed({ userId: user.id, username: user.username }, at, last)
  if (last) announceOnlineCount()
}
