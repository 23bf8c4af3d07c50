/**
 * @module Broadcast operator: `to`/`in`/`except` build a target set; `emit` encodes once and
 * hands the bytes to the adapter.
 *
 * Follows socket.io `lib/broadcast-operator.ts`: each chained call returns a new operator;
 * an emit with a trailing callback collects one ack per receiving socket.
 */
import type { Namespace } from './namespace.ts'
import { type EncodedPacket, type Packet, PacketType, RESERVED_EVENTS } from './parser.ts'
import { ACK_TIMEOUT_MESSAGE, type IOSocket } from './socket.ts'

const asList = (room: string | string[]) => (Array.isArray(room) ? room : [room])

/** Shared by every operator without rooms or exceptions (one is built per emit). */
const NONE: ReadonlySet<string> = new Set()

export class BroadcastOperator {
  constructor(
    private readonly nsp: Namespace,
    private readonly rooms: ReadonlySet<string> = NONE,
    private readonly exceptRooms: ReadonlySet<string> = NONE,
    private readonly sender?: IOSocket,
    private readonly ackTimeout?: number
  ) {}

  to(room: string | string[]): BroadcastOperator {
    const rooms =
      this.rooms.size === 0 && typeof room === 'string'
        ? new Set([room])
        : new Set([...this.rooms, ...asList(room)])
    return new BroadcastOperator(this.nsp, rooms, this.exceptRooms, this.sender, this.ackTimeout)
  }

  in(room: string | string[]): BroadcastOperator {
    return this.to(room)
  }

  except(room: string | string[]): BroadcastOperator {
    const except = new Set([...this.exceptRooms, ...asList(room)])
    return new BroadcastOperator(this.nsp, this.rooms, except, this.sender, this.ackTimeout)
  }

  /** With a trailing callback, it gets `(err, responses[])` once all answered or after `ms`. */
  timeout(ms: number): BroadcastOperator {
    return new BroadcastOperator(this.nsp, this.rooms, this.exceptRooms, this.sender, ms)
  }

  emit(event: string, ...args: unknown[]): boolean {
    if (RESERVED_EVENTS.has(event)) throw new Error(`"${event}" is a reserved event name`)
    const packet: Packet = { type: PacketType.EVENT, nsp: this.nsp.name, data: [event, ...args] }
    const last = args[args.length - 1]
    if (typeof last === 'function') {
      ;(packet.data as unknown[]).pop()
      packet.id = this.nsp.nextAckId()
      this.expectAcks(packet.id, last as (err: Error | null, responses: unknown[]) => void)
    }
    this.publish(this.nsp.codec.encode(packet))
    return true
  }

  /**
   * Broadcasts an event whose `[event, ...args]` array the caller already holds as JSON text
   * (a replay log keeps it so): published as it is, neither encoded again nor scanned for
   * binary. No ack. `offset`: its place in the order every node shares (adapters/adapter.ts),
   * appended as its last argument for connection state recovery (io/recovery.ts).
   * An addition to the socket.io API.
   * @example io.to('room').emitJson('["news",{"id":1}]', 42) // 42["news",{"id":1},"42"]
   */
  emitJson(json: string, offset?: number): boolean {
    this.publish(this.nsp.codec.encodeJson(this.nsp.name, json, offset), offset)
    return true
  }

  private publish(packet: EncodedPacket, offset?: number): void {
    this.nsp.adapter.broadcast(packet, {
      rooms: this.rooms,
      except: this.exceptRooms,
      sender: this.sender,
      offset,
    })
  }

  emitWithAck(event: string, ...args: unknown[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.emit(event, ...args, (err: Error | null, responses: unknown[]) =>
        err ? reject(err) : resolve(responses)
      )
    })
  }

  private expectAcks(id: number, done: (err: Error | null, responses: unknown[]) => void): void {
    const targets = this.targets()
    const responses: unknown[] = []
    let finished = false
    const finish = (err: Error | null) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      done(err, responses)
    }
    const timer =
      this.ackTimeout === undefined
        ? undefined
        : setTimeout(() => finish(new Error(ACK_TIMEOUT_MESSAGE)), this.ackTimeout)
    for (const socket of targets) {
      socket.registerAck(id, (response) => {
        responses.push(response)
        if (responses.length === targets.length) finish(null)
      })
    }
    if (targets.length === 0) finish(null)
  }

  private targets(): IOSocket[] {
    const out: IOSocket[] = []
    for (const id of this.nsp.adapter.sockets(this.rooms, this.exceptRooms)) {
      const socket = this.nsp.sockets.get(id)
      if (socket && socket !== this.sender) out.push(socket)
    }
    return out
  }

  /** The matching sockets of this node. */
  fetchSockets(): Promise<IOSocket[]> {
    return Promise.resolve(this.targets())
  }

  socketsJoin(room: string | string[]): void {
    for (const socket of this.targets()) socket.join(room)
  }

  socketsLeave(room: string | string[]): void {
    for (const socket of this.targets()) for (const r of asList(room)) socket.leave(r)
  }

  /** The matching sockets of every node (with a cross-node adapter), as socket.io does. */
  disconnectSockets(close = false): void {
    for (const socket of this.targets()) socket.disconnect(close)
    this.nsp.adapter.disconnectRemote?.(this.rooms, this.exceptRooms, close)
  }
}
