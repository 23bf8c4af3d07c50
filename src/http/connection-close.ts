/**
 * @module `Connection: close` said out loud: Bun closes the connection after a request that
 * asks for it but does not put the header on the response (RFC 9112 §9.6 says the server
 * should). Node's keep-alive agents then reuse the closed socket and fail with "socket hang up".
 */

/** True when the request asks the server to close the connection after answering. */
function asksToClose(req: Request): boolean {
  const value = req.headers.get('connection')
  return value !== null && /(?:^|,)\s*close\s*(?:,|$)/i.test(value)
}

function withClose(res: Response): Response {
  try {
    res.headers.set('Connection', 'close')
    return res
  } catch {
    // Headers of a fetched Response (a forwarded poll) are immutable: copy them.
    const headers = new Headers(res.headers)
    headers.set('Connection', 'close')
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers })
  }
}

/**
 * Puts `Connection: close` on the answer to a request that carries it; other answers pass
 * through untouched (no promise added). undefined stays undefined: a WebSocket upgrade.
 *
 * @example
 * fetch: (req, server) => answerConnectionClose(req, route(req, server))
 */
export function answerConnectionClose<T extends Response | Promise<Response | undefined>>(
  req: Request,
  answer: T
): T {
  if (!asksToClose(req)) return answer
  if (answer instanceof Promise) return answer.then((res) => res && withClose(res)) as T
  return withClose(answer as Response) as T
}
