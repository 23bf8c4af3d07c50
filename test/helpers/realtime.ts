/**
 * @module Test helpers for the realtime layer: a real Bun.serve on port 0, official-client
 * connections, event waiting, and raw Engine.IO requests for malformed-input tests.
 */

import { connect as connectTcp } from 'node:net'
import {
  io as ioClient,
  type ManagerOptions,
  type Socket,
  type SocketOptions,
} from 'socket.io-client'
import { createIO, type IOOptions, type IOServer, type IOSocket } from '../../src/realtime/index.ts'

export interface TestServer {
  io: IOServer
  url: string
  server: ReturnType<typeof Bun.serve>
  stop(): Promise<void>
}

/**
 * Starts `createIO(options)` behind a plain `Bun.serve({ port: 0 })`. `onRequest` sees each
 * request after the layer took it synchronously (e.g. a GET is held), for ordering in tests.
 */
export function startIO(options: IOOptions = {}, onRequest?: (req: Request) => void): TestServer {
  const io = createIO(options)
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (req, srv) => {
      if (!io.handles(req)) return new Response('not found', { status: 404 })
      const answer = io.handleRequest(req, srv)
      onRequest?.(req)
      return answer
    },
    websocket: io.websocket,
  })
  io.attach(server)
  return {
    io,
    server,
    url: `http://127.0.0.1:${server.port}`,
    async stop() {
      await io.close()
      await server.stop(true)
    },
  }
}

export type ClientOptions = Partial<ManagerOptions & SocketOptions>

/** Each transport the official client can use; the suite runs over all three. */
export const TRANSPORTS: { name: string; options: ClientOptions }[] = [
  { name: 'websocket', options: { transports: ['websocket'] } },
  { name: 'polling', options: { transports: ['polling'] } },
  { name: 'polling then upgrade', options: {} },
]

/** A new client (no multiplexing, no reconnection unless asked). Not yet connected. */
export function client(url: string, options: ClientOptions = {}): Socket {
  return ioClient(url, { forceNew: true, reconnection: false, ...options })
}

/** Connects and resolves on `connect`, rejects on `connect_error`. */
export async function connect(url: string, options: ClientOptions = {}): Promise<Socket> {
  const socket = client(url, options)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', (err) => reject(err))
  })
  return socket
}

interface Listenable {
  once(event: any, listener: (...args: any[]) => any): unknown
}

/** Resolves with the first argument of the next `event`. */
export function once<T = unknown>(emitter: Listenable, event: string): Promise<T> {
  return new Promise((resolve) => {
    emitter.once(event, ((value: T) => resolve(value)) as (...args: never[]) => void)
  })
}

/** Resolves with all arguments of the next `event`. */
export function onceAll(emitter: Listenable, event: string): Promise<unknown[]> {
  return new Promise((resolve) => {
    emitter.once(event, ((...args: unknown[]) => resolve(args)) as (...args: never[]) => void)
  })
}

/** Waits until the client is on WebSocket (immediately, or at its `upgrade`). */
export async function settled(socket: Socket): Promise<void> {
  const engine = socket.io.engine
  if (engine.transport.name === 'websocket' || socket.io.opts.transports?.length === 1) return
  await once(engine, 'upgrade')
}

// ——— raw Engine.IO over HTTP ———

export interface RawResponse {
  status: number
  body: string
  headers: Headers
}

async function raw(res: Response): Promise<RawResponse> {
  return { status: res.status, body: await res.text(), headers: res.headers }
}

const endpoint = (url: string, query: string) => `${url}/socket.io/?${query}`

/** Opens a polling session; returns its sid and the decoded `open` payload. */
export async function eioHandshake(
  url: string
): Promise<{ sid: string; open: Record<string, unknown> }> {
  const res = await raw(await fetch(endpoint(url, 'EIO=4&transport=polling')))
  if (res.status !== 200 || !res.body.startsWith('0')) throw new Error(`handshake: ${res.body}`)
  const open = JSON.parse(res.body.slice(1)) as Record<string, unknown>
  return { sid: String(open.sid), open }
}

/** Opens a polling session and joins `/`; resolves with its sid and the server-side socket. */
export async function eioSession(srv: TestServer): Promise<{ sid: string; socket: IOSocket }> {
  const connection = once<IOSocket>(srv.io, 'connection')
  const { sid } = await eioHandshake(srv.url)
  const pushed = await eioPush(srv.url, sid, '40')
  const connected = await eioPoll(srv.url, sid)
  if (pushed.body !== 'ok' || !/^40\{"sid":"[\w-]+"\}$/.test(connected.body)) {
    throw new Error(`no CONNECT: ${pushed.body} ${connected.body}`)
  }
  return { sid, socket: await connection }
}

/** One long-poll GET. */
export async function eioPoll(url: string, sid: string, init: RequestInit = {}) {
  return raw(await fetch(endpoint(url, `EIO=4&transport=polling&sid=${sid}`), init))
}

/** One POST of a raw payload. */
export async function eioPush(
  url: string,
  sid: string,
  body: string | Uint8Array<ArrayBuffer>,
  headers: Record<string, string> = { 'Content-Type': 'text/plain;charset=UTF-8' }
) {
  const init = { method: 'POST', body, headers }
  return raw(await fetch(endpoint(url, `EIO=4&transport=polling&sid=${sid}`), init))
}

/** Any raw request to the endpoint with the given query. */
export async function eioRequest(url: string, query: string, init: RequestInit = {}) {
  return raw(await fetch(endpoint(url, query), init))
}

// ——— raw WebSocket ———

export interface RawWebSocket {
  ws: WebSocket
  /** The next frame received (queued if it already arrived). */
  next(): Promise<string | ArrayBuffer>
  /** Resolves with the close code once the socket closed. */
  closed: Promise<number>
  send(data: string | Uint8Array<ArrayBuffer>): void
}

/** Opens a plain WebSocket to the endpoint (`query` defaults to a fresh websocket handshake). */
export async function wsOpen(
  url: string,
  query = 'EIO=4&transport=websocket'
): Promise<RawWebSocket> {
  const ws = new WebSocket(`${endpoint(url.replace('http', 'ws'), query)}`)
  ws.binaryType = 'arraybuffer'
  const queue: (string | ArrayBuffer)[] = []
  const waiters: ((frame: string | ArrayBuffer) => void)[] = []
  ws.onmessage = (event) => {
    const waiter = waiters.shift()
    if (waiter) waiter(event.data)
    else queue.push(event.data)
  }
  const closed = new Promise<number>((resolve) => {
    ws.onclose = (event) => resolve(event.code)
  })
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve()
    ws.onerror = () => reject(new Error('websocket failed to open'))
  })
  return {
    ws,
    closed,
    send: (data) => ws.send(data),
    next: () => {
      const frame = queue.shift()
      if (frame !== undefined) return Promise.resolve(frame)
      return new Promise((resolve) => waiters.push(resolve))
    },
  }
}

/** Opens a raw ws session and joins namespace `/`; returns the ws after CONNECT. */
export async function wsConnect(url: string, auth = '{}'): Promise<RawWebSocket> {
  const socket = await wsOpen(url)
  const open = await socket.next()
  if (typeof open !== 'string' || !open.startsWith('0')) throw new Error('no open packet')
  socket.send(`40${auth}`)
  const connected = await socket.next()
  if (typeof connected !== 'string' || !connected.startsWith('40')) {
    throw new Error(`no CONNECT: ${String(connected)}`)
  }
  return socket
}

// ——— raw TCP (the exact bytes of an answer) ———

/**
 * Writes `request` (an HTTP/1.1 request head) to the server's port and resolves with every byte
 * received until `done(bytes)` says enough, or the server closes the connection (`closed`).
 */
export function rawExchange(
  url: string,
  request: string,
  done: (bytes: Buffer) => boolean = () => false
): Promise<{ bytes: Buffer; closed: boolean }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = connectTcp(Number(port), hostname, () => socket.write(request))
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      if (done(Buffer.concat(chunks))) {
        socket.destroy()
        resolve({ bytes: Buffer.concat(chunks), closed: false })
      }
    })
    socket.on('close', () => resolve({ bytes: Buffer.concat(chunks), closed: true }))
    socket.on('error', reject)
  })
}

/** The head of a WebSocket upgrade request for the endpoint with `query`. */
export function upgradeRequest(url: string, query: string): string {
  const { host } = new URL(url)
  return [
    `GET /socket.io/?${query} HTTP/1.1`,
    `Host: ${host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    '',
    '',
  ].join('\r\n')
}
