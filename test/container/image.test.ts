/**
 * @module The container image: the Dockerfile builds with Debian's podman (its build arguments
 * given images made here from Debian packages, .ci/container-images, as no public image can be
 * pulled), and the container serves the chat as a non-root user with its data in the volume,
 * answers its HEALTHCHECK, and stops cleanly on SIGTERM. Skips, saying why, without podman; with
 * podman present, a failure fails with podman's own error.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { registerUser } from '../helpers/api.ts'
import { ask, connectAs, joinCity } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { freePort } from '../helpers/ports.ts'

const ROOT = join(import.meta.dir, '..', '..')
const PODMAN = Bun.which('podman')
const SKIP_REASON = PODMAN
  ? undefined
  : 'podman not found (CI installs it with apt: .ci/run); container tests skipped'
const ENV = { ...process.env, CONTAINERS_CONF: join(ROOT, '.ci', 'containers.conf') }
const IMAGE = 'localhost/mycommunity:test'
const NAME = `mycommunity-test-${process.pid}`

/** Runs a command to its end; throws with its output when it fails. */
async function run(cmd: string[]): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, env: ENV, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  if (code !== 0) throw new Error(`${cmd.join(' ')} exited with ${code}:\n${err || out}`)
  return out
}

const dataDir = mkdtempSync(join(tmpdir(), 'chat-container-'))
// The server runs as uid 10001 inside; the mounted directory must be writable for it.
chmodSync(dataDir, 0o777)
afterAll(async () => {
  if (PODMAN) await run([PODMAN, 'rm', '-f', NAME]).catch(() => undefined)
  rmSync(dataDir, { recursive: true, force: true })
})

describe.skipIf(SKIP_REASON !== undefined)('the container image', () => {
  test('builds, serves the chat as a non-root user, answers its healthcheck, stops on SIGTERM', async () => {
    const podman = PODMAN as string
    await run([join(ROOT, '.ci', 'container-images')])
    await run([
      podman,
      'build',
      '--format',
      'docker',
      '--build-arg',
      'BASE=localhost/mycommunity-base',
      '--build-arg',
      'BUILDER=localhost/mycommunity-builder',
      '-t',
      IMAGE,
      '.',
    ])
    const port = await freePort()
    await run([
      podman,
      'run',
      '-d',
      '--name',
      NAME,
      '-p',
      `127.0.0.1:${port}:3000`,
      '-e',
      'JWT_SECRET=container-test-secret-0123456789abcdef012345',
      '-e',
      'ARGON2_MEMORY_KIB=1024',
      '-v',
      `${dataDir}:/data`,
      IMAGE,
    ])
    const url = `http://127.0.0.1:${port}`
    await eventually(
      async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true,
      15_000,
      'the container answering /healthz'
    )

    // The chat itself: register, connect, send, over the published port.
    const alice = await registerUser(url)
    const client = await connectAs(url, alice)
    try {
      await joinCity(client)
      const sent = await ask(client.socket, 'send-city-message', {
        cityId: 'mumbai',
        content: 'from the container',
      })
      expect(sent.message.content).toBe('from the container')
    } finally {
      client.socket.disconnect()
    }
    const ready = await fetch(`${url}/readyz`)
    expect(ready.status).toBe(200)

    // Its HEALTHCHECK (the binary checking itself), its user, its data in the volume.
    await run([podman, 'healthcheck', 'run', NAME])
    expect((await run([podman, 'inspect', NAME, '--format', '{{.Config.User}}'])).trim()).toBe(
      '10001:10001'
    )
    expect(existsSync(join(dataDir, 'chat.db'))).toBe(true)

    // SIGTERM (podman stop): the graceful shutdown, exit code 0.
    await run([podman, 'stop', '-t', '10', NAME])
    const exit = await run([podman, 'inspect', NAME, '--format', '{{.State.ExitCode}}'])
    expect(exit.trim()).toBe('0')
  }, 300_000)
})
