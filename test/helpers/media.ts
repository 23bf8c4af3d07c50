/**
 * @module Media test helpers: multipart uploads, real image bytes (sharp), a hand-made PNG
 * header for a decompression bomb, and a real S3-compatible server (s3rver from npm, run by
 * Node or Bun on 127.0.0.1) for MEDIA_STORAGE=s3.
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateSync } from 'node:zlib'
import { S3Client, type Subprocess } from 'bun'
import sharp from 'sharp'
import { concatBytes } from '../../src/chat/bytes.ts'
import { freePort } from './ports.ts'

const ROOT = join(import.meta.dir, '..', '..')
const S3RVER = join(ROOT, 'node_modules', 's3rver', 'bin', 's3rver.js')

/** POST /api/media (or another upload route) with one `file` part. */
export async function upload(
  url: string,
  token: string,
  bytes: Uint8Array<ArrayBuffer> | string,
  name: string,
  {
    purpose,
    path = '/api/media',
    method = 'POST',
    type = 'application/octet-stream',
  }: { purpose?: string; path?: string; method?: string; type?: string } = {}
) {
  const form = new FormData()
  form.append('file', new File([bytes], name, { type }))
  if (purpose) form.append('purpose', purpose)
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}` },
    body: form,
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers }
}

/**
 * A JPEG `width` x `height` as a camera writes it: EXIF with GPS and orientation 6 (rotate 90°
 * to show), so the stored copy must come back `height` x `width` with no metadata.
 */
export async function cameraJpeg(width: number, height: number): Promise<Uint8Array<ArrayBuffer>> {
  const buffer = await sharp({
    create: { width, height, channels: 3, background: { r: 200, g: 60, b: 40 } },
  })
    .jpeg()
    .withMetadata({
      orientation: 6,
      exif: {
        IFD0: { Make: 'TestCam', Model: 'T1' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '19/1 4/1 0/1' },
      },
    })
    .toBuffer()
  return new Uint8Array(buffer)
}

export async function pngOf(width: number, height: number): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(
    await sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer()
  )
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  out.set(new TextEncoder().encode(type), 4)
  out.set(data, 8)
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}

/**
 * A valid PNG header claiming `width` x `height` (a decompression bomb's shape): a few hundred
 * bytes that would decode to gigabytes. Its IDAT holds a few rows of zeros only.
 */
export function bombPng(width: number, height: number): Uint8Array<ArrayBuffer> {
  const ihdr = new Uint8Array(13)
  const view = new DataView(ihdr.buffer)
  view.setUint32(0, width)
  view.setUint32(4, height)
  ihdr.set([8, 0, 0, 0, 0], 8) // 8-bit greyscale
  const idat = new Uint8Array(deflateSync(new Uint8Array((width + 1) * 4)))
  return concatBytes(
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', new Uint8Array())
  )
}

export interface S3Server {
  endpoint: string
  bucket: string
  /** MEDIA_* settings for a server (or node) storing in this bucket. */
  env: Record<string, string>
  client: S3Client
  stop(): Promise<void>
}

/** Where s3rver runs: Node when installed (its home), else Bun. */
const RUNTIME = Bun.which('node') ?? process.execPath

/**
 * Starts s3rver on a free 127.0.0.1 port with an empty `media` bucket.
 * @example const s3 = await startS3(); const server = await startServer(s3.env)
 */
export async function startS3(): Promise<S3Server> {
  const port = await freePort()
  const directory = mkdtempSync(join(tmpdir(), 'chat-s3-'))
  const bucket = 'media'
  const proc: Subprocess = Bun.spawn(
    [
      RUNTIME,
      S3RVER,
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
      '--directory',
      directory,
      '--configure-bucket',
      bucket,
      '--silent',
    ],
    { stdout: 'ignore', stderr: 'pipe' }
  )
  const endpoint = `http://127.0.0.1:${port}`
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }
  const client = new S3Client({ ...credentials, bucket, endpoint, region: 'us-east-1' })
  // Ready once the bucket answers (s3rver creates it before listening).
  const deadline = Date.now() + 15_000
  for (;;) {
    try {
      await client.exists('probe')
      break
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`s3rver did not start: ${error}`)
      await Bun.sleep(100)
    }
  }
  return {
    endpoint,
    bucket,
    client,
    env: {
      MEDIA_STORAGE: 's3',
      MEDIA_S3_BUCKET: bucket,
      MEDIA_S3_ENDPOINT: endpoint,
      MEDIA_S3_REGION: 'us-east-1',
      MEDIA_S3_ACCESS_KEY_ID: credentials.accessKeyId,
      MEDIA_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    async stop() {
      proc.kill()
      await proc.exited
      rmSync(directory, { recursive: true, force: true })
    },
  }
}
