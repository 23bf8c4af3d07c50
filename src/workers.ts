/**
 * @module Workers on one machine: WORKERS=n makes the first process a supervisor that runs n
 * copies of itself, each listening on the same PORT with `reusePort` (the kernel spreads new
 * connections over them), and restarts one that crashes.
 *
 * Workers share rooms and presence through Redis (config refuses WORKERS>1 without REDIS_URL) and
 * the SQLite file in WAL mode. Because the public port is shared, a worker cannot be addressed
 * through it, so each also listens on a private port and advertises that for polling forwarding.
 */
import type { Subprocess } from 'bun'
import type { Config } from './config.ts'
import type { Logger } from './log.ts'

/** Set in each worker's environment: its index, and how main.ts tells worker from supervisor. */
export const WORKER_ENV = 'WORKER_INDEX'

/** The command that starts this program again: `bun src/main.ts`, or the compiled binary. */
function selfCommand(): string[] {
  const compiled = Bun.main.startsWith('/$bunfs/') || Bun.main.startsWith('B:/~BUN/')
  return compiled ? [process.execPath] : [process.execPath, Bun.main]
}

/**
 * Runs `config.WORKERS` workers until SIGTERM/SIGINT, then stops them and resolves.
 * @example if (config.WORKERS > 1 && !process.env.WORKER_INDEX) await superviseWorkers(config, env, log)
 */
export function superviseWorkers(
  config: Config,
  env: Record<string, string | undefined>,
  log: Logger
): Promise<void> {
  const workers = new Map<number, Subprocess>()
  let stopping = false
  const restarts: number[] = []

  const spawn = (index: number) => {
    const child = Bun.spawn(selfCommand(), {
      // A stable id per worker slot: a restarted worker clears what its crashed predecessor left.
      env: { ...env, [WORKER_ENV]: String(index), NODE_ID: `${config.NODE_ID}-${index}` },
      stdio: ['ignore', 'inherit', 'inherit'],
      onExit(_proc, code, signal) {
        workers.delete(index)
        if (stopping) return
        log.error('worker exited', { worker: index, code, signal })
        // At most WORKERS restarts a minute: a worker that cannot start must not spin the CPU.
        const now = Date.now()
        while (restarts.length > 0 && (restarts[0] as number) < now - 60_000) restarts.shift()
        if (restarts.length >= config.WORKERS) {
          log.error('workers keep crashing; not restarting', { worker: index })
          return
        }
        restarts.push(now)
        setTimeout(() => !stopping && spawn(index), 1_000)
      },
    })
    workers.set(index, child)
  }

  for (let i = 0; i < config.WORKERS; i++) spawn(i)
  log.info('workers started', { workers: config.WORKERS, port: config.PORT })

  return new Promise((resolve) => {
    const stop = async (signal: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      log.info('stopping workers', { signal })
      const exits = [...workers.values()].map((child) => child.exited)
      for (const child of workers.values()) child.kill(signal)
      await Promise.all(exits)
      resolve()
    }
    process.on('SIGTERM', () => void stop('SIGTERM'))
    process.on('SIGINT', () => void stop('SIGINT'))
  })
}

/**
 * A worker's private listener for requests forwarded by other nodes; returns its advertised URL
 * (NODE_URL's host, if set, with the private port).
 */
export function listenPrivately(
  config: Config,
  fetch: (req: Request, server: Bun.Server<unknown>) => Response | Promise<Response | undefined>
): { url: string; stop(): Promise<void> } {
  const server = Bun.serve({
    hostname: config.HOST,
    port: 0,
    fetch: async (req, srv) => (await fetch(req, srv)) ?? new Response(null, { status: 400 }),
  })
  const url = new URL(config.NODE_URL ?? 'http://127.0.0.1')
  url.port = String(server.port)
  return { url: url.origin, stop: () => server.stop() }
}
