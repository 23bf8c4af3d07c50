/**
 * @module HTTP error edge: turns Result errors and thrown errors into
 * `{ error: { code, message, details? } }` with the status from errors.ts.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { z } from 'zod'
import { type AppError, ERROR_CODES, type ErrorCode, httpStatus } from '../../errors.ts'
import type { Logger } from '../../log.ts'

/** Every refusal's body, as the OpenAPI document gives it for each route's `default` answer. */
export const errorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.unknown().optional(),
  }),
})

/** Answers an expected refusal. */
export function sendError(c: Context, error: AppError): Response {
  const body: z.output<typeof errorBodySchema> = {
    error:
      error.details === undefined
        ? { code: error.code, message: error.message }
        : { code: error.code, message: error.message, details: error.details },
  }
  return c.json(body, httpStatus(error.code) as ContentfulStatusCode)
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
