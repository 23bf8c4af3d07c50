/**
 * @module Ceiling: raw Bun.serve WebSocket pub/sub speaking just enough Engine.IO/Socket.IO text
 * frames for the bench generator. No heartbeat, acks, namespaces, polling or persistence.
 */
// Run with `bun bench/reference/raw-bun.ts`; env PORT and JWT_SECRET. The handshake still verifies the
// JWT because the connect-storm scenario measures exactly that; everything else is the minimum.
import type { ServerWebSocket } from 'bun'
import {
  buildMessage,
  cityName,
  createIdGenerator,
  createPresence,
  createVerifier,
  type PublicUser,
  parseCityRequest,
  parseSendRequest,
} from './city-chat.mjs'

interface Peer {
  sid: string
  user: PublicUser | null
}

const port = Number(process.env.PORT ?? 3000)
const secret = process.env.JWT_SECRET
if (!secret || secret.length < 32) {
  console.error('JWT_SECRET (32+ characters) is required')
  process.exit(1)
}

const verifyToken = createVerifier(secret)
const nextId = createIdGenerator()
const presence = createPresence()
const EVERYONE = 'all'
// Engine.IO v4 open packet; pings are never sent, so the interval is just advertised.
const openPacket = (sid: string) =>
  `0${JSON.stringify({ sid, upgrades: [], pingInterval: 25_000, pingTimeout: 20_000, maxPayload: 1e6 })}`
const event = (name: string, data: unknown) => `42${JSON.stringify([name, data])}`

const server = Bun.serve<Peer>({
  port,
  hostname: '127.0.0.1',
  fetch(req, srv) {
    const url = new URL(req.url)
    if (url.pathname === '/healthz') return new Response('ok')
    if (url.pathname !== '/socket.io/') return new Response(null, { status: 404 })
    if (srv.upgrade(req, { data: { sid: crypto.randomUUID(), user: null } })) return
    return new Response('websocket only', { status: 400 })
  },
  websocket: {
    open(ws) {
      ws.send(openPacket(ws.data.sid))
    },
    message(ws, raw) {
      const frame = typeof raw === 'string' ? raw : raw.toString()
      if (frame.startsWith('40')) void onConnect(ws, frame.slice(2))
      else if (frame.startsWith('42') && ws.data.user) onEvent(ws, ws.data.user, frame.slice(2))
      // '3' (pong) and anything else: nothing to do at the ceiling.
    },
    close(ws) {
      const user = ws.data.user
      if (user && presence.remove(user._id)) {
        server.publish(EVERYONE, event('online-users', presence.count()))
      }
    },
  },
})
console.log(`raw-bun listening on ${server.port}`)

async function onConnect(ws: ServerWebSocket<Peer>, body: string) {
  let token: unknown
  try {
    token = body ? (JSON.parse(body) as { token?: unknown }).token : undefined
  } catch {
    token = undefined
  }
  const user = await verifyToken(token)
  if (!user) {
    ws.send(`44${JSON.stringify({ message: 'Authentication error' })}`)
    return
  }
  ws.data.user = user
  ws.subscribe(EVERYONE)
  ws.send(`40${JSON.stringify({ sid: ws.data.sid })}`)
  if (presence.add(user._id)) server.publish(EVERYONE, event('online-users', presence.count()))
}

function onEvent(ws: ServerWebSocket<Peer>, user: PublicUser, body: string) {
  let packet: unknown
  try {
    packet = JSON.parse(body)
  } catch {
    return
  }
  if (!Array.isArray(packet)) return
  const [name, data] = packet as [unknown, unknown]
  if (name === 'join-city-chat') {
    const request = parseCityRequest(data)
    if (!request) return
    const topic = `city:${request.cityId}`
    ws.subscribe(topic)
    const display = cityName(request.cityId)
    ws.send(
      event('joined-city-chat', {
        cityId: request.cityId,
        cityName: display,
        message: `Successfully joined ${display} chat`,
      })
    )
    ws.publish(
      topic,
      event('user-joined-city-chat', {
        userId: user._id,
        username: user.username,
        full_name: user.full_name,
        profile_photo_url: user.profile_photo_url,
        cityId: request.cityId,
      })
    )
  } else if (name === 'send-city-message') {
    const request = parseSendRequest(data)
    if (!request || !ws.isSubscribed(`city:${request.cityId}`)) return
    // Encoded once, published to every subscriber including the sender.
    server.publish(
      `city:${request.cityId}`,
      event('new-city-message', buildMessage(nextId(), user, request))
    )
  }
}

const stop = () => {
  server.stop(true)
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
