/** @module Chat test clients: registered users with connected official socket.io clients. */
import { expect } from 'bun:test'
import type { Socket } from 'socket.io-client'
import { api, type RegisteredUser, registerUser } from './api.ts'
import { type ClientOptions, client, once } from './realtime.ts'

export interface ChatClient extends RegisteredUser {
  socket: Socket
  /** Every event this socket received, in order: [name, ...args]. */
  received: unknown[][]
  /** Events received with that name (first argument of each). */
  got<T = any>(event: string): T[]
}

/** Registers a user and connects a socket for it (websocket unless told otherwise). */
export async function chatUser(url: string, options: ClientOptions = {}): Promise<ChatClient> {
  const registered = await registerUser(url)
  return connectAs(url, registered, options)
}

/** Another connection (a second tab) for an already registered user. */
export async function connectAs(
  url: string,
  registered: RegisteredUser,
  options: ClientOptions = {}
): Promise<ChatClient> {
  const socket = client(url, {
    transports: ['websocket'],
    auth: { token: registered.accessToken },
    ...options,
  })
  const received: unknown[][] = []
  socket.onAny((event: string, ...args: unknown[]) => received.push([event, ...args]))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', (err) => reject(err))
  })
  return {
    ...registered,
    socket,
    received,
    got: (event) => received.filter(([name]) => name === event).map(([, first]) => first as any),
  }
}

/**
 * The clients a test file opened, disconnected together in afterEach.
 * @example const clients = trackClients(); afterEach(() => clients.disconnectAll())
 */
export function trackClients() {
  const open: ChatClient[] = []
  const track = (...clients: ChatClient[]) => {
    open.push(...clients)
    return clients[0] as ChatClient
  }
  return {
    track,
    /** Registers a user, connects it, and tracks the socket. */
    user: async (url: string, options: ClientOptions = {}) => track(await chatUser(url, options)),
    disconnectAll() {
      for (const client of open.splice(0)) client.socket.disconnect()
    },
  }
}

/** Emits with an ack and resolves with the ack's answer. */
export function ask<T = any>(socket: Socket, event: string, payload?: unknown): Promise<T> {
  return payload === undefined
    ? socket.timeout(5_000).emitWithAck(event)
    : socket.timeout(5_000).emitWithAck(event, payload)
}

/**
 * A delivery barrier: the server answers this socket's heartbeat after it has handled everything
 * this socket sent before, and on one connection frames arrive in order. So after a broadcast
 * reached its room, a barrier on an outsider proves the outsider got nothing.
 */
export async function barrier(socket: Socket): Promise<void> {
  await ask(socket, 'heartbeat')
}

/** Joins a city and waits for the confirmation. */
export async function joinCity(user: ChatClient, cityId = 'mumbai'): Promise<void> {
  const joined = once(user.socket, 'joined-city-chat')
  const ack = await ask(user.socket, 'join-city-chat', { cityId })
  if (!ack.ok) throw new Error(`join failed: ${JSON.stringify(ack)}`)
  await joined
}

/** Waits for a `city-online-users` for `cityId` whose count is `count` (pushed or answered). */
export function cityOnline(client: ChatClient, cityId: string, count: number): Promise<any> {
  return new Promise((resolve) => {
    const check = (answer: { cityId: string; count: number }) => {
      if (answer.cityId !== cityId || answer.count !== count) return
      client.socket.off('city-online-users', check)
      resolve(answer)
    }
    client.socket.on('city-online-users', check)
  })
}

/** Creates a private chat owned by `owner` with `members`, over REST. */
export async function createPrivateChat(
  url: string,
  owner: RegisteredUser,
  members: RegisteredUser[],
  name = 'Trip'
): Promise<string> {
  const res = await api(url, 'POST', '/api/chats', {
    token: owner.accessToken,
    body: { name, memberIds: members.map((m) => m.user._id) },
  })
  if (res.status !== 201) throw new Error(`create chat failed: ${JSON.stringify(res.body)}`)
  return res.body.chat._id
}

export { once }

/** Sends a city message (a reply when `reply_to` is given), expects the ack ok, returns the message. */
export async function say(who: ChatClient, cityId: string, content: string, reply_to?: string) {
  const ack = await ask(who.socket, 'send-city-message', { cityId, content, reply_to })
  expect(ack.ok).toBe(true)
  return ack.message
}
