/**
 * @module A socket of another node, as `fetchSockets()` returns it (socket.io's `RemoteSocket`):
 * what that node told of it (id, handshake, rooms, data, as they were when it answered), and
 * `emit`, `join`, `leave` and `disconnect`, which go through the adapter to wherever it is.
 */
import type { SocketDetails } from '../adapters/adapter.ts'
import type { Handshake } from './handshake.ts'
import type { Namespace } from './namespace.ts'
import type { SocketData } from './socket.ts'

/** What `fetchSockets()` hands out: a local `IOSocket` or a `RemoteSocket` both have this. */
export interface FetchedSocket {
  readonly id: string
  readonly handshake: Handshake
  readonly rooms: Set<string>
  readonly data: SocketData
  emit(event: string, ...args: unknown[]): boolean
  join(room: string | string[]): void
  leave(room: string): void
  disconnect(close?: boolean): unknown
}

export class RemoteSocket implements FetchedSocket {
  readonly id: string
  readonly handshake: Handshake
  readonly rooms: Set<string>
  readonly data: SocketData

  constructor(
    private readonly nsp: Namespace,
    details: SocketDetails
  ) {
    this.id = details.id
    this.handshake = details.handshake
    this.rooms = new Set(details.rooms)
    this.data = (details.data ?? {}) as SocketData
  }

  /** To this socket's own room, on whichever node it is. No acks: they cannot come back here. */
  emit(event: string, ...args: unknown[]): boolean {
    if (typeof args[args.length - 1] === 'function')
      throw new Error('acknowledgements are not supported for a socket of another node')
    return this.nsp.to(this.id).emit(event, ...args)
  }

  join(room: string | string[]): void {
    this.nsp.in(this.id).socketsJoin(room)
  }

  leave(room: string): void {
    this.nsp.in(this.id).socketsLeave(room)
  }

  disconnect(close = false): this {
    this.nsp.in(this.id).disconnectSockets(close)
    return this
  }
}
