/**
 * @module Streaming multipart/form-data (RFC 7578): reads an upload's body chunk by chunk, spools
 * its one file part to a temp file and counts its bytes as they arrive, so an upload over the
 * limit is cut there with 413 and nothing is ever held whole in memory (Request.formData() would
 * buffer the body first). Small text fields (`purpose`) are kept in memory, bounded.
 */
import { type FileHandle, open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fail, ok, type Result } from '../errors.ts'

export interface SpooledFile {
  /** Temp file holding the part's bytes; the caller moves or removes it. */
  path: string
  /** The first `headBytes` bytes, for sniffing the type. */
  head: Uint8Array
  size: number
  /** The client's file name (display only; never used for the type or the storage key). */
  name: string
}

export interface MultipartOptions {
  /** Largest file part in bytes. */
  maxFileBytes: number
  tempDir: string
  headBytes: number
  /** The form field that holds the file. */
  fileField: string
}

const MAX_FIELD_BYTES = 1_024
/**
 * Bytes of the file that may be on their way to disk while the next chunks are read: enough that
 * the size limit is checked as the body arrives, not as fast as the disk takes it; small enough
 * that memory stays flat.
 */
const WRITE_AHEAD_BYTES = 1024 * 1024
const MAX_HEADER_BYTES = 8_192
const MAX_FIELDS = 8
const CRLF = Buffer.from('\r\n')
const HEADER_END = Buffer.from('\r\n\r\n')

/** The boundary of a multipart/form-data Content-Type, or null. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType)
  return match?.[1] ?? match?.[2] ?? null
}

interface Part {
  name: string
  filename: string | null
}

function parsePartHeaders(text: string): Part | null {
  const disposition = text.split('\r\n').find((line) => /^content-disposition:/i.test(line))
  if (!disposition) return null
  const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1]
  if (name === undefined) return null
  const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1] ?? null
  return { name, filename }
}

const tooLarge = (max: number) =>
  fail('payload_too_large', `the file is larger than ${max} bytes`, { maxBytes: max })

/**
 * Reads `body` to its end (or to the first refusal, cancelling the rest) and returns its file part
 * spooled to disk plus its small fields.
 * @example const form = await readMultipart(req.body, boundary, { maxFileBytes, tempDir, headBytes: 4096, fileField: 'file' })
 */
export async function readMultipart(
  body: ReadableStream<Uint8Array>,
  boundary: string,
  options: MultipartOptions
): Promise<Result<{ file: SpooledFile; fields: Record<string, string> }>> {
  const path = join(options.tempDir, `${crypto.randomUUID()}.part`)
  const reader = body.getReader()
  const parser = createParser(boundary, path, options)
  let finished = false
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      const step = await parser.push(value)
      if (!step.ok) return step
      if (step.value) {
        finished = true
        break
      }
    }
    if (!finished) return fail('invalid_input', 'the multipart body ended before its last boundary')
    const file = parser.file()
    if (!file) return fail('invalid_input', `a "${options.fileField}" file part is required`)
    return ok({ file, fields: parser.fields })
  } catch (error) {
    // The client went away mid-upload: nothing to answer, nothing to keep.
    if (error instanceof TypeError || (error as Error)?.name === 'AbortError')
      return fail('invalid_input', 'the upload was interrupted')
    throw error
  } finally {
    if (!finished) {
      reader.cancel().catch(() => undefined)
      await parser.abort()
    }
  }
}

function createParser(boundary: string, path: string, options: MultipartOptions) {
  const delimiter = Buffer.from(`\r\n--${boundary}`)
  // The first delimiter has no CRLF before it: start as if one had been read.
  let pending: Buffer = Buffer.from(CRLF)
  let state: 'preamble' | 'afterDelimiter' | 'headers' | 'body' = 'preamble'
  let part: Part | null = null
  let sink: FileHandle | null = null
  /** The writes queued on `sink`, in order; `writing` bytes of them not done yet. */
  let written: Promise<void> = Promise.resolve()
  let writing = 0
  let spooled: SpooledFile | null = null
  let fieldBytes: Buffer[] = []
  let fieldSize = 0
  const fields: Record<string, string> = {}
  let fieldCount = 0

  /** Appends `pieces` to the current part: the file (counted, its head kept) or a small field. */
  async function write(...pieces: Buffer[]): Promise<Result<null>> {
    const parts = pieces.filter((piece) => piece.length > 0)
    if (!part || parts.length === 0) return ok(null)
    const length = parts.reduce((sum, piece) => sum + piece.length, 0)
    if (part.filename !== null && part.name === options.fileField && spooled) {
      spooled.size += length
      if (spooled.size > options.maxFileBytes) return tooLarge(options.maxFileBytes)
      for (const piece of parts) {
        if (spooled.head.length >= options.headBytes) break
        const take = piece.subarray(0, options.headBytes - spooled.head.length)
        spooled.head = Buffer.concat([spooled.head, take])
      }
      // Writes run off the event loop, one after another; reading goes on while at most
      // WRITE_AHEAD_BYTES are still on their way.
      const handle = sink
      if (handle) {
        writing += length
        written = written.then(async () => {
          await handle.writev(parts)
          writing -= length
        })
        // A failed write is seen by the next await of `written`, not as an unhandled rejection.
        written.catch(() => undefined)
        if (writing > WRITE_AHEAD_BYTES) await written
      }
      return ok(null)
    }
    fieldSize += length
    if (fieldSize > MAX_FIELD_BYTES)
      return fail('invalid_input', `form field "${part.name}" is too long`)
    fieldBytes.push(...parts)
    return ok(null)
  }

  async function endPart(): Promise<void> {
    if (part && !(part.filename !== null && part.name === options.fileField)) {
      fields[part.name] = Buffer.concat(fieldBytes).toString('utf8')
    }
    if (sink) {
      await written
      await sink.close()
    }
    sink = null
    part = null
    fieldBytes = []
    fieldSize = 0
  }

  async function startPart(headers: string): Promise<Result<null>> {
    part = parsePartHeaders(headers)
    if (!part) return fail('invalid_input', 'a multipart part has no content-disposition name')
    if (part.filename !== null && part.name === options.fileField) {
      if (spooled) return fail('invalid_input', `only one "${options.fileField}" file is allowed`)
      spooled = { path, head: Buffer.alloc(0), size: 0, name: part.filename }
      sink = await open(path, 'w')
    } else if (++fieldCount > MAX_FIELDS) {
      return fail('invalid_input', 'too many form fields')
    }
    return ok(null)
  }

  /**
   * Inside a part, most chunks hold no delimiter, neither whole nor across the seam with the
   * bytes kept from the last chunk: such a chunk is written as it came, not copied, and only
   * its last bytes (a delimiter's possible start) are kept. null: the chunk needs the full parse.
   */
  async function pushBody(bytes: Buffer): Promise<Result<boolean> | null> {
    const keep = delimiter.length - 1
    if (bytes.length < keep) return null
    const seam = Buffer.concat([pending, bytes.subarray(0, keep)])
    if (seam.includes(delimiter) || bytes.includes(delimiter)) return null
    const written = await write(pending, bytes.subarray(0, bytes.length - keep))
    if (!written.ok) return written
    pending = Buffer.from(bytes.subarray(bytes.length - keep))
    return ok(false)
  }

  /** Feeds one chunk; resolves true once the closing boundary was read. */
  async function push(chunk: Uint8Array): Promise<Result<boolean>> {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (state === 'body') {
      const passed = await pushBody(bytes)
      if (passed) return passed
    }
    pending = pending.length === 0 ? Buffer.from(bytes) : Buffer.concat([pending, bytes])
    for (;;) {
      if (state === 'preamble' || state === 'body') {
        const at = pending.indexOf(delimiter)
        if (at === -1) {
          // Keep what could be the start of a delimiter split across chunks.
          const safe = Math.max(0, pending.length - delimiter.length + 1)
          if (state === 'body') {
            const written = await write(pending.subarray(0, safe))
            if (!written.ok) return written
          } else if (pending.length > MAX_HEADER_BYTES) {
            return fail('invalid_input', 'no multipart boundary found')
          }
          pending = pending.subarray(safe)
          return ok(false)
        }
        if (state === 'body') {
          const written = await write(pending.subarray(0, at))
          if (!written.ok) return written
          await endPart()
        }
        pending = pending.subarray(at + delimiter.length)
        state = 'afterDelimiter'
      }
      if (state === 'afterDelimiter') {
        if (pending.length < 2) return ok(false)
        if (pending[0] === 0x2d && pending[1] === 0x2d) return ok(true)
        if (!pending.subarray(0, 2).equals(CRLF))
          return fail('invalid_input', 'malformed multipart boundary')
        pending = pending.subarray(2)
        state = 'headers'
      }
      if (state === 'headers') {
        const end = pending.indexOf(HEADER_END)
        if (end === -1) {
          if (pending.length > MAX_HEADER_BYTES)
            return fail('invalid_input', 'multipart part headers are too long')
          return ok(false)
        }
        const started = await startPart(pending.subarray(0, end).toString('utf8'))
        if (!started.ok) return started
        pending = pending.subarray(end + HEADER_END.length)
        state = 'body'
      }
    }
  }

  return {
    push,
    fields,
    file: () => spooled,
    async abort() {
      if (sink) {
        await written.catch(() => undefined)
        await sink.close().catch(() => undefined)
      }
      await rm(path, { force: true })
    },
  }
}
