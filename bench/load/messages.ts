/** @module The IPC messages between the bench orchestrator (bench/run.ts) and its generator workers. */
type Sparse = Array<[number, number]>

/** One connection a worker opens: its token and the city it joins (null: stay idle after CONNECT). */
export interface ClientSpec {
  token: string
  cityId: string | null
  /** Server address to connect to instead of the URL's (127.0.0.2, …): ~28k ports each. */
  address?: string
}

/** A sending client, by its index inside the worker, with a global sender id stamped into content. */
export interface SenderSpec {
  client: number
  sender: number
  /** Open loop: messages per second (fractions allowed). */
  ratePerSec: number
}

export interface PersistSenderSpec {
  client: number
  sender: number
  /** Closed loop: how many messages may be in flight before the sender waits for its own echo. */
  window: number
}

export type Command =
  | { type: 'connect'; url: string; clients: ClientSpec[]; concurrency: number; timeoutMs: number }
  | {
      type: 'step'
      step: number
      durationMs: number
      graceMs: number
      padding: string
      senders: SenderSpec[]
    }
  | {
      type: 'persist'
      step: number
      durationMs: number
      padding: string
      senders: PersistSenderSpec[]
    }
  /** Starts counting one event's frames on every connection of the worker (replaces the last watch). */
  | { type: 'watch'; event: string }
  /** What the current watch counted so far. */
  | { type: 'watched' }
  /** Starts counting stamped deliveries of one step (a single broadcast sent from elsewhere). */
  | { type: 'arm'; step: number }
  /** Waits until the armed step has `expected` deliveries or `timeoutMs` passes, then disarms. */
  | { type: 'collect'; expected: number; timeoutMs: number }
  | { type: 'close' }

export type Reply =
  | {
      type: 'connected'
      ok: number
      failed: number
      /** Worker-local indexes (in connect order across connect commands) that did not connect. */
      failedIndexes: number[]
      firstError: string | null
      /** Handshake time: WebSocket open → Socket.IO CONNECT answered (→ joined, when joining). */
      handshake: Sparse
    }
  | {
      type: 'step-done'
      step: number
      sentByCity: Record<string, number>
      received: number
      latency: Sparse
      errors: Record<string, number>
    }
  | {
      type: 'persist-done'
      step: number
      completed: number
      latency: Sparse
      errors: Record<string, number>
    }
  | { type: 'watching' }
  /** `lastAt`: epoch ms (performance.timeOrigin + now) of the last frame counted, null before one. */
  | { type: 'watched'; count: number; lastAt: number | null }
  | { type: 'armed' }
  | {
      type: 'collected'
      received: number
      latency: Sparse
      /** Epoch ms of the last delivery counted, null when none came. */
      lastAt: number | null
      errors: Record<string, number>
    }
  | { type: 'closed' }
  | { type: 'failed'; message: string }
