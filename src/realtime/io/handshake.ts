/**
 * @module The handshake of a Socket.IO socket (socket.io `socket.handshake`): request facts
 * plus the CONNECT `auth` payload.
 */
import type { RequestInfo } from '../engine/socket.ts'

export interface Handshake {
  /** Request headers of the session's first request, lower-cased names (those the engine keeps). */
  readonly headers: Record<string, string>
  readonly time: string
  readonly address: string
  readonly xdomain: boolean
  readonly secure: boolean
  readonly issued: number
  /** Path and query of the session's first request. */
  readonly url: string
  readonly query: Record<string, string>
  /** The CONNECT packet's payload (`io(url, { auth })`). */
  readonly auth: Record<string, unknown>
}

/**
 * The handshake, computed on first read: most sockets never look at their headers or query,
 * and 10k idle connections must stay under a few KB each.
 */
export class SocketHandshake implements Handshake {
  readonly issued = Date.now()
  private cachedHeaders: Record<string, string> | undefined
  private cachedQuery: Record<string, string> | undefined

  constructor(
    private readonly request: RequestInfo,
    readonly auth: Record<string, unknown>
  ) {}

  get headers(): Record<string, string> {
    const headers = this.request.headers
    this.cachedHeaders ??= headers instanceof Headers ? Object.fromEntries(headers) : { ...headers }
    return this.cachedHeaders
  }
  get query(): Record<string, string> {
    this.cachedQuery ??= Object.fromEntries(new URL(this.request.url).searchParams)
    return this.cachedQuery
  }
  get time(): string {
    return new Date(this.issued).toString()
  }
  get address(): string {
    return this.request.address
  }
  get xdomain(): boolean {
    const headers = this.request.headers
    return headers instanceof Headers ? headers.has('origin') : headers.origin !== undefined
  }
  get secure(): boolean {
    return this.request.url.startsWith('https:')
  }
  get url(): string {
    const url = this.request.url
    const start = url.indexOf('/', url.indexOf('//') + 2)
    return start === -1 ? '/' : url.slice(start)
  }
}
