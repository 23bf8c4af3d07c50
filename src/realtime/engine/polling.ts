/**
 * @module Engine.IO HTTP long-polling transport: held GETs carry server packets, POSTs carry
 * client packets.
 *
 * Spec: https://github.com/socketio/engine.io-protocol (v4) — "HTTP long-polling" and
 * "Packet payload". Behaviour on overlap, binary content type and oversize bodies follows
 * engine.io `lib/transports/polling.ts`.
 */
import { isForwarded } from './forward.ts'
import { decodePayload, type EnginePacket, encodePayload } from './parser.ts'
import type { EngineSocket, Transport } from './socket.ts'

interface HeldPoll {
  resolve: (response: Response) => void
  headers: Record<string, string>
  /** The client's cache-buster (`t`, new on every request of engine.io-client). */
  t: string | null
  /** Held for another node that forwarded it: that node dying is not the client leaving. */
  forwarded: boolean
}

/**
 * Faults between nodes (a forwarding node killed mid-poll, a proxy retrying the request on another
 * node): the client sends the same GET again, with the same `t`. The last answer is kept until a
 * GET with another `t` shows it arrived, and a repeated one gets the same packets again, so none
 * is lost and none comes twice. A repeated POST is acknowledged without handing its packets on.
 */
const tOf = (req: Request) => new URL(req.url).searchParams.get('t')

export class PollingTransport implements Transport {
  readonly name = 'polling'
  private held: HeldPoll | undefined
  private posting = false
  /** The packets of the last answered GET, by its `t`, until the next GET shows they arrived. */
  private answered: { t: string; packets: EnginePacket[] } | undefined
  private lastPostT: string | null = null

  get writable(): boolean {
    return this.held !== undefined
  }

  send(packets: EnginePacket[]): void {
    const held = this.held
    if (!held) return
    this.held = undefined
    this.answered = held.t === null ? undefined : { t: held.t, packets }
    held.resolve(payloadResponse(packets, held.headers))
  }

  /** Releases a held GET: with `close` when graceful, otherwise with a `noop`. */
  close(graceful: boolean): void {
    if (this.held) this.send([{ type: graceful ? 'close' : 'noop' }])
  }

  subscribe(): void {}
  unsubscribe(): void {}
  publish(): void {}

  /** A GET: answer now if packets are waiting, otherwise hold it until there are some. */
  poll(socket: EngineSocket, req: Request, headers: Record<string, string>): Promise<Response> {
    const t = tOf(req)
    if (this.held?.forwarded) {
      // The node that forwarded the held GET is gone (its retry is here first): it reached no one.
      const stale = this.held
      this.held = undefined
      stale.resolve(new Response(null, { status: 499, headers }))
    }
    if (t !== null && this.answered?.t === t) {
      return Promise.resolve(payloadResponse(this.answered.packets, headers))
    }
    this.answered = undefined
    if (this.held) {
      // engine.io: "overlap from client" is a transport error; the held GET is released.
      socket.onClose('transport error')
      return Promise.resolve(new Response(null, { status: 400, headers }))
    }
    return new Promise<Response>((resolve) => {
      const held: HeldPoll = { resolve, headers, t, forwarded: isForwarded(req) }
      this.held = held
      req.signal.addEventListener(
        'abort',
        () => {
          // Only a poll still held when the client went away is premature.
          if (this.held !== held) return
          this.held = undefined
          // A forwarding node went away, not the client: it retries through another node.
          if (held.forwarded) return
          socket.onClose('transport error')
        },
        { once: true }
      )
      if (socket.readyState === 'closing') {
        socket.finishClosing()
        return
      }
      socket.flush()
      // Mid-upgrade, the client waits for this poll to end before sending `upgrade`.
      if (this.held === held && socket.probed) this.send([{ type: 'noop' }])
    })
  }

  /** A POST: decode its payload and hand each packet to the session. */
  async receive(
    socket: EngineSocket,
    req: Request,
    headers: Record<string, string>,
    maxPayload: number
  ): Promise<Response> {
    if (this.posting) {
      socket.onClose('transport error') // engine.io: "data request overlap from client"
      return new Response(null, { status: 400, headers })
    }
    if (req.headers.get('content-type') === 'application/octet-stream') {
      socket.onClose('transport error') // v4 payloads are text only ("invalid content")
      return new Response(null, { status: 400, headers })
    }
    const t = tOf(req)
    if (t !== null && t === this.lastPostT) {
      return new Response('ok', { headers: { ...headers, 'Content-Type': 'text/html' } })
    }
    this.posting = true
    let body: string | undefined
    try {
      body = await readBody(req, maxPayload)
    } catch {
      socket.onClose('transport error') // the client aborted the upload
      return new Response(null, { status: 400, headers })
    } finally {
      this.posting = false
    }
    if (body === undefined) return new Response(null, { status: 413, headers })
    this.lastPostT = t
    const { packets, ok } = decodePayload(body)
    for (const packet of packets) {
      if (socket.readyState === 'closed') break
      socket.onPacket(packet)
    }
    if (!ok) socket.onClose('parse error')
    return new Response('ok', { headers: { ...headers, 'Content-Type': 'text/html' } })
  }
}

function payloadResponse(packets: EnginePacket[], headers: Record<string, string>): Response {
  return new Response(encodePayload(packets), {
    headers: { ...headers, 'Content-Type': 'text/plain; charset=UTF-8' },
  })
}

/** Reads a text body, or undefined once it exceeds `limit` bytes (maxPayload). */
async function readBody(req: Request, limit: number): Promise<string | undefined> {
  const declared = Number(req.headers.get('content-length') ?? 0)
  if (declared > limit) return undefined
  if (!req.body) return ''
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of req.body) {
    total += chunk.byteLength
    if (total > limit) return undefined
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, total).toString('utf8')
}
