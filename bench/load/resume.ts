/**
 * @module Resume (ours only): one official socket.io-client in a city loses its transport (as a
 * network loss would), another member sends `events` messages to the city meanwhile (each acked,
 * so durable and in the room stream), then the first reconnects with connection state recovery.
 * Timed from `socket.connect()` to the last replayed `new-city-message`; the round ends only
 * when every message sent in the gap has come back. Run from the orchestrator: two clients, no load.
 */
import { io, type Socket } from 'socket.io-client'
import type { ScenarioContext } from './session.ts'

/** The sender's messages in flight (acks pending), as in the persistence scenario. */
const WINDOW = 16
const TIMEOUT_MS = 20_000

export interface ResumeResult {
  rounds: number
  /** Rounds that ended with the socket recovered and every missed event replayed. */
  recovered: number
  /** Medians over rounds: to the `connect` event, and to the last replayed event. */
  connectMs: number | null
  replayMs: number | null
  /** Rounds that failed (not recovered, or the replay incomplete); the first one ends the rounds. */
  failed: number
  firstError: string | null
}

const median = (values: number[]) =>
  values.length ? ([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? null) : null

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

const once = <T = unknown>(socket: Socket, event: string) =>
  new Promise<T>((resolve) => socket.once(event, (value: T) => resolve(value)))

async function member(ctx: ScenarioContext, token: string, cityId: string): Promise<Socket> {
  const socket = io(ctx.target.baseUrl, {
    transports: ['websocket'],
    auth: { token },
    // The round reconnects by itself, at a known moment.
    reconnection: false,
  })
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve())
      socket.once('connect_error', reject)
    }),
    TIMEOUT_MS,
    'connect'
  )
  const joined = once(socket, 'joined-city-chat')
  const ack = (await socket.timeout(TIMEOUT_MS).emitWithAck('join-city-chat', { cityId })) as {
    ok?: boolean
  }
  if (!ack.ok) throw new Error(`join-city-chat: ${JSON.stringify(ack)}`)
  await within(joined, TIMEOUT_MS, 'joined-city-chat')
  return socket
}

/** Sends `count` city messages with `WINDOW` acks pending; returns their ids. */
async function sendAll(sender: Socket, cityId: string, count: number): Promise<string[]> {
  const ids: string[] = []
  let nextIndex = 0
  const lane = async () => {
    while (nextIndex < count) {
      const index = nextIndex++
      const ack = (await sender
        .timeout(TIMEOUT_MS)
        .emitWithAck('send-city-message', { cityId, content: `resume ${index}` })) as {
        ok?: boolean
        message?: { _id: string }
        error?: unknown
      }
      if (!ack.ok || !ack.message) throw new Error(`send-city-message: ${JSON.stringify(ack)}`)
      ids.push(ack.message._id)
    }
  }
  await Promise.all(Array.from({ length: WINDOW }, lane))
  return ids
}

async function round(
  receiver: Socket,
  sender: Socket,
  cityId: string,
  events: number
): Promise<{ connectMs: number; replayMs: number }> {
  const left = once(sender, 'user-left-city-chat')
  const gone = once(receiver, 'disconnect')
  receiver.io.engine.close()
  await gone
  // The server noticed the drop (or, at worst, notices before the reconnect, long after).
  await Promise.race([left, Bun.sleep(1_000)])
  // Each replayed message is crossed off once; the round ends when none is left.
  const missing = new Set(await sendAll(sender, cityId, events))
  let connectedAt = 0
  const done = new Promise<number>((resolve) => {
    const onMessage = (message: { _id: string }) => {
      if (!missing.delete(message._id) || missing.size > 0) return
      receiver.off('new-city-message', onMessage)
      resolve(performance.now())
    }
    receiver.on('new-city-message', onMessage)
  })
  const connected = once(receiver, 'connect').then(() => {
    connectedAt = performance.now()
  })
  const started = performance.now()
  receiver.connect()
  await within(connected, TIMEOUT_MS, 'reconnect')
  if (!receiver.recovered) throw new Error('reconnected without recovery (a fresh session)')
  const last = await within(done, TIMEOUT_MS, `replay of ${events} events`)
  return { connectMs: connectedAt - started, replayMs: last - started }
}

export async function resumeReplay(
  ctx: ScenarioContext,
  events: number,
  rounds: number
): Promise<ResumeResult> {
  const cityId = ctx.identities.cities[0] ?? 'mumbai'
  const [first, second] = ctx.identities.tokens
  if (!first || !second) throw new Error('resume needs two bench users')
  const receiver = await member(ctx, first, cityId)
  const sender = await member(ctx, second, cityId)
  const connect: number[] = []
  const replay: number[] = []
  let failed = 0
  let firstError: string | null = null
  try {
    for (let i = 0; i < rounds; i++) {
      try {
        const timed = await round(receiver, sender, cityId, events)
        connect.push(timed.connectMs)
        replay.push(timed.replayMs)
        ctx.log(
          `  resume ${i + 1}/${rounds}: connected after ${timed.connectMs.toFixed(1)} ms, ${events} events replayed after ${timed.replayMs.toFixed(1)} ms`
        )
      } catch (error) {
        failed++
        firstError ??= (error as Error).message
        ctx.log(`  resume ${i + 1}/${rounds}: ${(error as Error).message}`)
        // The receiver's session is gone or unknown: the rounds after it would measure nothing.
        break
      }
      await Bun.sleep(250)
    }
  } finally {
    receiver.disconnect()
    sender.disconnect()
  }
  return {
    rounds,
    recovered: replay.length,
    connectMs: median(connect),
    replayMs: median(replay),
    failed,
    firstError,
  }
}
