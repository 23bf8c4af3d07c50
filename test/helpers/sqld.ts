/**
 * @module A throwaway libSQL server (sqld, the server behind Turso) on a free port, for the remote
 * and embedded-replica tests. The binary comes from `SQLD_BIN`, `PATH`, or where `.ci/run` puts it
 * (`node_modules/.cache/sqld/sqld`, fetched by `.ci/fetch-sqld`).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { freePort } from './ports.ts'

const FETCHED = join(import.meta.dir, '..', '..', 'node_modules', '.cache', 'sqld', 'sqld')
const SQLD_BIN =
  process.env.SQLD_BIN || Bun.which('sqld') || (existsSync(FETCHED) ? FETCHED : undefined)

/** Why the libSQL server suites skip, or undefined when they can run. */
export const SQLD_SKIP_REASON = SQLD_BIN
  ? undefined
  : 'sqld not found (CI fetches it: .ci/fetch-sqld); remote libSQL tests skipped'

export interface Sqld {
  /** The HTTP (Hrana) URL clients connect to. */
  url: string
  stop(): Promise<void>
}

/**
 * Starts sqld on a new database directory and waits until it answers `/health`.
 * `jwtKey`: an Ed25519 public key (base64url, raw 32 bytes) that client tokens must be signed with.
 */
export async function startSqld({ jwtKey }: { jwtKey?: string } = {}): Promise<Sqld> {
  if (!SQLD_BIN) throw new Error(SQLD_SKIP_REASON)
  const dir = mkdtempSync(join(tmpdir(), 'chat-sqld-'))
  const port = await freePort()
  const proc: Subprocess = Bun.spawn(
    [
      SQLD_BIN,
      '--db-path',
      join(dir, 'data.sqld'),
      '--http-listen-addr',
      `127.0.0.1:${port}`,
      '--no-welcome',
    ],
    {
      env: { PATH: process.env.PATH ?? '', ...(jwtKey ? { SQLD_AUTH_JWT_KEY: jwtKey } : {}) },
      stdout: 'ignore',
      stderr: 'pipe',
    }
  )
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 15_000
  while (!(await healthy(url))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill(9)
      const stderr = await new Response(proc.stderr as ReadableStream).text()
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`sqld did not start (exit ${proc.exitCode}): ${stderr.slice(-2_000)}`)
    }
    await Bun.sleep(50)
  }
  void new Response(proc.stderr as ReadableStream).text()
  return {
    url,
    async stop() {
      proc.kill(9)
      await proc.exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`)).ok
  } catch {
    return false
  }
}
