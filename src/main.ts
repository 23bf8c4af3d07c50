/** @module Entry point: the only reader of process.env; starts Bun.serve and stops cleanly on signals. */
import { ConfigError, loadConfig } from './config.ts'
import { createLogger } from './log.ts'
import { randomNodeId } from './scale-out.ts'
import { createServer } from './server.ts'
import { listenPrivately, superviseWorkers, WORKER_ENV } from './workers.ts'

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
  if (process.argv[2] === 'healthcheck') await healthcheck(config.PORT)
  // One id per process start unless NODE_ID is set: logs, metrics and session ids carry it.
  config = Object.freeze({ ...config, NODE_ID: config.NODE_ID ?? randomNodeId() })
  const log = createLogger({ level: config.LOG_LEVEL, base: { node: config.NODE_ID } })
  // WORKERS>1: this process only supervises copies of itself (workers.ts).
  const workers = config.WORKERS > 1
  if (workers && process.env[WORKER_ENV] === undefined) {
    await superviseWorkers(config, process.env, log)
    process.exit(0)
  }
  // The database unreachable or refusing us, a migration failing: one log line, exit 1.
  const app = await createServer(config, { log }).catch((error: unknown) => {
    log.error('startup failed', { error })
    process.exit(1)
  })
  const server = Bun.serve({
    port: config.PORT,
    hostname: config.HOST,
    fetch: app.fetch,
    websocket: app.websocket,
    routes: app.routes,
    maxRequestBodySize: app.maxRequestBodySize,
    // Bun's dev mode (HMR client in served pages) only when asked for; NODE_ENV=test is not dev.
    development: config.NODE_ENV === 'development',
    reusePort: workers,
  })
  const internal = workers ? listenPrivately(config, app.fetch) : undefined
  await app.attach(server, internal?.url)
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
    // A stuck handler or client must not keep the process alive forever.
    setTimeout(() => {
      log.error('shutdown timed out', { timeoutMs: config.SHUTDOWN_TIMEOUT })
      process.exit(1)
    }, config.SHUTDOWN_TIMEOUT).unref()
    // 1. Stop accepting connections; in-flight HTTP requests still run to their end.
    const drained = server.stop()
    // 2. Running socket handlers finish (their messages are stored and acked), clients are told
    //    (Engine.IO close: they reconnect), and handlers started meanwhile finish too.
    await app.closeRealtime()
    // 3. Every HTTP request has answered; 4. pending writes are done, the database closes.
    await drained
    await app.stop()
    log.info('stopped', { signal })
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

/**
 * `chat-server healthcheck`: GET /healthz on this machine's port, exit 0 when it answers 200,
 * else 1. For a container's HEALTHCHECK, whose image need not have an HTTP client.
 */
async function healthcheck(port: number): Promise<never> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
      signal: AbortSignal.timeout(2_000),
    })
    process.exit(res.ok ? 0 : 1)
  } catch {
    process.exit(1)
  }
}

await main()
