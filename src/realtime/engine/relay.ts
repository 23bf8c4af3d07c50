/**
 * @module WebSocket relay: a WebSocket upgrade that lands on a node which does not own the
 * session (plain round robin) is accepted here and carried, frame by frame, to the owner over a
 * WebSocket of its own. The owner runs the upgrade (probe, `upgrade` packet) as if the client were
 * connected to it, so the official client sees a normal upgrade; this node reads no packet.
 */
import type { ServerWebSocket } from 'bun'
import type { Logger } from '../../log.ts'
import type { RelayTarget } from './forward.ts'

type Frame = string | Uint8Array<ArrayBuffer>

export class WebSocketRelay {
  private upstream: WebSocket | undefined
  /** Client frames sent before the owner's WebSocket opened, in order. */
  private pending: Frame[] = []
  private closed = false

  constructor(
    private readonly target: RelayTarget,
    private readonly logger: Logger
  ) {}

  /** The client's WebSocket is open: connect to the owner and pipe its frames back. */
  open(client: ServerWebSocket<unknown>): void {
    // Bun's WebSocket takes handshake headers (the hop marker, the client's own headers).
    const upstream = new WebSocket(this.target.url, { headers: this.target.headers } as never)
    upstream.binaryType = 'arraybuffer'
    this.upstream = upstream
    upstream.onopen = () => {
      for (const frame of this.pending.splice(0)) upstream.send(frame)
    }
    upstream.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (!this.closed) client.send(event.data)
    }
    upstream.onclose = () => this.end(client)
    upstream.onerror = () => {
      this.logger.warn('websocket relay to the session owner failed', { url: this.target.url })
      this.end(client)
    }
  }

  /** A frame from the client, for the owner. */
  toOwner(message: string | Buffer): void {
    // Bun may reuse a received Buffer; a pending frame needs its own copy.
    const frame: Frame = typeof message === 'string' ? message : new Uint8Array(message)
    const upstream = this.upstream
    if (upstream?.readyState === WebSocket.OPEN) upstream.send(frame)
    else if (!this.closed) this.pending.push(frame)
  }

  /** The client went: so does the owner's side (the owner sees `transport close`). */
  close(): void {
    this.closed = true
    this.pending = []
    this.upstream?.close()
  }

  private end(client: ServerWebSocket<unknown>): void {
    if (this.closed) return
    this.closed = true
    client.close()
  }
}
