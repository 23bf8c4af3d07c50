/** @module Single binary: `bun build --compile` output starts from an empty directory (no ./drizzle) and serves. */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JOURNAL_ENTRIES } from '../../src/store/migrations.ts'

const dir = mkdtempSync(join(tmpdir(), 'chat-binary-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('the compiled binary migrates its embedded SQL and answers /readyz', async () => {
  const root = join(import.meta.dir, '..', '..')
  const outfile = join(dir, 'chat-server')
  const build = Bun.spawnSync([
    process.execPath,
    'build',
    '--compile',
    join(root, 'src/main.ts'),
    join(root, 'src/store/checkpoint-worker.ts'),
    '--outfile',
    outfile,
  ])
  expect(build.exitCode).toBe(0)

  const proc = Bun.spawn([outfile], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ARGON2_MEMORY_KIB: '1024',
    },
    stderr: 'pipe',
    stdout: 'ignore',
  })
  try {
    // Wait for the "listening" log line, which carries the URL of the free port it got.
    let url = ''
    let seen = ''
    const decoder = new TextDecoder()
    for await (const chunk of proc.stderr) {
      seen += decoder.decode(chunk)
      const match = /"msg":"listening","url":"([^"]+)"/.exec(seen)
      if (match?.[1]) {
        url = match[1].replace('0.0.0.0', '127.0.0.1')
        break
      }
    }
    expect(url).toStartWith('http://127.0.0.1:')
    const ready = await fetch(new URL('/readyz', url))
    expect(ready.status).toBe(200)
    // Every migration drizzle-kit made, from the SQL embedded in the binary.
    expect(seen).toContain(`"applied":${JSON.stringify(JOURNAL_ENTRIES.map((e) => e.tag))}`)
  } finally {
    proc.kill()
    await proc.exited
  }
})
