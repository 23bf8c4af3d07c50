/**
 * @module Polling without sticky sessions: a request for a session owned by another node is
 * proxied to that node's internal URL and its answer streamed back.
 *
 * Session ids are `<nodeId>.<random>` (engine `sidPrefix`), so the owner is read from the sid; its
 * URL comes from `lookup` (the node registry in Redis). A request that was already forwarded once
 * is never forwarded again (`x-forwarded-sid-hop`), so two nodes that disagree cannot loop.
 */
import type { Logger } from '../../log.ts'

const HOP_HEADER = 'x-forwarded-sid-hop'
/** Hop-by-hop headers (RFC 9110 §7.6.1) and those fetch sets itself. */
const DROPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host'])

export interface ForwarderOptions {
  nodeId: string
  /** Internal base URL of a live node, e.g. `http://10.0.0.5:3000`. */
  lookup: (nodeId: string) => Promise<string | undefined>
  logger: Logger
  /** Called once per forwarded request. */
  onForward?: (ok: boolean) => void
}

/** The owner node of a session id, or undefined when the sid carries none. */
export function ownerOf(sid: string): string | undefined {
  const dot = sid.indexOf('.')
  return dot > 0 ? sid.slice(0, dot) : undefined
}

/**
 * @example createIO({ nodeId, forward: createForwarder({ nodeId, lookup, logger }) })
 */
export function createForwarder({ nodeId, lookup, logger, onForward }: ForwarderOptions) {
  const log = logger.child('forward')
  return async (req: Request, sid: string): Promise<Response | undefined> => {
    const owner = ownerOf(sid)
    if (!owner || owner === nodeId || req.headers.has(HOP_HEADER)) return undefined
    let base: string | undefined
    try {
      base = await lookup(owner)
    } catch (error) {
      log.warn('owner lookup failed', { owner, error })
    }
    if (!base) return undefined // the owner is gone: "Session ID unknown", the client reconnects
    const incoming = new URL(req.url)
    const target = new URL(incoming.pathname + incoming.search, base)
    const headers = new Headers()
    for (const [name, value] of req.headers) if (!DROPPED.has(name)) headers.set(name, value)
    headers.set(HOP_HEADER, nodeId)
    try {
      const answer = await fetch(target, {
        method: req.method,
        headers,
        body: req.method === 'POST' ? await req.arrayBuffer() : undefined,
        // The client giving up on a held GET must release it on the owner too.
        signal: req.signal,
        redirect: 'manual',
      })
      onForward?.(true)
      const out = new Headers(answer.headers)
      for (const name of DROPPED) out.delete(name)
      out.delete('content-length')
      out.delete('content-encoding')
      return new Response(answer.body, { status: answer.status, headers: out })
    } catch (error) {
      onForward?.(false)
      if (req.signal.aborted) return new Response(null, { status: 499 })
      log.warn('forwarding to the session owner failed', { owner, error })
      return undefined
    }
  }
}
