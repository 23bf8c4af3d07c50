/**
 * @module The servers under test: how to start each one on a free port and how to get identities
 * (tokens) and rooms (city ids) for the generator.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { SignJWT } from 'jose'
import { BENCH_ADMIN, provisionOurs } from './ours.ts'
import { processTree, readCommandLine } from './proc.ts'

export type TargetName = 'ours' | 'socketio-node' | 'socketio-bun' | 'raw-bun'

/** What the generator needs from a started target. */
export interface Identities {
  /** One access token per bench user; connections reuse them round-robin. */
  tokens: string[]
  /** City ids that exist on the target, at least as many as the scenarios' rooms when possible. */
  cities: string[]
  notes: string[]
}

export interface ProvisionOptions {
  users: number
  rooms: number
  secret: string
}

export interface RunningTarget {
  name: TargetName
  pid: number
  baseUrl: string
  wsUrl: string
  dir: string
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>
}

export interface TargetSpec {
  name: TargetName
  title: string
  /** True when the target stores every message (the persistence scenario reads them back). */
  persists: boolean
  /** True when the target takes uploads (POST /api/media). */
  uploads: boolean
  /** Why the target cannot run here, or null. */
  unavailable(): string | null
  /** `profileDir`: write a CPU profile (markdown) there on exit, where the runtime supports it. */
  command(profileDir?: string): string[]
  env(port: number, dir: string, secret: string): Record<string, string>
  provision(target: RunningTarget, options: ProvisionOptions): Promise<Identities>
}

const ROOT = new URL('..', import.meta.url).pathname
const BUN = process.execPath

/** Tokens the references accept: HS256 with the shared secret, public user in the claims. */
async function signReferenceTokens(users: number, secret: string): Promise<string[]> {
  const key = new TextEncoder().encode(secret)
  return Promise.all(
    Array.from({ length: users }, (_, i) =>
      new SignJWT({ username: `bench${i}`, full_name: `Bench User ${i}` })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`user-${i}`)
        .setIssuedAt()
        .setExpirationTime('2h')
        .sign(key)
    )
  )
}

const referenceIdentities = async (
  _: RunningTarget,
  options: ProvisionOptions
): Promise<Identities> => ({
  tokens: await signReferenceTokens(options.users, options.secret),
  cities: Array.from({ length: options.rooms }, (_, i) => `city-${i}`),
  notes: [],
})

const referenceEnv = (port: number, _dir: string, secret: string) => ({
  PORT: String(port),
  JWT_SECRET: secret,
  NODE_ENV: 'production',
})

/**
 * Our server's environment under the bench: the `ours` target's, and the server that
 * bench/send-allocations.ts measures.
 */
export const oursEnv = (port: number, dir: string, secret: string): Record<string, string> => ({
  PORT: String(port),
  HOST: '127.0.0.1',
  DATABASE_URL: `file:${join(dir, 'bench.db')}`,
  DATA_DIR: dir,
  JWT_SECRET: secret,
  // The full bench outlives the default 15-minute access token.
  ACCESS_TOKEN_TTL: '2h',
  LOG_LEVEL: 'warn',
  NODE_ENV: 'production',
  // Abuse limits off: the bench measures the engine, not the limiter. 100 users carry 10,000
  // sockets (registering one user per socket with argon2 would take minutes), and a sender sends
  // far more than a person would.
  MESSAGE_RATE_PER_MINUTE: '0',
  REGISTER_ATTEMPTS_PER_ADDRESS: '1000000',
  CHATS_PER_HOUR: '0',
  MAX_CONNECTIONS_PER_USER: '1000000',
  // Its admin creates the many-rooms scenario's cities (bench/ours.ts).
  ADMIN_USERNAMES: BENCH_ADMIN,
  // The uploads scenario stores a few hundred MB per user in a run.
  MEDIA_QUOTA_BYTES: '0',
})

export const TARGETS: readonly TargetSpec[] = [
  {
    name: 'ours',
    title: 'ours (Bun, SQLite)',
    persists: true,
    uploads: true,
    unavailable() {
      const missing = ['src/main.ts', 'src/realtime/index.ts', 'src/events'].filter(
        (path) => !existsSync(join(ROOT, path))
      )
      return missing.length ? `not built yet (missing ${missing.join(', ')})` : null
    },
    command: (profileDir) => [
      BUN,
      ...(profileDir
        ? ['--cpu-prof-md', '--cpu-prof-interval=250', `--cpu-prof-dir=${profileDir}`]
        : []),
      join(ROOT, 'src/main.ts'),
    ],
    env: oursEnv,
    provision: provisionOurs,
  },
  {
    name: 'socketio-node',
    title: 'socket.io 4.8 on Node',
    persists: false,
    uploads: false,
    unavailable: () => (Bun.which('node') ? null : 'node is not on PATH'),
    command: () => [Bun.which('node') ?? 'node', join(ROOT, 'bench/reference/socketio-node.mjs')],
    env: referenceEnv,
    provision: referenceIdentities,
  },
  {
    name: 'socketio-bun',
    title: 'socket.io 4.8 on Bun (bun-engine)',
    persists: false,
    uploads: false,
    unavailable: () => null,
    command: () => [BUN, join(ROOT, 'bench/reference/socketio-bun.ts')],
    env: referenceEnv,
    provision: referenceIdentities,
  },
  {
    name: 'raw-bun',
    title: 'raw Bun pub/sub (ceiling)',
    persists: false,
    uploads: false,
    unavailable: () => null,
    command: () => [BUN, join(ROOT, 'bench/reference/raw-bun.ts')],
    env: referenceEnv,
    provision: referenceIdentities,
  },
]

/** Asks the kernel for a free port by listening on port 0 and closing again. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

/** Every target started and not stopped yet, so that none outlives the bench (see below). */
const live = new Set<RunningTarget>()
let closing = false

/**
 * Stops every running target (Ctrl-C) and refuses to start any more: a scenario still unwinding
 * must not start a server that the exit then leaves behind.
 */
export async function stopAllTargets(): Promise<void> {
  closing = true
  await Promise.all([...live].map((target) => target.stop()))
}

// Whatever ends the bench: a synchronous SIGKILL of what is left, workers of a supervisor included.
process.on('exit', () => {
  for (const target of live) {
    for (const pid of processTree(target.pid).reverse()) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  }
})

export type StartResult = { ok: true; target: RunningTarget } | { ok: false; error: string }

/**
 * Starts a target as its own process (so /proc numbers are the server's alone) and waits until
 * GET /healthz answers, the process dies, or 30 s pass. Each start gets a fresh temporary directory
 * (database, logs), removed when the target stops, unless the caller brings its own.
 */
export async function startTarget(
  spec: TargetSpec,
  secret: string,
  profileDir?: string,
  /** Settings on top of the target's own (a scenario that needs one, e.g. PRESENCE_SCOPE). */
  extraEnv: Record<string, string> = {},
  /** A directory to run in that outlives the server (its database filled while it was down). */
  ownDir?: string
): Promise<StartResult> {
  if (closing) return { ok: false, error: 'the bench is stopping' }
  const workDir = ownDir ?? mkdtempSync(join(tmpdir(), `bench-${spec.name}-`))
  const port = freePort()
  const logPath = join(workDir, 'server.log')
  const child: Subprocess = Bun.spawn(spec.command(profileDir), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...spec.env(port, workDir, secret), ...extraEnv },
    stdout: Bun.file(logPath),
    stderr: Bun.file(`${logPath}.err`),
  })
  const baseUrl = `http://127.0.0.1:${port}`
  const target: RunningTarget = {
    name: spec.name,
    pid: child.pid,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
    dir: workDir,
    async stop() {
      // With WORKERS>1 the server is a supervisor and its workers: none may outlive the bench.
      const family = processTree(child.pid)
        .slice(1)
        .map((pid) => ({ pid, command: readCommandLine(pid) }))
      child.kill('SIGTERM')
      const exited = await Promise.race([
        child.exited.then(() => true),
        Bun.sleep(5_000).then(() => false),
      ])
      if (!exited) {
        child.kill('SIGKILL')
        await child.exited
      }
      live.delete(target)
      // Only a process still running the same command: a pid reused since is not ours.
      for (const { pid, command } of family) {
        if (command === null || readCommandLine(pid) !== command) continue
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // Gone meanwhile: the supervisor stopped it.
        }
      }
      // The temporary database and logs go with the server; a failed start keeps them (see below).
      if (!ownDir) rmSync(workDir, { recursive: true, force: true })
    },
  }
  live.add(target)
  const deadline = performance.now() + 30_000
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      live.delete(target)
      const log = await Bun.file(`${logPath}.err`)
        .text()
        .catch(() => '')
      return {
        ok: false,
        error: `exited (${child.exitCode ?? child.signalCode}): ${log.trim().slice(-600)}`,
      }
    }
    const ready = await fetch(`${baseUrl}/healthz`).then(
      (response) => response.ok,
      () => false
    )
    if (ready) return { ok: true, target }
    await Bun.sleep(100)
  }
  child.kill('SIGKILL')
  await child.exited
  live.delete(target)
  return { ok: false, error: `no answer on /healthz within 30 s (logs in ${workDir})` }
}
