/** @module Request log: one structured line per request at info (5xx at error). */
import type { MiddlewareHandler } from 'hono'
import type { Logger } from '../../log.ts'

export function requestLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const start = performance.now()
    await next()
    const status = c.res.status
    const fields = {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - start) * 10) / 10,
      userId: c.get('user')?.id,
    }
    if (status >= 500) log.error('request', fields)
    else log.info('request', fields)
  }
}
