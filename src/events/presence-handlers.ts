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
import { chatRoom, cityRoom, kindOf, roomOfTopic, topicOf } from '../chat/rooms.ts'
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

/**
 * Users taken off presence without a local disconnect (the node holding their last connection
 * died, reaped by this node): `user-offline` for each, then the new count. Runs on one node only,
 * and io's adapter carries it to every node.
 */
async function announceUsersOffline(
  io: IOServer,
  presence: PresenceStore,
  users: readonly { userId: string; username: string }[],
  at: Date
): Promise<void> {
  for (const { userId, username } of users) {
    io.emit('user-offline', { userId, username, lastSeen: at.toISOString() })
  }
  io.emit('online-users', await presence.onlineCount())
}

/**
 * What this node announces when presence changed without a local socket event (a dead node
 * reaped, Redis back after an outage).
 * @example scale.announceTo(createPresenceAnnouncer(io, presence, log))
 */
export function createPresenceAnnouncer(io: IOServer, presence: PresenceStore, log: Logger) {
  const lost = (users: readonly { userId: string; username: string }[], at: Date) =>
    announceUsersOffline(io, presence, users, at).catch((error) =>
      log.error('announcing offline users failed', { error })
    )
  const roomChanged = createRoomOnlineBroadcaster(io, presence, log)
  return {
    roomsLeft: (left: readonly RoomLeft[]) => {
      announceRoomsLeft(io, left)
      for (const { room } of left) roomChanged(room)
    },
    usersLost: lost,
    resynced: () => void lost([], new Date()),
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
  graceMs: number
): void {
  // Seen until now, whatever the grace decides (and written even if the process stops within it).
  deps.chat.lastSeen.mark(userOf(socket).id)
  if (graceMs <= 0) {
    void removePresence(socket, deps, announceOnlineCount)
    return
  }
  setTimeout(() => void removePresence(socket, deps, announceOnlineCount), graceMs)
}

async function removePresence(
  socket: IOSocket,
  deps: EventDeps,
  announceOnlineCount: () => void
): Promise<void> {
  const user = userOf(socket)
  try {
    const at = new Date()
    const change = await deps.presence.removeConnection(user.id, socket.id, at)
    if (!change.changed) return
    deps.io.emit('user-offline', {
      userId: user.id,
      username: user.username,
      lastSeen: at.toISOString(),
    })
    announceOnlineCount()
  } catch (error) {
    deps.log.error('presence update failed on disconnect', { userId: user.id, error })
  }
}
