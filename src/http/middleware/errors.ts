/**
 * @module HTTP error edge: turns Result errors and thrown errors into
 * `{ error: { code, message, details? } }` with the status from errors.ts.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { type AppError, httpStatus } from '../../errors.ts'
import type { Logger } from '../../log.ts'

/** Answers an expected refusal. */
export function sendError(c: Context, error: AppError): Response {
  const body = error.details === undefined ? { code: error.code, message: error.message } : error
  return c.json({ error: body }, httpStatus(error.code) as ContentfulStatusCode)
}

/** Unknown routes: JSON 404 like every other error. */
export const notFound: NotFoundHandler = (c) =>
  sendError(c, { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` })

/**
 * A thrown error is a bug or an outage: log it with its stack, answer `internal` with a generic
 * message, never the exception's text.
 */
export function createErrorHandler(log: Logger): ErrorHandler {
  return (error, c) => {
    log.error('unhandled error', {
      error,
      method: c.req.method,
      path: c.req.path,
      requestId: c.get('requestId'),
    })
    return sendError(c, { code: 'internal', message: 'internal server error' })
  }
}
