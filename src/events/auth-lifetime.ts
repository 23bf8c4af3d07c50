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

interface Lifetime {
  expiresAt: number | null
  timer: ReturnType<typeof setTimeout> | undefined
}

/**
 * Arms the expiry timer for the token the socket connected with and registers `refresh-auth`.
 * `socket.data.tokenExpiresAt` (epoch ms or null) was set by the handshake middleware.
 * @example registerAuthLifetime(socket, { chat, log })
 */
export function registerAuthLifetime(socket: IOSocket, deps: { chat: Chat; log: Logger }): void {
  const user = userOf(socket)
  const lifetime: Lifetime = {
    expiresAt: (socket.data.tokenExpiresAt as number | null | undefined) ?? null,
    timer: undefined,
  }

  const arm = () => {
    clearTimeout(lifetime.timer)
    lifetime.timer = undefined
    if (lifetime.expiresAt === null || !socket.connected) return
    const delay = lifetime.expiresAt - Date.now()
    if (delay <= 0) return expire()
    lifetime.timer = setTimeout(arm, Math.min(delay, MAX_DELAY))
  }
  const expire = () => {
    // The reason goes first; a server-side DISCONNECT stops the client's auto-reconnect until it
    // sets a fresh token and calls connect(), which is what the guide's client does. Suspended,
    // not just disconnected: that reconnect resumes its rooms and missed messages.
    socket.emit('error', TOKEN_EXPIRED)
    socket.suspend()
  }

  on(socket, deps.log, 'refresh-auth', refreshAuthPayload, async ({ token }) => {
    const session = await deps.chat.authenticate(token)
    if (!session.ok) return session
    if (session.value.user.id !== user.id) {
      return fail('forbidden', 'the new token belongs to another user')
    }
    lifetime.expiresAt = session.value.expiresAt
    socket.data.tokenExpiresAt = lifetime.expiresAt
    socket.data.user = session.value.user
    arm()
    return ok({
      expiresAt: lifetime.expiresAt === null ? null : new Date(lifetime.expiresAt).toISOString(),
    })
  })

  socket.on('disconnect', () => clearTimeout(lifetime.timer))
  arm()
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
