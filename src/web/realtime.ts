/** @module Socket connection: auth with the access token, refresh on "Authentication error", reconnect status. */
import type { Socket } from 'socket.io-client'
// The package's browser build, not its main entry: `bun build --compile` bundles HTML imports
// with Bun/Node export conditions, which would pull engine.io-client's Node transports
// (xmlhttprequest-ssl, node:https) into the page (oven-sh/bun#24077). dist/socket.io.js is
// the official, self-contained browser client (socket.io-client 4.x, same API).
import io from 'socket.io-client/dist/socket.io.js'
import { readAccessToken, refreshAccessToken } from './session.ts'

export type ConnectionStatus =
  | { state: 'connecting' }
  | { state: 'connected' }
  | { state: 'reconnecting'; attempt: number; reason: string; everConnected: boolean }
  | { state: 'refused'; message: string }

export interface RealtimeOptions {
  onStatus: (status: ConnectionStatus) => void
  /** Every successful connect; `again` is false the first time. `recovered` is socket.io's flag. */
  onConnect: (info: { again: boolean; recovered: boolean }) => void
  /** The refresh token is gone or rejected: back to the login screen. */
  onSessionLost: () => void
}

/** Consecutive refused handshakes we answer with a token refresh before giving up. */
const MAX_AUTH_RETRIES = 3

/**
 * Connects to the same origin as the page. The client starts with long-polling and upgrades
 * to WebSocket (socket.io-client defaults), exactly as a guide-following client would.
 */
export function connectRealtime(options: RealtimeOptions): Socket {
  const socket = io({
    auth: { token: readAccessToken() ?? '' },
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
  })
  let connectedOnce = false
  let authRetries = 0

  socket.on('connect', () => {
    authRetries = 0
    options.onStatus({ state: 'connected' })
    options.onConnect({ again: connectedOnce, recovered: socket.recovered })
    connectedOnce = true
  })

  socket.on('disconnect', async (reason) => {
    // 'io client disconnect' is our own logout; every other reason reconnects by itself,
    // except 'io server disconnect', which socket.io leaves to the client.
    if (reason === 'io client disconnect') return
    options.onStatus({ state: 'reconnecting', attempt: 0, reason, everConnected: connectedOnce })
    if (reason !== 'io server disconnect') return
    // The server ends a socket whose access token expired (after an `error` with code
    // unauthorized): refresh first, so the next handshake is not refused.
    const fresh = await refreshAccessToken()
    if (!fresh) return options.onSessionLost()
    socket.auth = { token: fresh }
    socket.connect()
  })

  socket.io.on('reconnect_attempt', (attempt) => {
    options.onStatus({
      state: 'reconnecting',
      attempt,
      reason: 'transport',
      everConnected: connectedOnce,
    })
  })

  socket.on('connect_error', async (error) => {
    // socket.active: a transport failure the manager retries by itself. Otherwise the server
    // refused the CONNECT (middleware), and socket.io will not retry without us.
    if (socket.active) {
      options.onStatus({
        state: 'reconnecting',
        attempt: 0,
        reason: error.message,
        everConnected: connectedOnce,
      })
      return
    }
    if (!/auth|token|jwt|expired/i.test(error.message) || authRetries >= MAX_AUTH_RETRIES) {
      options.onStatus({ state: 'refused', message: error.message })
      if (authRetries >= MAX_AUTH_RETRIES) options.onSessionLost()
      return
    }
    authRetries++
    const fresh = await refreshAccessToken()
    if (!fresh) {
      options.onSessionLost()
      return
    }
    socket.auth = { token: fresh }
    socket.connect()
  })

  return socket
}

/** A REST call refreshed the token: use it for the next handshake too. */
export function updateSocketToken(socket: Socket, token: string): void {
  socket.auth = { token }
}
