/**
 * @module Sessions without sticky sessions: a polling request for a session owned by another node
 * is proxied to that node's internal URL and its answer streamed back; a WebSocket upgrade for
 * such a session is relayed to the owner frame by frame (relay.ts).
 *
 * Session ids are `<nodeId>.<random>` (engine `sidPrefix`), so the owner is read from the sid; its
 * URL comes from `lookup` (the node registry in Redis). A request that was already forwarded once
 * is never forwarded again (`x-forwarded-sid-hop`), so two nodes that disagree cannot loop.
 */
import type { Logger } from '../../log.ts'

const HOP_HEADER = 'x-forwarded-sid-hop'
/** Hop-by-hop headers (RFC 9110 §7.6.1) and those fetch sets itself. */
const DROPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host'])
const WS_DROPPED = new Set([
  ...DROPPED,
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'content-length',
])

export interface ForwarderOptions {
  nodeId: string
  /** Internal base URL of a live node, e.g. `http://10.0.0.5:3000`. */
  lookup: (nodeId: string) => Promise<string | undefined>
  logger: Logger
  /** Called once per forwarded request. */
  onForward?: (ok: boolean) => void
}

/** True for a request another node forwarded here (its connection is that node's, not the client's). */
export function isForwarded(req: Request): boolean {
  return req.headers.has(HOP_HEADER)
}

/** The owner node of a session id, or undefined when the sid carries none. */
export function ownerOf(sid: string): string | undefined {
  const dot = sid.indexOf('.')
  return dot > 0 ? sid.slice(0, dot) : undefined
}

/** Where a WebSocket for another node's session goes: the owner's URL and the headers to send. */
export interface RelayTarget {
  url: string
  headers: Record<string, string>
}

/** What the engine asks for a sid it does not hold (undefined: "Session ID unknown"). */
export interface Forwarder {
  /** A polling GET or POST, answered by the owner. */
  poll(req: Request, sid: string): Promise<Response | undefined>
  /** A WebSocket upgrade: where to relay it. */
  websocket(req: Request, sid: string): Promise<RelayTarget | undefined>
}

/**
 * @example createIO({ nodeId, forward: createForwarder({ nodeId, lookup, logger }) })
 */
export function createForwarder({
  nodeId,
  lookup,
  logger,
  onForward,
}: ForwarderOptions): Forwarder {
  const log = logger.child('forward')
  /** The owner's URL for this request, or undefined (no owner in the sid, this node, a hop). */
  const ownerUrl = async (req: Request, sid: string): Promise<URL | undefined> => {
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
    return new URL(incoming.pathname + incoming.search, base)
  }
  const headersOf = (req: Request, dropped: ReadonlySet<string>) => {
    const headers = new Headers()
    for (const [name, value] of req.headers) if (!dropped.has(name)) headers.set(name, value)
    headers.set(HOP_HEADER, nodeId)
    return headers
  }
  const websocket = async (req: Request, sid: string): Promise<RelayTarget | undefined> => {
    const target = await ownerUrl(req, sid)
    if (!target) return undefined
    target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:'
    // The WebSocket client makes its own handshake headers.
    const headers = headersOf(req, WS_DROPPED)
    return { url: target.href, headers: Object.fromEntries(headers) }
  }
  const poll = async (req: Request, sid: string): Promise<Response | undefined> => {
    const target = await ownerUrl(req, sid)
    if (!target) return undefined
    const owner = ownerOf(sid)
    const headers = headersOf(req, DROPPED)
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
  return { poll, websocket }
}
