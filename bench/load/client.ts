/**
 * @module One load-generator connection over a raw TCP socket with our own RFC 6455 framing: upgrade,
 * Engine.IO open, Socket.IO CONNECT with a token, pong on ping, and a byte-level fast path for
 * `new-city-message` frames. A TCP chunk carrying many frames costs one JS callback, not one per frame,
 * which keeps the generator from being the ceiling it measures.
 */
import type { Socket } from 'bun'
import {
  classifyFrame,
  connectFrame,
  EIO_PONG,
  eventFrame,
  isNewMessage,
  readStamp,
  type Stamp,
} from './protocol.ts'
import { closeFrame, createFrameReader, pongFrame, textFrame } from './ws-frames.ts'

export interface BenchClient {
  send(text: string): void
  /** Resolves with the raw frame of the next `name` event, or rejects after timeoutMs. */
  once(name: string, timeoutMs: number): Promise<string>
  close(): void
}

export type OpenResult = { ok: true; client: BenchClient } | { ok: false; error: string }

export interface OpenClientOptions {
  /** ws://host:port/path?query */
  url: string
  token: string
  timeoutMs: number
  /** Server address to connect to instead of the URL's host (the Host header stays the URL's). */
  address?: string
  /** Every `new-city-message` that carries a bench stamp: the hot path. */
  onStamp(stamp: Stamp): void
  /** Every other Socket.IO event, decoded. */
  onEvent(name: string, frame: string): void
}

const HEADER_END = Buffer.from('\r\n\r\n')

function upgradeRequest(url: URL): string {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64')
  return (
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  )
}

/** Opens a connection and resolves once the Socket.IO CONNECT is accepted (or refused, or timed out). */
export function openClient(options: OpenClientOptions): Promise<OpenResult> {
  const { token, timeoutMs, onStamp, onEvent } = options
  const url = new URL(options.url)
  return new Promise((resolve) => {
    const waiters = new Map<string, Array<(frame: string) => void>>()
    let socket: Socket | null = null
    let upgraded = false
    let handshakeBytes: Buffer | null = null
    // Bytes the kernel did not take yet (socket.write may be partial); flushed on drain.
    let pending: Buffer | null = null
    let settled = false

    const write = (bytes: Buffer) => {
      if (!socket) return
      if (pending) {
        pending = Buffer.concat([pending, bytes])
        return
      }
      const written = socket.write(bytes)
      if (written < bytes.length) pending = Buffer.from(bytes.subarray(Math.max(0, written)))
    }
    const settle = (result: OpenResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (!result.ok) socket?.end()
      resolve(result)
    }
    const timer = setTimeout(() => settle({ ok: false, error: 'handshake timed out' }), timeoutMs)

    const client: BenchClient = {
      send: (text) => write(textFrame(text)),
      once: (name, waitMs) =>
        new Promise((resolveEvent, reject) => {
          const timeout = setTimeout(
            () => reject(new Error(`no ${name} within ${waitMs} ms`)),
            waitMs
          )
          const list = waiters.get(name) ?? []
          list.push((frame) => {
            clearTimeout(timeout)
            resolveEvent(frame)
          })
          waiters.set(name, list)
        }),
      close: () => {
        write(closeFrame())
        socket?.end()
      },
    }

    const onText = (payload: Buffer) => {
      if (isNewMessage(payload)) {
        const stamp = readStamp(payload)
        if (stamp) {
          onStamp(stamp)
          return
        }
      }
      const text = payload.toString('utf8')
      const frame = classifyFrame(text)
      switch (frame.kind) {
        case 'ping':
          client.send(EIO_PONG)
          return
        case 'open':
          // Engine.IO open received: ask for the main namespace with the auth payload.
          client.send(connectFrame(token))
          return
        case 'connected':
          settle({ ok: true, client })
          return
        case 'connect-error':
          settle({ ok: false, error: `connect_error: ${frame.message}` })
          return
        case 'event': {
          const list = waiters.get(frame.name)
          if (list?.length) {
            waiters.delete(frame.name)
            for (const wake of list) wake(frame.body)
          }
          onEvent(frame.name, frame.body)
          return
        }
        default:
          return
      }
    }
    const readFrames = createFrameReader({
      text: onText,
      ping: (payload) => write(pongFrame(payload)),
      close: () => socket?.end(),
      error: (message) => settle({ ok: false, error: message }),
    })

    const onData = (chunk: Buffer) => {
      if (upgraded) return readFrames(chunk)
      handshakeBytes = handshakeBytes ? Buffer.concat([handshakeBytes, chunk]) : Buffer.from(chunk)
      const end = handshakeBytes.indexOf(HEADER_END)
      if (end < 0) return
      const head = handshakeBytes.toString('latin1', 0, end)
      const rest = handshakeBytes.subarray(end + HEADER_END.length)
      handshakeBytes = null
      if (!/^HTTP\/1\.1 101 /.test(head)) {
        settle({ ok: false, error: `upgrade refused: ${head.split('\r\n')[0]}` })
        return
      }
      upgraded = true
      if (rest.length) readFrames(rest)
    }

    Bun.connect({
      hostname: options.address ?? url.hostname,
      port: Number(url.port),
      socket: {
        open(s) {
          socket = s
          // Small frames must leave at once; Nagle + delayed ACK would add up to 40 ms to latencies.
          s.setNoDelay(true)
          s.write(upgradeRequest(url))
        },
        data: (_, chunk) => onData(chunk),
        drain(s) {
          if (!pending) return
          const bytes = pending
          pending = null
          const written = s.write(bytes)
          if (written < bytes.length) pending = Buffer.from(bytes.subarray(Math.max(0, written)))
        },
        close: () => settle({ ok: false, error: 'closed before CONNECT' }),
        error: (_, error) => settle({ ok: false, error: `socket error: ${error.message}` }),
        connectError: (_, error) => settle({ ok: false, error: `connect error: ${error.message}` }),
      },
    }).catch((error: Error) => settle({ ok: false, error: `connect error: ${error.message}` }))
  })
}

/** Joins a city chat and waits for the confirmation the guide promises, or the server's refusal. */
export async function joinCity(
  client: BenchClient,
  cityId: string,
  timeoutMs: number
): Promise<void> {
  const joined = client.once('joined-city-chat', timeoutMs)
  const refused = client.once('error', timeoutMs)
  // Whichever loses still times out later; its rejection is expected and ignored.
  joined.catch(() => {})
  refused.catch(() => {})
  client.send(eventFrame('join-city-chat', { cityId }))
  const outcome = await Promise.race([
    joined.then(() => null),
    refused.then((frame) => `join-city-chat refused: ${frame.slice(2, 200)}`),
  ])
  if (outcome) throw new Error(outcome)
}
