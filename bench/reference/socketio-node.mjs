/** @module Reference: the guide's city chat on the official socket.io 4.8 server over Node's http server. */
// Run with `node bench/reference/socketio-node.mjs`; env PORT and JWT_SECRET (the bench passes both).
// No persistence: Node 20 has no node:sqlite and the bench adds no native modules.
import { createServer } from 'node:http'
import { Server } from 'socket.io'
import { attachCityChat } from './city-chat.mjs'

const port = Number(process.env.PORT ?? 3000)
const secret = process.env.JWT_SECRET
if (!secret || secret.length < 32) {
  console.error('JWT_SECRET (32+ characters) is required')
  process.exit(1)
}

const httpServer = createServer((req, res) => {
  // socket.io answers /socket.io/ itself; everything else is the readiness probe or a 404.
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
    return
  }
  res.writeHead(404).end()
})
const io = new Server(httpServer, { serveClient: false })
attachCityChat(io, { secret })

httpServer.listen(port, '127.0.0.1', () => {
  console.log(`socketio-node listening on ${port}`)
})

const stop = () => {
  io.close()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
