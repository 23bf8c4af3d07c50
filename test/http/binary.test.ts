/**
 * @module Single binary: `bun build --compile` output starts from an empty directory (no ./drizzle)
 * and serves, on its own SQLite file or on a libSQL server; an embedded replica, which needs a
 * native module the binary does not carry, is refused with a clear error. sharp (another native
 * module) does not load in the binary either: it says so at start, strips image metadata losslessly
 * (no thumbnail), checks the pixel limit from the header, and refuses AVIF.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import sharp from 'sharp'
import { JOURNAL_ENTRIES } from '../../src/store/migrations.ts'
import { api, registerUser } from '../helpers/api.ts'
import { bombPng, cameraJpeg, pngOf, upload } from '../helpers/media.ts'
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

test('sharp does not load in the binary: said at start, images stored stripped, without a thumbnail', async () => {
  const started = await run()
  try {
    expect(started.url).toStartWith('http://127.0.0.1:')
    const warning = started.seen.split('\n').find((line) => line.includes('sharp did not load'))
    expect(warning).toBeDefined()
    expect(JSON.parse(warning as string)).toMatchObject({
      level: 'warn',
      module: 'media',
      msg: 'image processing unavailable (sharp did not load): JPEG, PNG, GIF and WebP are stored with their metadata (EXIF, GPS, XMP) stripped losslessly and no thumbnail; AVIF is refused; MEDIA_MAX_PIXELS is checked from the header',
    })
    const alice = await registerUser(started.url)
    const png = await pngOf(64, 48)
    const up = await upload(started.url, alice.accessToken, png, 'dot.png')
    expect(up.status).toBe(201)
    // The type still comes from the bytes, the size from the header; no thumbnail.
    expect(up.body.media).toMatchObject({
      content_type: 'image/png',
      size: png.length,
      thumbnail_url: null,
      width: 64,
      height: 48,
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
    expect(sent.body.message.attachment).toMatchObject({ thumbnail_url: null, width: 64 })
  } finally {
    await stop(started)
  }
})

test('without sharp: a camera JPEG loses its EXIF and GPS but keeps its pixels and orientation', async () => {
  const started = await run({ MEDIA_MAX_PIXELS: '1000000' })
  try {
    const alice = await registerUser(started.url)
    const auth = { authorization: `Bearer ${alice.accessToken}` }
    const camera = await cameraJpeg(600, 300)
    expect(Buffer.from(camera).includes('TestCam')).toBe(true)
    expect((await sharp(camera).metadata()).exif?.length).toBeGreaterThan(100)
    const up = await upload(started.url, alice.accessToken, camera, 'camera.jpg')
    expect(up.status).toBe(201)
    // Orientation 6: shown 300 x 600, and recorded so.
    expect(up.body.media).toMatchObject({ content_type: 'image/jpeg', width: 300, height: 600 })
    const res = await fetch(new URL(up.body.media.url, started.url), { headers: auth })
    const stored = new Uint8Array(await res.arrayBuffer())
    expect(up.body.media.size).toBe(stored.length)
    expect(Buffer.from(stored).includes('TestCam')).toBe(false)
    const meta = await sharp(stored).metadata()
    // The only EXIF left is the 32-byte Orientation-only block: no camera, no GPS IFD.
    expect(meta.exif?.length).toBe(32)
    expect(Buffer.from(meta.exif as Buffer).includes(Buffer.from([0x88, 0x25]))).toBe(false)
    expect(meta.orientation).toBe(6)
    // Lossless: the decoded pixels are those of the upload.
    expect(await sharp(stored).raw().toBuffer()).toEqual(await sharp(camera).raw().toBuffer())

    // A WebP and a PNG with EXIF are stripped too.
    const exif = { IFD0: { Make: 'TestCam' }, IFD3: { GPSLatitudeRef: 'N' } }
    const canvas = () =>
      sharp({ create: { width: 40, height: 30, channels: 3, background: '#123456' } })
    for (const [bytes, type] of [
      [new Uint8Array(await canvas().webp().withMetadata({ exif }).toBuffer()), 'image/webp'],
      [new Uint8Array(await canvas().png().withMetadata({ exif }).toBuffer()), 'image/png'],
    ] as const) {
      expect(Buffer.from(bytes).includes('TestCam')).toBe(true)
      const sent = await upload(started.url, alice.accessToken, bytes, 'photo')
      expect(sent.body.media).toMatchObject({ content_type: type, width: 40, height: 30 })
      const back = new Uint8Array(
        await (
          await fetch(new URL(sent.body.media.url, started.url), { headers: auth })
        ).arrayBuffer()
      )
      expect(Buffer.from(back).includes('TestCam')).toBe(false)
      expect((await sharp(back).metadata()).exif).toBeUndefined()
    }

    // A decompression bomb is refused from its header, sharp or not.
    const bomb = await upload(started.url, alice.accessToken, bombPng(50_000, 50_000), 'bomb.png')
    expect(bomb.status).toBe(413)
    expect(bomb.body.error).toMatchObject({
      code: 'payload_too_large',
      details: { width: 50_000, height: 50_000, maxPixels: 1_000_000 },
    })
    // JPEG too, from its frame header (2000 x 1000 is over this server's 1 MP).
    const big = await upload(started.url, alice.accessToken, await cameraJpeg(2000, 1000), 'b.jpg')
    expect(big.status).toBe(413)
    expect(big.body.error.details).toMatchObject({ width: 1000, height: 2000 })

    // AVIF cannot be stripped without libvips: refused rather than stored with its metadata.
    const avif = new Uint8Array(await canvas().avif().toBuffer())
    const refused = await upload(started.url, alice.accessToken, avif, 'photo.avif')
    expect(refused.status).toBe(415)
    expect(refused.body.error).toMatchObject({
      code: 'unsupported_media_type',
      details: { type: 'image/avif', imageProcessing: false },
    })
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
