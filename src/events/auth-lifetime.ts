/**
 * @module Token lifetime on live sockets: the official server checks the token only at the
 * handshake; here a socket whose access token expires is told why and disconnected, unless it
 * renewed the token in place with `refresh-auth` `{ token }`. Deactivated users lose every socket.
 */
import { refreshAuthPayload } from '../chat/inputs.ts'
import { userTopic } from '../chat/rooms.ts'
import type { Chat } from '../chat/service.ts'
import { fail, ok } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { IOServer, IOSocket } from '../realtime/index.ts'
import { on } from './respond.ts'
import { userOf } from './room-handlers.ts'

/** Every socket of a user is in this room (chat/rooms.ts), so a deactivation reaches all of them. */
export const userRoom = userTopic

/** Every socket of one login session is in this room, so signing it out reaches them (any node). */
export const sessionRoom = (sessionId: string): string => `session:${sessionId}`

/** What a client is told before the server disconnects it; `event: 'auth'` marks it actionable. */
const TOKEN_EXPIRED = {
  code: 'unauthorized',
  message: 'token expired',
  event: 'auth',
} as const
const ACCOUNT_DEACTIVATED = {
  code: 'unauthorized',
  message: 'account deactivated',
  event: 'auth',
} as const

/** Expiries are checked this often; a socket goes at most this late. */
const SLOT_MS = 250

export interface TokenExpiry {
  /** (Re)arms for `socket.data.tokenExpiresAt` (epoch ms or null: never). */
  arm(socket: IOSocket): void
  disarm(socket: IOSocket): void
  close(): void
}

/**
 * Token expiry for every socket on one timer: sockets are grouped by the 250 ms slot their token
 * expires in (`socket.data.expirySlot`), not given a timer each — 10k idle sockets, one timer.
 * @example const expiry = createTokenExpiry(); expiry.arm(socket)
 */
export function createTokenExpiry(): TokenExpiry {
  const slots = new Map<number, Set<IOSocket>>()
  let timer: ReturnType<typeof setInterval> | undefined

  const expire = (socket: IOSocket) => {
    if (!socket.connected) return
    // The reason goes first; a server-side DISCONNECT stops the client's auto-reconnect until it
    // sets a fresh token and calls connect(), which is what the guide's client does. Suspended,
    // not just disconnected: that reconnect resumes its rooms and missed messages.
    socket.emit('error', TOKEN_EXPIRED)
    socket.suspend()
  }
  const tick = () => {
    const now = Date.now()
    for (const [slot, sockets] of slots) {
      if (slot * SLOT_MS > now) continue
      slots.delete(slot)
      for (const socket of sockets) {
        socket.data.expirySlot = undefined
        expire(socket)
      }
    }
    if (slots.size === 0) {
      clearInterval(timer)
      timer = undefined
    }
  }
  const disarm = (socket: IOSocket) => {
    const slot = socket.data.expirySlot as number | undefined
    if (slot === undefined) return
    socket.data.expirySlot = undefined
    const sockets = slots.get(slot)
    sockets?.delete(socket)
    if (sockets?.size === 0) slots.delete(slot)
  }

  return {
    arm(socket) {
      disarm(socket)
      const expiresAt = (socket.data.tokenExpiresAt as number | null | undefined) ?? null
      if (expiresAt === null || !socket.connected) return
      if (expiresAt <= Date.now()) return expire(socket)
      const slot = Math.ceil(expiresAt / SLOT_MS)
      socket.data.expirySlot = slot
      let sockets = slots.get(slot)
      if (!sockets) {
        sockets = new Set()
        slots.set(slot, sockets)
      }
      sockets.add(socket)
      if (!timer) {
        timer = setInterval(tick, SLOT_MS)
        timer.unref?.()
      }
    },
    disarm,
    close() {
      clearInterval(timer)
      timer = undefined
      slots.clear()
    },
  }
}

/**
 * Registers `refresh-auth` (shared by every socket): a new token of the same user moves the expiry.
 * @example registerAuthLifetime({ io, chat, log }, createTokenExpiry())
 */
export function registerAuthLifetime(
  deps: { io: IOServer; chat: Chat; log: Logger },
  expiry: TokenExpiry
): void {
  on(deps.io, deps.log, 'refresh-auth', refreshAuthPayload, async (socket, { token }) => {
    const session = await deps.chat.authenticateSocket(token)
    if (!session.ok) return session
    if (session.value.user.id !== userOf(socket).id) {
      return fail('forbidden', 'the new token belongs to another user')
    }
    if (session.value.sessionId !== null && session.value.sessionId !== socket.data.sessionId) {
      if (typeof socket.data.sessionId === 'string')
        socket.leave(sessionRoom(socket.data.sessionId))
      socket.data.sessionId = session.value.sessionId
      socket.join(sessionRoom(session.value.sessionId))
    }
    const expiresAt = session.value.expiresAt
    socket.data.tokenExpiresAt = expiresAt
    socket.data.user = session.value.user
    expiry.arm(socket)
    return ok({
      expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    })
  })
}

const SESSION_ENDED = {
  code: 'unauthorized',
  message: 'session signed out',
  event: 'auth',
} as const

/**
 * Closes every socket of the ended sessions at once (on every node), telling each why first.
 * @example endSessions(io, ['64f…'])
 */
export function endSessions(io: IOServer, sessionIds: string[]): void {
  if (sessionIds.length === 0) return
  const rooms = sessionIds.map(sessionRoom)
  io.to(rooms).emit('error', SESSION_ENDED)
  io.in(rooms).disconnectSockets()
}

/**
 * Closes every socket of a deactivated user at once, telling each why first.
 * @example createUserDeactivation(io)('64f…')
 */
export function disconnectUser(io: IOServer, userId: string): void {
  const room = userTopic(userId)
  io.to(room).emit('error', ACCOUNT_DEACTIVATED)
  io.in(room).disconnectSockets()
}
