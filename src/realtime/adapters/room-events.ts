/**
 * @module socket.io-adapter's room events on any adapter: `create-room`, `join-room`,
 * `leave-room` and `delete-room` (each `(room, id?)`), as `nsp.adapter.on(...)` hears them.
 *
 * One wrapper for every adapter, so the adapters stay free of it. Until a listener is added it
 * only forwards: no room is looked up, nothing is allocated (the join/leave hot path).
 */
import type { Logger } from '../../log.ts'
import { Emitter } from '../io/emitter.ts'
import type { Adapter, BroadcastOptions, RemoteOperations, RoomMember } from './adapter.ts'

export type RoomEvent = 'create-room' | 'join-room' | 'leave-room' | 'delete-room'

/** An adapter that also tells listeners which rooms were created, joined, left and deleted. */
export class RoomEventsAdapter extends Emitter implements Adapter {
  readonly remote?: RemoteOperations
  readonly deliveredOffset?: () => number | undefined

  constructor(
    private readonly inner: Adapter,
    logger: Logger
  ) {
    super(logger)
    if (inner.remote) this.remote = inner.remote
    if (inner.deliveredOffset) this.deliveredOffset = () => inner.deliveredOffset?.()
  }

  override on(event: RoomEvent, listener: (room: string, id: string) => unknown): this {
    return super.on(event, listener)
  }

  get rooms(): ReadonlyMap<string, ReadonlySet<string>> {
    return this.inner.rooms
  }

  /** True when `room` has a member here (a socket's own-id room is implied by its rooms). */
  private exists(room: string): boolean {
    return this.inner.rooms.has(room) || this.inner.socketRooms(room)?.includes(room) === true
  }

  addAll(member: RoomMember, rooms: Iterable<string>): void {
    if (!this.listening) return this.inner.addAll(member, rooms)
    const wanted = [...rooms]
    const had = new Set(this.inner.socketRooms(member.id))
    const existed = wanted.map((room) => this.exists(room))
    this.inner.addAll(member, wanted)
    const now = this.inner.socketRooms(member.id)
    wanted.forEach((room, i) => {
      if (had.has(room) || !now?.includes(room)) return
      had.add(room)
      if (!existed[i]) this.emitLocal('create-room', [room])
      this.emitLocal('join-room', [room, member.id])
    })
  }

  del(member: RoomMember, room: string): void {
    if (!this.listening) return this.inner.del(member, room)
    const had = this.inner.socketRooms(member.id)?.includes(room) === true
    this.inner.del(member, room)
    if (had) this.left(member.id, room)
  }

  delAll(member: RoomMember): void {
    if (!this.listening) return this.inner.delAll(member)
    const had = [...(this.inner.socketRooms(member.id) ?? [])]
    this.inner.delAll(member)
    for (const room of had) this.left(member.id, room)
  }

  private left(id: string, room: string): void {
    this.emitLocal('leave-room', [room, id])
    if (!this.exists(room)) this.emitLocal('delete-room', [room])
  }

  onSubscribed(member: RoomMember): void {
    this.inner.onSubscribed(member)
  }
  broadcast(packet: Parameters<Adapter['broadcast']>[0], opts: BroadcastOptions): void {
    this.inner.broadcast(packet, opts)
  }
  sockets(rooms: ReadonlySet<string>, except?: ReadonlySet<string>): Set<string> {
    return this.inner.sockets(rooms, except)
  }
  socketRooms(id: string): readonly string[] | undefined {
    return this.inner.socketRooms(id)
  }
  close(): void | Promise<void> {
    return this.inner.close()
  }
}
