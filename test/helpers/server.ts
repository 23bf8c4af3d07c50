/** @module Test server: the real createServer on Bun.serve port 0, with its own temp data directory. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Env, loadConfig } from '../../src/config.ts'
import { type AppServer, createServer, type ServerDeps } from '../../src/server.ts'

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

function stringify(env: Partial<Env>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(',') : String(value)
  }
  return out
}
