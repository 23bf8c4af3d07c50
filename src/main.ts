/** @module Entry point: the only reader of process.env; starts Bun.serve and stops cleanly on signals. */
import { ConfigError, loadConfig } from './config.ts'
import { createLogger } from './log.ts'
import { createServer } from './server.ts'

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(1)
    }
    throw error
  }
  const log = createLogger({ level: config.LOG_LEVEL })
  const app = await createServer(config, { log })
  const server = Bun.serve({
    port: config.PORT,
    hostname: config.HOST,
    fetch: app.fetch,
    websocket: app.websocket,
  })
  app.attach(server)
  log.info('listening', {
    url: server.url.href,
    database: app.database.driver,
    env: config.NODE_ENV,
  })

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info('shutting down', { signal })
    // Stop accepting, let in-flight requests finish, then close the database.
    await server.stop()
    await app.stop()
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

await main()
