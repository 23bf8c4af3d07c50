/**
 * @module The streaming multipart reader at every chunking: a file holding near-delimiters
 * (the boundary cut one byte short, CRLF-dashes) comes out byte for byte whatever the chunk
 * sizes, with its fields, head and size; the limit cuts at its byte.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readMultipart } from '../../src/http/multipart.ts'

const tempDir = mkdtempSync(join(tmpdir(), 'chat-multipart-'))
afterAll(() => rmSync(tempDir, { recursive: true, force: true }))

const boundary = '----form7Qb2xZ'
const encode = (text: string) => new TextEncoder().encode(text)

/** Random bytes with near-delimiters planted at the start, the middle and the end. */
function trickyFile(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size)
  crypto.getRandomValues(bytes)
  const near = [encode(`\r\n--${boundary.slice(0, -1)}`), encode('\r\n--'), encode('\r\n\r\n')]
  bytes.set(near[0] as Uint8Array, 0)
  // The byte after the cut boundary is not its last one, which would make it the real delimiter.
  bytes[(near[0] as Uint8Array).length] = boundary.charCodeAt(boundary.length - 1) ^ 1
  bytes.set(near[1] as Uint8Array, Math.floor(size / 2))
  bytes.set(near[2] as Uint8Array, size - 4)
  return bytes
}

function body(file: Uint8Array): Uint8Array<ArrayBuffer> {
  const parts = [
    encode(`--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nbefore\r\n`),
    encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`
    ),
    file,
    encode(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n`),
    encode(`message\r\n--${boundary}--\r\n`),
  ]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

const streamOf = (bytes: Uint8Array, chunk: number) => {
  let at = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close()
      controller.enqueue(bytes.slice(at, at + chunk))
      at += chunk
    },
  })
}

const options = (maxFileBytes: number) => ({
  maxFileBytes,
  tempDir,
  headBytes: 64,
  fileField: 'file',
})

test.each([1, 2, 3, 7, 16, boundary.length + 3, 64, 1_000, 4_096, 65_536])(
  'chunks of %p bytes: the file, its head and the fields come out exactly',
  async (chunk) => {
    const file = trickyFile(chunk < 16 ? 3_000 : 200_000)
    const read = await readMultipart(streamOf(body(file), chunk), boundary, options(1_000_000))
    if (!read.ok) throw new Error(JSON.stringify(read.error))
    const { file: spooled, fields } = read.value
    expect(fields).toEqual({ note: 'before', purpose: 'message' })
    expect(spooled.size).toBe(file.length)
    expect(spooled.name).toBe('a.bin')
    expect(new Uint8Array(spooled.head)).toEqual(file.subarray(0, 64))
    expect(new Uint8Array(readFileSync(spooled.path))).toEqual(file)
    rmSync(spooled.path)
  }
)

test('a file one byte over the limit is cut with payload_too_large and its temp file removed', async () => {
  const file = trickyFile(10_001)
  const read = await readMultipart(streamOf(body(file), 1_000), boundary, options(10_000))
  expect(read.ok).toBe(false)
  if (!read.ok) expect(read.error.code).toBe('payload_too_large')
  const exactly = await readMultipart(
    streamOf(body(file.subarray(0, 10_000)), 1_000),
    boundary,
    options(10_000)
  )
  expect(exactly.ok).toBe(true)
  if (exactly.ok) rmSync(exactly.value.file.path)
  expect([...new Bun.Glob('*').scanSync(tempDir)]).toEqual([])
})
