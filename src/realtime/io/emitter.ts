/**
 * @module A minimal event emitter whose listeners cannot crash the packet loop.
 *
 * A listener that throws or returns a rejected promise is logged and the loop goes on
 * (house style: bugs are caught in realtime's packet loop and logged with their stack).
 */
import type { Logger } from '../../log.ts'

export type Listener = (...args: any[]) => unknown

/** A `once` wrapper remembers what it wraps, so `off(event, listener)` finds it. */
type OnceWrapper = Listener & { listener?: Listener }

/** Calls a user callback; a throw or rejection is logged, never propagated. */
export function safeCall(logger: Logger, label: string, fn: Listener, args: unknown[]): void {
  try {
    const result = fn(...args)
    if (result instanceof Promise) {
      result.catch((error: unknown) => logger.error('listener rejected', { event: label, error }))
    }
  } catch (error) {
    logger.error('listener threw', { event: label, error })
  }
}

/** `safeCall` with `first` in front of `args`, without building `[first, ...args]` per call. */
export function safeCallWith(
  logger: Logger,
  label: string,
  fn: Listener,
  first: unknown,
  args: unknown[]
): void {
  try {
    const result = fn(first, ...args)
    if (result instanceof Promise) {
      result.catch((error: unknown) => logger.error('listener rejected', { event: label, error }))
    }
  } catch (error) {
    logger.error('listener threw', { event: label, error })
  }
}

export class Emitter {
  /** Created on first `on` so idle sockets without listeners stay small. */
  private listeners: Map<string, Listener[]> | undefined

  constructor(readonly logger: Logger) {}

  on(event: string, listener: Listener): this {
    this.listeners ??= new Map()
    const list = this.listeners.get(event)
    if (list) list.push(listener)
    else this.listeners.set(event, [listener])
    return this
  }

  /** Runs `listener` before the ones already registered (Node's `prependListener`). */
  prependListener(event: string, listener: Listener): this {
    this.listeners ??= new Map()
    const list = this.listeners.get(event)
    if (list) list.unshift(listener)
    else this.listeners.set(event, [listener])
    return this
  }

  once(event: string, listener: Listener): this {
    const wrapper: OnceWrapper = (...args) => {
      this.off(event, wrapper)
      return listener(...args)
    }
    wrapper.listener = listener
    return this.on(event, wrapper)
  }

  off(event?: string, listener?: Listener): this {
    if (!this.listeners) return this
    if (event === undefined) this.listeners.clear()
    else if (!listener) this.listeners.delete(event)
    else {
      const list = this.listeners.get(event)
      const index =
        list?.findIndex((l) => l === listener || (l as OnceWrapper).listener === listener) ?? -1
      if (list && index !== -1) list.splice(index, 1)
    }
    return this
  }

  /** Node's name for `off(event, listener)`. */
  removeListener(event: string, listener: Listener): this {
    return this.off(event, listener)
  }

  /** True once any listener was ever added (a cheap guard before building an event's arguments). */
  protected get listening(): boolean {
    return this.listeners !== undefined
  }

  listenerCount(event: string): number {
    return this.listeners?.get(event)?.length ?? 0
  }

  /** Delivers to local listeners only (never to the client). */
  protected emitLocal(event: string, args: unknown[]): boolean {
    const list = this.listeners?.get(event)
    if (!list || list.length === 0) return false
    for (const listener of [...list]) safeCall(this.logger, event, listener, args)
    return true
  }
}
