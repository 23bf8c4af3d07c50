/** @module Test server: the real createServer on Bun.serve port 0, with its own temp data directory. */

import { afterAll, beforeAll, expect } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Env, loadConfig } from '../../src/config.ts'
import { type AppServer, createServer, type ServerDeps } from '../../src/server.ts'
import { api, type RegisteredUser, registerUser } from './api.ts'

export interface TestServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  url: string
  app: AppServer
  bun: ReturnType<typeof Bun.serve>
  dataDir: string
  stop(): Promise<void>
}

/**
 * Starts the real server with a temp SQLite file. Overrides are environment values, exactly as
 * main.ts would read them.
 * @example const server = await startServer(); afterEach(() => server.stop())
 */
export async function startServer(
  overrides: Partial<Env> = {},
  deps: ServerDeps = {}
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-test-'))
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: `file:${join(dataDir, 'chat.db')}`,
    // The smallest argon2 cost config allows: tests register many users.
    ARGON2_MEMORY_KIB: '1024',
    // Tests register many users from 127.0.0.1; the register limit has its own test.
    REGISTER_ATTEMPTS_PER_ADDRESS: '100000',
    // Offline at once, as the tests of user-offline expect; the grace has its own tests.
    PRESENCE_GRACE: '0',
    ...stringify(overrides),
  })
  const app = await createServer(config, deps)
  const bun = Bun.serve({
    port: 0,
    hostname: config.HOST,
    fetch: app.fetch,
    websocket: app.websocket,
    routes: app.routes,
    maxRequestBodySize: app.maxRequestBodySize,
    development: false,
  })
  await app.attach(bun)
  let stopped = false
  return {
    url: `http://127.0.0.1:${bun.port}`,
    app,
    bun,
    dataDir,
    async stop() {
      if (stopped) return
      stopped = true
      await bun.stop(true)
      await app.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export interface AdminServer {
  server: TestServer
  url: string
  /** Registered under the username that ADMIN_USERNAMES names. */
  admin: RegisteredUser
  /** A fresh city per call (`<prefix>-<n>-<time>`), so restrictions and slow mode do not leak. */
  newCity(): Promise<string>
}

/**
 * One server for the test file (started in beforeAll, stopped in afterAll) with an admin account.
 * The fields are set once beforeAll ran: read them inside hooks and tests.
 * @example const env = useAdminServer('react_admin', 'react', { MESSAGE_BURST: '200' })
 */
export function useAdminServer(
  adminName: string,
  cityPrefix: string,
  overrides: Partial<Env> = {}
): AdminServer {
  let cityCounter = 0
  const env: AdminServer = {
    server: undefined as unknown as TestServer,
    url: '',
    admin: undefined as unknown as RegisteredUser,
    async newCity() {
      cityCounter += 1
      const id = `${cityPrefix}-${cityCounter}-${Date.now().toString(36)}`
      const name = `${cityPrefix[0]?.toUpperCase()}${cityPrefix.slice(1)} ${cityCounter}`
      const res = await api(env.url, 'POST', '/api/admin/cities', {
        token: env.admin.accessToken,
        body: { id, name, country: 'Testland' },
      })
      expect(res.status).toBe(201)
      return id
    },
  }
  beforeAll(async () => {
    env.server = await startServer({ ...overrides, ADMIN_USERNAMES: adminName })
    env.url = env.server.url
    env.admin = await registerUser(env.url, { username: adminName })
  })
  afterAll(() => env.server.stop())
  return env
}

export interface ServerNode {
  app: AppServer
  bun: ReturnType<typeof Bun.serve>
  url: string
}

/**
 * A server that restarts on one data directory, as a deployment does: `boot()` starts a process's
 * worth of it (createServer on Bun.serve, port 0), `shutdown(node)` stops one in main.ts's order
 * (stop accepting, close the realtime layer, drain, stop the app), `remove()` deletes the directory.
 * @example const restartable = restartableServer(); const before = await restartable.boot()
 */
export function restartableServer(overrides: Partial<Env> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-restart-'))
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: `file:${join(dataDir, 'chat.db')}`,
    ARGON2_MEMORY_KIB: '1024',
    ...stringify(overrides),
  })
  return {
    async boot(): Promise<ServerNode> {
      const app = await createServer(config)
      const bun = Bun.serve({
        port: 0,
        hostname: '127.0.0.1',
        fetch: app.fetch,
        websocket: app.websocket,
      })
      await app.attach(bun)
      return { app, bun, url: `http://127.0.0.1:${bun.port}` }
    },
    async shutdown(node: ServerNode) {
      const drained = node.bun.stop()
      await node.app.closeRealtime()
      await drained
      await node.app.stop()
    },
    remove: () => rmSync(dataDir, { recursive: true, force: true }),
  }
}

function stringify(env: Partial<Env>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(',') : String(value)
  }
  return out
}
