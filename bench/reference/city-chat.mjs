/** @module The city-chat semantics shared by every reference server: JWT auth, rooms, message shape, presence count. */
// Plain JavaScript on purpose: Node 20 runs socketio-node.mjs without a TypeScript loader.
// Types for the TypeScript references live in city-chat.d.mts.
import { jwtVerify } from 'jose'

const MAX_CONTENT = 5_000

/** Turns a city slug into the display name the guide shows (`mumbai` → `Mumbai`). */
export function cityName(cityId) {
  return cityId.charAt(0).toUpperCase() + cityId.slice(1)
}

/**
 * Verifies an HS256 access token and returns the public user it names, or null.
 * The bench signs `{ sub, username, full_name }`; there is no user table behind the references.
 */
export function createVerifier(secret) {
  const key = new TextEncoder().encode(secret)
  return async function verifyToken(token) {
    if (typeof token !== 'string' || token.length === 0) return null
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] })
      if (typeof payload.sub !== 'string') return null
      return {
        _id: payload.sub,
        username: String(payload.username ?? payload.sub),
        full_name: String(payload.full_name ?? payload.sub),
        profile_photo_url: null,
      }
    } catch {
      return null
    }
  }
}

/** Time-sortable ids (the contract's `_id`): 12 hex digits of milliseconds + a per-process counter. */
export function createIdGenerator() {
  let counter = 0
  const prefix = Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, '0')
  return function nextId() {
    counter = (counter + 1) % 0x1000000
    return `${Date.now().toString(16).padStart(12, '0')}${prefix}${counter.toString(16).padStart(6, '0')}`
  }
}

/** Returns `{ cityId }` or null when the payload is not a usable join/leave request. */
export function parseCityRequest(data) {
  if (data === null || typeof data !== 'object') return null
  const { cityId } = data
  if (typeof cityId !== 'string' || !/^[a-z0-9-]{1,64}$/.test(cityId)) return null
  return { cityId }
}

/** Returns `{ cityId, content, message_type, media_url, reply_to }` or null. */
export function parseSendRequest(data) {
  const city = parseCityRequest(data)
  if (!city) return null
  const { content, message_type = 'text', media_url = null, reply_to = null } = data
  if (typeof content !== 'string' || content.length === 0 || content.length > MAX_CONTENT)
    return null
  if (!['text', 'image', 'file'].includes(message_type)) return null
  return { cityId: city.cityId, content, message_type, media_url, reply_to }
}

/** The contract's message shape, as every `new-city-message` carries it. */
export function buildMessage(id, sender, request) {
  return {
    _id: id,
    sender_id: sender,
    content: request.content,
    message_type: request.message_type,
    media_url: request.media_url,
    reply_to: request.reply_to,
    is_edited: false,
    is_deleted: false,
    created_at: new Date().toISOString(),
    edited_at: null,
    cityId: request.cityId,
  }
}

/**
 * Counts distinct online users (one user with several sockets is one user) and reports
 * whether the count changed, so the caller broadcasts `online-users` only on a change.
 */
export function createPresence() {
  const sockets = new Map()
  return {
    add(userId) {
      const n = sockets.get(userId) ?? 0
      sockets.set(userId, n + 1)
      return n === 0
    },
    remove(userId) {
      const n = sockets.get(userId) ?? 0
      if (n <= 1) sockets.delete(userId)
      else sockets.set(userId, n - 1)
      return n === 1
    },
    count() {
      return sockets.size
    },
  }
}

/**
 * Installs the guide's city chat on a socket.io `Server` (Node or @socket.io/bun-engine):
 * handshake auth, join/leave, send → `new-city-message` to the whole room, and `online-users`.
 */
export function attachCityChat(io, { secret }) {
  const verifyToken = createVerifier(secret)
  const nextId = createIdGenerator()
  const presence = createPresence()

  io.use(async (socket, next) => {
    const user = await verifyToken(socket.handshake.auth?.token)
    if (!user) return next(new Error('Authentication error'))
    socket.data.user = user
    next()
  })

  io.on('connection', (socket) => {
    const user = socket.data.user
    const refuse = (event, message) =>
      socket.emit('error', { message, code: 'invalid_input', event })
    if (presence.add(user._id)) io.emit('online-users', presence.count())

    socket.on('join-city-chat', (data) => {
      const request = parseCityRequest(data)
      if (!request) return refuse('join-city-chat', 'cityId is required')
      const room = `city:${request.cityId}`
      socket.join(room)
      const name = cityName(request.cityId)
      socket.emit('joined-city-chat', {
        cityId: request.cityId,
        cityName: name,
        message: `Successfully joined ${name} chat`,
      })
      socket.to(room).emit('user-joined-city-chat', {
        userId: user._id,
        username: user.username,
        full_name: user.full_name,
        profile_photo_url: user.profile_photo_url,
        cityId: request.cityId,
      })
    })

    socket.on('leave-city-chat', (data) => {
      const request = parseCityRequest(data)
      if (!request) return refuse('leave-city-chat', 'cityId is required')
      const room = `city:${request.cityId}`
      socket.leave(room)
      socket.emit('left-city-chat', { cityId: request.cityId })
      socket.to(room).emit('user-left-city-chat', {
        userId: user._id,
        username: user.username,
        cityId: request.cityId,
      })
    })

    socket.on('send-city-message', (data) => {
      const request = parseSendRequest(data)
      if (!request) return refuse('send-city-message', 'cityId and content are required')
      const room = `city:${request.cityId}`
      // The contract: sending requires having joined the room with that socket.
      if (!socket.rooms.has(room)) {
        return socket.emit('error', {
          message: 'Join the city chat first',
          code: 'not_member',
          event: 'send-city-message',
        })
      }
      io.to(room).emit('new-city-message', buildMessage(nextId(), user, request))
    })

    socket.on('disconnect', () => {
      if (presence.remove(user._id)) io.emit('online-users', presence.count())
    })
  })
}
