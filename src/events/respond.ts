/**
 * @module Event edge: validates a socket payload, runs the domain call, and answers the way the
 * contract says — an ack `{ ok: true, ... } | { ok: false, error }` and, on refusal, an `error`
 * event `{ message, code, event }`. The socket-side twin of http/middleware/errors.ts.
 */
import type { z } from 'zod'
import { compiledSchema, parseInput } from '../chat/inputs.ts'
import type { AppError, Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import { type IOServer, type IOSocket, JsonText } from '../realtime/index.ts'
import { takeTurn } from './event-order.ts'

type Ack = (response: unknown) => void

/** What a handler returns on success: merged into the ack as `{ ok: true, ...value }`. */
export type Reply = Record<string, unknown>

/** Handlers still running, per namespace, so shutdown can wait for their writes and acks. */
interface Running {
  count: number
  /** Called once `count` is back to 0. */
  waiting: Array<() => void>
}
const RUNNING = new WeakMap<object, Running>()

function runningOn(nsp: object): Running {
  let running = RUNNING.get(nsp)
  if (!running) {
    running = { count: 0, waiting: [] }
    RUNNING.set(nsp, running)
  }
  return running
}

/** Waits for every handler running now on the server's main namespace (and any they lead to). */
export async function settleHandlers(io: IOServer): Promise<void> {
  const running = runningOn(io.sockets)
  if (running.count > 0) await new Promise<void>((resolve) => running.waiting.push(resolve))
}

function finished(running: Running): void {
  if (--running.count > 0) return
  for (const resolve of running.waiting.splice(0)) resolve()
}

const INTERNAL: AppError = { code: 'internal', message: 'Something went wrong on our side' }

/** Tells the socket (and its ack, if any) why an action was refused. */
function refuse(socket: IOSocket, event: string, error: AppError, ack?: Ack): void {
  socket.emit('error', { message: error.message, code: error.code, event })
  ack?.({
    ok: false,
    error: error.details === undefined ? { code: error.code, message: error.message } : error,
  })
}

export interface HandlerOptions {
  /** May overlap the socket's other pipelined events (see event-order.ts); default: in order. */
  pipelined?: boolean
}

/**
 * Handles `event` for every socket, each socket's events in the order they arrived (one shared handler, not a listener per socket): the last
 * argument is the ack when it is a function, the first is the payload. A thrown error is a bug:
 * logged with its stack, answered as `internal`.
 * @example
 * on(io, log, 'join-city-chat', cityRoomPayload, async (socket, { cityId }) => joinCity(socket, cityId))
 */
export function on<S extends z.ZodType>(
  io: IOServer,
  log: Logger,
  event: string,
  schema: S,
  handler: (socket: IOSocket, input: z.output<S>) => Promise<Result<Reply>> | Result<Reply>,
  { pipelined = false }: HandlerOptions = {}
): void {
  const route: Route<S> = { log, event, schema: compiledSchema(schema), handler }
  io.sockets.handle(event, (socket: IOSocket, ...args: unknown[]) => {
    const last = args[args.length - 1]
    const ack = typeof last === 'function' ? (args.pop() as Ack) : undefined
    // Counted, not kept: shutdown waits for the count to reach 0 (a Set of promises and a
    // `finally` per event cost measurably on the send path).
    const running = runningOn(socket.nsp)
    running.count++
    void answer(route, socket, args[0], ack, takeTurn(socket, pipelined), running)
  })
}

/** What `on` registered for one event: made once, shared by every call of its handler. */
interface Route<S extends z.ZodType> {
  log: Logger
  event: string
  schema: S
  handler: (socket: IOSocket, input: z.output<S>) => Promise<Result<Reply>> | Result<Reply>
}

/**
 * One event's run, in its turn: validate, handle, answer. A named function taking its route
 * rather than a closure made per event (the send path's allocations, issue 20).
 */
async function answer<S extends z.ZodType>(
  { log, event, schema, handler }: Route<S>,
  socket: IOSocket,
  payload: unknown,
  ack: Ack | undefined,
  turn: ReturnType<typeof takeTurn>,
  running: Running
): Promise<void> {
  try {
    if (turn.wait) await turn.wait
    const input = parseInput(schema, payload)
    const result = input.ok ? await handler(socket, input.value) : input
    if (result.ok) ack?.(accepted(result.value))
    else refuse(socket, event, result.error, ack)
  } catch (error) {
    log.error('socket handler threw', { event, socketId: socket.id, error })
    refuse(socket, event, INTERNAL, ack)
  } finally {
    turn.done()
    finished(running)
  }
}

/**
 * The ack `{ ok: true, ...reply }`. A reply holding a JsonText (a sent message's view, already
 * serialized for its room's broadcast) is answered as JSON text around it, the same text
 * `JSON.stringify` would make, instead of being serialized again.
 */
function accepted(reply: Reply): unknown {
  let raw = false
  for (const key in reply) if (reply[key] instanceof JsonText) raw = true
  if (!raw) return { ok: true, ...reply }
  let json = '{"ok":true'
  for (const key in reply) {
    const value = reply[key]
    if (value === undefined) continue
    json += `,${JSON.stringify(key)}:${value instanceof JsonText ? value.text : JSON.stringify(value)}`
  }
  return new JsonText(`${json}}`)
}

/** `on` for the events a client keeps many of in flight: sending, editing, deleting, typing. */
export function onPipelined<S extends z.ZodType>(
  io: IOServer,
  log: Logger,
  event: string,
  schema: S,
  handler: (socket: IOSocket, input: z.output<S>) => Promise<Result<Reply>> | Result<Reply>
): void {
  on(io, log, event, schema, handler, { pipelined: true })
}
