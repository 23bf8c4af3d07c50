/** @module Upload requests: checks a multipart request's framing and size, then spools its file. */
import type { Context } from 'hono'
import type { Media, Spooled } from '../chat/media.ts'
import { fail, type Result } from '../errors.ts'
import type { AppEnv } from './env.ts'
import { multipartBoundary, readMultipart } from './multipart.ts'

/** Multipart headers and the other fields around the file, on top of MEDIA_MAX_BYTES. */
const FRAMING_BYTES = 64 * 1024

/**
 * An upload may wait for its turn at image processing (chat/images.ts) after its last byte
 * arrived, longer than Bun's 10 s idle timeout when many photos come at once.
 */
const UPLOAD_IDLE_SECONDS = 120

/**
 * The request's `file` part spooled to a temp file, plus its small fields. A declared
 * Content-Length over the limit is refused before one byte is read.
 */
export async function readUpload(
  c: Context<AppEnv>,
  media: Media
): Promise<Result<{ file: Spooled; fields: Record<string, string> }>> {
  const boundary = multipartBoundary(c.req.header('content-type'))
  if (!boundary) return fail('invalid_input', 'send multipart/form-data with a "file" part')
  const declared = Number(c.req.header('content-length') ?? Number.NaN)
  if (declared > media.maxBytes + FRAMING_BYTES) {
    return fail('payload_too_large', `the file is larger than ${media.maxBytes} bytes`, {
      maxBytes: media.maxBytes,
    })
  }
  const body = c.req.raw.body
  if (!body) return fail('invalid_input', 'the request has no body')
  c.env?.server?.timeout?.(c.req.raw, UPLOAD_IDLE_SECONDS)
  return readMultipart(body, boundary, {
    maxFileBytes: media.maxBytes,
    tempDir: media.tempDir,
    headBytes: media.headBytes,
    fileField: 'file',
  })
}
