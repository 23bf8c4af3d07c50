/**
 * @module One load-generator connection: raw WebSocket, Engine.IO open, Socket.IO CONNECT with a token,
 * pong on ping, and a cheap callback for every event frame.
 */
import { classifyFrame, connectFrame, EIO_PING, EIO_PONG, eventFrame } from './protocol.ts'

export interface BenchClient {
  send(frame: string): void
  /** Resolves with the raw frame of the next `name` event, or rejects after timeoutMs. */
  once(name: string, timeoutMs: number): Promise<string>
  close(): void
}

export type OpenResult = { ok: true; client: BenchClient } | { ok: false; error: string }

export interface OpenClientOptions {
  url: string
  token: string
  timeoutMs: number
  /** Called for every event frame; the hot path, so it gets the raw frame, unparsed. */
  onEvent(name: string, frame: string): void
}

/** Opens a connection and resolves once the Socket.IO CONNECT is accepted (or refused, or timed out). */
export function openClient({
  url,
  token,
  timeoutMs,
  onEvent,
}: OpenClientOptions): Promise<OpenResult> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url)
    const waiters = new Map<string, Array<(frame: string) => void>>()
    let settled = false
    const settle = (result: OpenResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (!result.ok) ws.close()
      resolve(result)
    }
    const timer = setTimeout(() => settle({ ok: false, error: 'handshake timed out' }), timeoutMs)

    const client: BenchClient = {
      send: (frame) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(frame)
      },
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
      close: () => ws.close(),
    }

    ws.onmessage = (message) => {
      const data = message.data
      if (typeof data !== 'string') return
      if (data === EIO_PING) {
        ws.send(EIO_PONG)
        return
      }
      const frame = classifyFrame(data)
      switch (frame.kind) {
        case 'open':
          // Engine.IO open received: ask for the main namespace with the auth payload.
          ws.send(connectFrame(token))
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
    ws.onerror = () => settle({ ok: false, error: 'websocket error' })
    ws.onclose = (event) => settle({ ok: false, error: `closed (${event.code}) before CONNECT` })
  })
}

/** Joins a city chat and waits for the confirmation the guide promises. */
export async function joinCity(
  client: BenchClient,
  cityId: string,
  timeoutMs: number
): Promise<void> {
  const joined = client.once('joined-city-chat', timeoutMs)
  client.send(eventFrame('join-city-chat', { cityId }))
  await joined
}
