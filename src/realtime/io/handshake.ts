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

/** One empty `auth` shared by every socket that keeps none of its payload. */
const NO_AUTH: Record<string, unknown> = Object.freeze({})

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
    private payload: Record<string, unknown>
  ) {}

  get auth(): Record<string, unknown> {
    return this.payload
  }
  /** Keeps only these fields of `auth` (the server's `handshakeAuth`), once the socket is accepted. */
  keepAuth(fields: readonly string[]): void {
    const kept: Record<string, unknown> = {}
    let any = false
    for (const field of fields) {
      if (!Object.hasOwn(this.payload, field)) continue
      kept[field] = this.payload[field]
      any = true
    }
    this.payload = any ? kept : NO_AUTH
  }

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
