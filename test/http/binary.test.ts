/**
 * @module Single binary: `bun build --compile` output starts from an empty directory (no ./drizzle)
 * and serves, on its own SQLite file or on a libSQL server; an embedded replica, which needs a
 * native module the binary does not carry, is refused with a clear error. sharp (another native
 * module) does not load in the binary either: it says so at start and stores images as uploaded,
 * without a thumbnail.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { JOURNAL_ENTRIES } from '../../src/store/migrations.ts'
import { api, registerUser } from '../helpers/api.ts'
import { pngOf, upload } from '../helpers/media.ts'
import { SQLD_SKIP_REASON, startSqld } from '../helpers/sqld.ts'

const dir = mkdtempSync(join(tmpdir(), 'chat-binary-'))
const outfile = join(dir, 'chat-server')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

beforeAll(() => {
  const root = join(import.meta.dir, '..', '..')
  const build = Bun.spawnSync([
    process.execPath,
    'build',
    '--compile',
    join(root, 'src/main.ts'),
    join(root, 'src/store/checkpoint-worker.ts'),
    '--outfile',
    outfile,
  ])
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`)
}, 60_000)

interface Started {
  proc: Subprocess
  /** The URL it listens on, or '' when it exited first. */
  url: string
  /** Everything it logged until then. */
  seen: string
}

/** Runs the binary in a new empty directory until it logs `listening` or exits. */
async function run(env: Record<string, string> = {}): Promise<Started> {
  const cwd = mkdtempSync(join(dir, 'run-'))
  const proc = Bun.spawn([outfile], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ARGON2_MEMORY_KIB: '1024',
      // Tests register many users from 127.0.0.1; the register limit has its own test.
      REGISTER_ATTEMPTS_PER_ADDRESS: '100000',
      ...env,
    },
    stderr: 'pipe',
    stdout: 'ignore',
  })
  let seen = ''
  const decoder = new TextDecoder()
  const reader = proc.stderr.getReader()
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    seen += decoder.decode(read.value)
    const match = /"msg":"listening","url":"([^"]+)"/.exec(seen)
    if (match?.[1]) {
      // Keep reading: a closed pipe would kill it at its next log line.
      void (async () => {
        while (!(await reader.read()).done) {}
      })()
      return { proc, url: match[1].replace('0.0.0.0', '127.0.0.1').replace(/\/$/, ''), seen }
    }
  }
  return { proc, url: '', seen }
}

async function stop({ proc }: Started) {
  proc.kill()
  await proc.exited
}

test('the compiled binary migrates its embedded SQL and answers /readyz', async () => {
  const started = await run()
  try {
    expect(started.url).toStartWith('http://127.0.0.1:')
    const ready = await fetch(new URL('/readyz', started.url))
    expect(ready.status).toBe(200)
    // Every migration drizzle-kit made, from the SQL embedded in the binary.
    expect(started.seen).toContain(`"applied":${JSON.stringify(JOURNAL_ENTRIES.map((e) => e.tag))}`)
  } finally {
    await stop(started)
  }
})

test('sharp does not load in the binary: said at start, images stored without a thumbnail', async () => {
  const started = await run()
  try {
    expect(started.url).toStartWith('http://127.0.0.1:')
    const warning = started.seen.split('\n').find((line) => line.includes('sharp did not load'))
    expect(warning).toBeDefined()
    expect(JSON.parse(warning as string)).toMatchObject({
      level: 'warn',
      module: 'media',
      msg: 'image processing unavailable (sharp did not load): images are stored as uploaded, with no thumbnail and no width or height, their EXIF and GPS metadata kept, MEDIA_MAX_PIXELS not checked',
    })
    const alice = await registerUser(started.url)
    const png = await pngOf(64, 48)
    const up = await upload(started.url, alice.accessToken, png, 'dot.png')
    expect(up.status).toBe(201)
    // The type still comes from the bytes; nothing that needs libvips is there.
    expect(up.body.media).toMatchObject({
      content_type: 'image/png',
      size: png.length,
      thumbnail_url: null,
      width: null,
      height: null,
    })
    const auth = { authorization: `Bearer ${alice.accessToken}` }
    const stored = await fetch(new URL(up.body.media.url, started.url), { headers: auth })
    expect(stored.status).toBe(200)
    expect(new Uint8Array(await stored.arrayBuffer())).toEqual(png)
    const thumb = `${up.body.media.url}/thumbnail`
    expect((await fetch(new URL(thumb, started.url), { headers: auth })).status).toBe(404)
    // And it can still be sent as an image message.
    const sent = await api(started.url, 'POST', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
      body: { message_type: 'image', media_id: up.body.media._id },
    })
    expect(sent.status).toBe(201)
    expect(sent.body.message.attachment).toMatchObject({ thumbnail_url: null, width: null })
  } finally {
    await stop(started)
  }
})

describe.skipIf(Boolean(SQLD_SKIP_REASON))('the compiled binary and a libSQL server', () => {
  test('it migrates the libSQL server and serves from it', async () => {
    const sqld = await startSqld()
    const started = await run({ DATABASE_URL: sqld.url })
    try {
      expect(started.seen).toContain('"database":"libsql"')
      expect((await fetch(new URL('/readyz', started.url))).status).toBe(200)
      const registered = await api(started.url, 'POST', '/api/auth/register', {
        body: {
          username: 'binary_user',
          email: 'binary@example.test',
          full_name: 'Binary',
          password: 'correct-horse-battery',
        },
      })
      expect(registered.status).toBe(201)
    } finally {
      await stop(started)
      await sqld.stop()
    }
  })

  test('an embedded replica is refused at start with the reason', async () => {
    const sqld = await startSqld()
    const started = await run({
      DATABASE_URL: `file:${join(dir, 'replica.db')}`,
      DATABASE_SYNC_URL: sqld.url,
    })
    try {
      expect(started.url).toBe('')
      expect(await started.proc.exited).toBe(1)
      expect(started.seen).toContain('"msg":"startup failed"')
      expect(started.seen).toContain("need libSQL's native module")
    } finally {
      await stop(started)
      await sqld.stop()
    }
  })
})
