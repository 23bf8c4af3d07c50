/**
 * @module Token lifetime on live sockets: the official server checks the token only at the
 * handshake; here a socket whose access token expires is told why and disconnected, unless it
 * renewed the token in place with `refresh-auth` `{ token }`. Deactivated users lose every socket.
 */
import { refreshAuthPayload } from '../chat/inputs.ts'
import type { Chat } from '../chat/service.ts'
import { fail, ok } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { IOServer, IOSocket } from '../realtime/index.ts'
import { on } from './respond.ts'
import { userOf } from './room-handlers.ts'

/** setTimeout's largest delay; a later expiry is re-checked when this fires. */
const MAX_DELAY = 2_147_483_647

/** Every socket of a user is in this room, so a deactivation reaches all of them (any node). */
export const userRoom = (userId: string): string => `user:${userId}`

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

/** The expiry timer of one socket, in `socket.data.expiry` (nothing else per socket). */
const timerOf = (socket: IOSocket) =>
  socket.data.expiryTimer as ReturnType<typeof setTimeout> | undefined

/**
 * Arms the expiry timer for the socket's token; `socket.data.tokenExpiresAt` (epoch ms or null)
 * was set by the handshake middleware or by `refresh-auth`.
 * @example armTokenExpiry(socket)
 */
export function armTokenExpiry(socket: IOSocket): void {
  clearTimeout(timerOf(socket))
  socket.data.expiryTimer = undefined
  const expiresAt = (socket.data.tokenExpiresAt as number | null | undefined) ?? null
  if (expiresAt === null || !socket.connected) return
  const delay = expiresAt - Date.now()
  if (delay <= 0) {
    // The reason goes first; a server-side DISCONNECT stops the client's auto-reconnect until it
    // sets a fresh token and calls connect(), which is what the guide's client does. Suspended,
    // not just disconnected: that reconnect resumes its rooms and missed messages.
    socket.emit('error', TOKEN_EXPIRED)
    socket.suspend()
    return
  }
  socket.data.expiryTimer = setTimeout(armTokenExpiry, Math.min(delay, MAX_DELAY), socket)
}

/** A socket went: its expiry timer goes with it. */
export function disarmTokenExpiry(socket: IOSocket): void {
  clearTimeout(timerOf(socket))
  socket.data.expiryTimer = undefined
}

/**
 * Registers `refresh-auth` (shared by every socket): a new token of the same user moves the expiry.
 * @example registerAuthLifetime({ io, chat, log })
 */
export function registerAuthLifetime(deps: { io: IOServer; chat: Chat; log: Logger }): void {
  on(deps.io, deps.log, 'refresh-auth', refreshAuthPayload, async (socket, { token }) => {
    const session = await deps.chat.authenticate(token)
    if (!session.ok) return session
    if (session.value.user.id !== userOf(socket).id) {
      return fail('forbidden', 'the new token belongs to another user')
    }
    const expiresAt = session.value.expiresAt
    socket.data.tokenExpiresAt = expiresAt
    socket.data.user = session.value.user
    armTokenExpiry(socket)
    return ok({
      expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    })
  })
}

/**
 * Closes every socket of a deactivated user at once, telling each why first.
 * @example createUserDeactivation(io)('64f…')
 */
export function disconnectUser(io: IOServer, userId: string): void {
  const room = userRoom(userId)
  io.to(room).emit('error', ACCOUNT_DEACTIVATED)
  io.in(room).disconnectSockets()
}
