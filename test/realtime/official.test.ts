/**
 * @module The same behaviour suite against the official socket.io 4.8 server (on
 * @socket.io/bun-engine, dev dependency only): proves the suite's expectations are the
 * reference behaviour a client observes. Nothing here touches `src/`.
 */
import { Server as Engine } from '@socket.io/bun-engine'
import { Server } from 'socket.io'
import type { TestServer } from '../helpers/realtime.ts'
import { transportSuite } from './suite.ts'

transportSuite(({ pingInterval = 25_000, pingTimeout = 20_000 } = {}) => {
  const io = new Server()
  const engine = new Engine({ path: '/socket.io/', pingInterval, pingTimeout })
  io.bind(engine)
  // bun-engine keeps its sessions in a private `clients` Map; expose the count like engine.io.
  const sessions = engine as unknown as { clients: Map<string, unknown> }
  Object.defineProperty(engine, 'clientsCount', { get: () => sessions.clients.size })
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', ...engine.handler() })
  return {
    io: io as unknown as TestServer['io'],
    server: server as unknown as TestServer['server'],
    url: `http://127.0.0.1:${server.port}`,
    async stop() {
      await io.close()
      await server.stop(true)
    },
  }
})
