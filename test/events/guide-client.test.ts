/**
 * @module The guide's client code, run as written: its connection snippet and the React
 * CityChatWindow effect (state setters replaced by plain variables), over the client's default
 * transports (polling, then the upgrade to WebSocket).
 */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { io, type Socket } from 'socket.io-client'
import { registerUser } from '../helpers/api.ts'
import { once } from '../helpers/chat-client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
const sockets: Socket[] = []

beforeEach(async () => {
  server = await startServer()
})
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close()
  await server.stop()
})

/** The guide's SocketProvider + CityChatWindow, minus React. */
function cityChatWindow(url: string, token: string, cityId: string) {
  const state = {
    isConnected: false,
    messages: [] as any[],
    typingUsers: new Set<string>(),
    onlineCount: 0,
    joinedNotices: [] as string[],
    errors: [] as string[],
  }
  const newSocket = io(url, { auth: { token }, forceNew: true })
  sockets.push(newSocket)
  newSocket.on('connect', () => {
    state.isConnected = true
    // useEffect body, run once connected:
    newSocket.emit('join-city-chat', { cityId })
    newSocket.emit('get-city-online-users', { cityId })
  })
  newSocket.on('disconnect', () => {
    state.isConnected = false
  })
  newSocket.on('error', (error: { message: string }) => state.errors.push(error.message))
  newSocket.on('new-city-message', (message) => {
    state.messages = [...state.messages, message]
  })
  newSocket.on('user-typing-city', (data) => {
    if (data.cityId === cityId) state.typingUsers = new Set(state.typingUsers).add(data.username)
  })
  newSocket.on('city-online-users', (data) => {
    if (data.cityId === cityId) state.onlineCount = data.count
  })
  newSocket.on('user-joined-city-chat', (data) => {
    if (data.cityId === cityId) state.joinedNotices.push(`${data.full_name} joined`)
  })
  const handleSendMessage = (messageInput: string) => {
    if (!messageInput.trim()) return
    newSocket.emit('send-city-message', { cityId, content: messageInput.trim() })
  }
  const handleTyping = () => newSocket.emit('city-typing', { cityId })
  const cleanup = () => {
    newSocket.emit('leave-city-chat', { cityId })
    newSocket.off('new-city-message')
    newSocket.off('user-typing-city')
    newSocket.off('city-online-users')
    newSocket.off('user-joined-city-chat')
  }
  return { socket: newSocket, state, handleSendMessage, handleTyping, cleanup }
}

async function until(check: () => boolean): Promise<void> {
  // Polls a React-like state; each step yields to the event loop so socket events land.
  for (let i = 0; i < 500 && !check(); i++) await Bun.sleep(10)
  expect(check()).toBe(true)
}

test('two users chat through the guide CityChatWindow flow', async () => {
  const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)])
  const a = cityChatWindow(server.url, alice.accessToken, 'mumbai')
  await once(a.socket, 'joined-city-chat')
  const b = cityChatWindow(server.url, bob.accessToken, 'mumbai')
  await once(b.socket, 'city-online-users')
  expect(b.state.onlineCount).toBe(2)
  await until(() => a.state.joinedNotices.length === 1)
  expect(a.state.joinedNotices).toEqual([`${bob.user.full_name} joined`])

  b.handleTyping()
  await until(() => a.state.typingUsers.has(bob.user.username))

  a.handleSendMessage('  Hello everyone! 👋  ')
  a.handleSendMessage('   ')
  await until(() => b.state.messages.length === 1 && a.state.messages.length === 1)
  const [message] = b.state.messages
  expect(message.content).toBe('Hello everyone! 👋')
  expect(message.sender_id.full_name).toBe(alice.user.full_name)
  expect(new Date(message.created_at).toLocaleTimeString()).toBeString()

  // The guide's heartbeat: latency from data.timestamp.
  const ack = once<any>(a.socket, 'heartbeat-ack')
  a.socket.emit('heartbeat')
  const latency = Date.now() - (await ack).timestamp
  // Without a client timestamp the server echoes its own clock (same machine here).
  expect(Math.abs(latency)).toBeLessThan(1_000)

  a.cleanup()
  await once(a.socket, 'left-city-chat')
  b.handleSendMessage('still there?')
  await until(() => b.state.messages.length === 2)
  expect(a.state.messages).toHaveLength(1)
  expect(a.state.errors).toEqual([])
  expect(b.state.errors).toEqual([])
})

test('the guide reconnect pattern: refresh the token, set socket.auth.token, connect()', async () => {
  const alice = await registerUser(server.url)
  const socket = io(server.url, { auth: { token: 'expired-or-bad' }, forceNew: true })
  sockets.push(socket)
  const error = await once<Error>(socket, 'connect_error')
  expect(error.message).toBe('Authentication error')
  ;(socket.auth as Record<string, string>).token = alice.accessToken
  socket.connect()
  await once(socket, 'connect')
  expect(socket.connected).toBe(true)
})
