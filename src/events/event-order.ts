/**
 * @module Arrival order of one socket's events. Handlers are async (a join checks the database
 * before the socket enters the room), so handlers started in arrival order can still finish out
 * of it: over long-polling `leave`, `join` and `get-city-online-users` come in one payload and
 * the count was answered before the join had finished. Here an event waits for every earlier
 * event of its socket to finish, on every transport.
 *
 * Pipelined events (sending, editing, typing) are the exception among themselves: a sender may
 * have many messages in flight, and the store keeps their order (offsets follow call order), so
 * they overlap one another. They still wait for every earlier ordered event (a send right after
 * its join waits for the join), and an ordered event waits for every earlier pipelined one.
 */

/** The pipelined events that arrived since the last ordered one. */
interface Epoch {
  running: number
  resolveIdle: (() => void) | undefined
  idle: Promise<void> | undefined
  /** Bound once per epoch, not per event: the send path allocates as little as it can. */
  release: () => void
}

interface Order {
  /** Resolves when the latest ordered event has finished; undefined when none is running. */
  gate: Promise<void> | undefined
  epoch: Epoch
}

/** When a handler may start (`wait`, if any) and what to call once it has finished. */
export interface Turn {
  wait: Promise<void> | undefined
  done: () => void
}

const ORDERS = new WeakMap<object, Order>()

function newEpoch(): Epoch {
  const epoch: Epoch = {
    running: 0,
    resolveIdle: undefined,
    idle: undefined,
    release() {
      if (--epoch.running === 0) epoch.resolveIdle?.()
    },
  }
  return epoch
}

function idleOf(epoch: Epoch): Promise<void> | undefined {
  if (epoch.running === 0) return undefined
  epoch.idle ??= new Promise<void>((resolve) => {
    epoch.resolveIdle = resolve
  })
  return epoch.idle
}

/**
 * Takes the socket's next turn, in the order events arrive (call it synchronously on arrival).
 * @example
 * const turn = takeTurn(socket, false)
 * if (turn.wait) await turn.wait
 * try { await handle() } finally { turn.done() }
 */
export function takeTurn(socket: object, pipelined: boolean): Turn {
  let order = ORDERS.get(socket)
  if (!order) {
    order = { gate: undefined, epoch: newEpoch() }
    ORDERS.set(socket, order)
  }
  if (pipelined) {
    order.epoch.running++
    return { wait: order.gate, done: order.epoch.release }
  }
  const before = order.gate
  const pipelinedBefore = idleOf(order.epoch)
  order.epoch = newEpoch()
  let open = () => {}
  const gate = new Promise<void>((resolve) => {
    open = resolve
  })
  order.gate = gate
  const current = order
  const wait =
    before && pipelinedBefore
      ? Promise.all([before, pipelinedBefore]).then(() => {})
      : (before ?? pipelinedBefore)
  return {
    wait,
    done() {
      open()
      if (current.gate === gate) current.gate = undefined
    },
  }
}
