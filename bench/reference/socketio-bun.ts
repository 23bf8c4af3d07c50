/** @module Reference: the guide's city chat on socket.io 4.8 running on Bun through @socket.io/bun-engine. */
// Run with `bun bench/reference/socketio-bun.ts`; env PORT and JWT_SECRET. No persistence, like the Node one.
import { Server as Engine } from '@socket.io/bun-engine'
import { Server } from 'socket.io'
import { attachCityChat } from './city-chat.mjs'

const port = Number(process.env.PORT ?? 3000)
const secret = process.env.JWT_SECRET
if (!secret || secret.length < 32) {
  console.error('JWT_SECRET (32+ characters) is required')
  process.exit(1)
}

const io = new Server({ serveClient: false })
const engine = new Engine({ path: '/socket.io/' })
io.bind(engine)
attachCityChat(io, { secret })

// The engine's own handler() settings (idle timeout from pingInterval, body limit), our routes.
const { websocket, idleTimeout, maxRequestBodySize } = engine.handler()
const server = Bun.serve({
  port,
  hostname: '127.0.0.1',
  idleTimeout,
  maxRequestBodySize,
  fetch(req, srv) {
    const url = new URL(req.url)
    if (url.pathname === '/healthz') return new Response('ok')
    if (url.pathname === '/socket.io/') return engine.handleRequest(req, srv)
    return new Response(null, { status: 404 })
  },
  websocket,
})
console.log(`socketio-bun listening on ${server.port}`)

const stop = () => {
  io.close()
  server.stop(true)
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
