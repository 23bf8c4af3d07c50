/**
 * @module Broadcast operator: `to`/`in`/`except` build a target set; `emit` encodes once and
 * hands the bytes to the adapter; `fetchSockets`, `socketsJoin`, `socketsLeave` and
 * `disconnectSockets` act on the matching sockets of every node (this node's here, the others'
 * through the adapter), or of this node only after `local`.
 *
 * Follows socket.io `lib/broadcast-operator.ts`: each chained call returns a new operator;
 * an emit with a trailing callback collects one ack per receiving socket.
 */
import type { Targets } from '../adapters/adapter.ts'
import type { Namespace } from './namespace.ts'
import { type EncodedPacket, type Packet, PacketType, RESERVED_EVENTS } from './parser.ts'
import { type FetchedSocket, RemoteSocket } from './remote-socket.ts'
import { ACK_TIMEOUT_MESSAGE, type IOSocket } from './socket.ts'

const asList = (room: string | string[]) => (Array.isArray(room) ? room : [room])

/** Shared by every operator without rooms or exceptions (one is built per emit). */
const NONE: ReadonlySet<string> = new Set()

/**
 * `S`: what `fetchSockets` resolves to: any node's sockets (`FetchedSocket`: an `IOSocket` here,
 * a `RemoteSocket` elsewhere), or after `local` this node's `IOSocket`s.
 */
export class BroadcastOperator<S extends FetchedSocket = FetchedSocket> {
  constructor(
    private readonly nsp: Namespace,
    private readonly rooms: ReadonlySet<string> = NONE,
    private readonly exceptRooms: ReadonlySet<string> = NONE,
    private readonly sender?: IOSocket,
    private readonly ackTimeout?: number,
    private readonly onlyLocal = false
  ) {}

  private with(
    rooms: ReadonlySet<string>,
    except: ReadonlySet<string>,
    ackTimeout = this.ackTimeout
  ): BroadcastOperator<S> {
    return new BroadcastOperator<S>(
      this.nsp,
      rooms,
      except,
      this.sender,
      ackTimeout,
      this.onlyLocal
    )
  }

  to(room: string | string[]): BroadcastOperator<S> {
    const rooms =
      this.rooms.size === 0 && typeof room === 'string'
        ? new Set([room])
        : new Set([...this.rooms, ...asList(room)])
    return this.with(rooms, this.exceptRooms)
  }

  in(room: string | string[]): BroadcastOperator<S> {
    return this.to(room)
  }

  except(room: string | string[]): BroadcastOperator<S> {
    return this.with(this.rooms, new Set([...this.exceptRooms, ...asList(room)]))
  }

  /** With a trailing callback, it gets `(err, responses[])` once all answered or after `ms`. */
  timeout(ms: number): BroadcastOperator<S> {
    return this.with(this.rooms, this.exceptRooms, ms)
  }

  /**
   * This node only (socket.io's `local` flag): `fetchSockets` then gives `IOSocket`s, and the
   * room operations leave other nodes alone. Emits are local already unless relayed by the adapter.
   */
  get local(): BroadcastOperator<IOSocket> {
    return new BroadcastOperator<IOSocket>(
      this.nsp,
      this.rooms,
      this.exceptRooms,
      this.sender,
      this.ackTimeout,
      true
    )
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

  /** The other nodes, unless `local` or on a single-node adapter. */
  private get remote() {
    return this.onlyLocal ? undefined : this.nsp.adapter.remote
  }

  private get selection(): Targets {
    return { rooms: this.rooms, except: this.exceptRooms }
  }

  /**
   * The matching sockets of every node: this node's as `IOSocket`s, then the others' as
   * `RemoteSocket`s once each node answered; rejects when one does not within the adapter's
   * request timeout, as socket.io does.
   */
  async fetchSockets(): Promise<S[]> {
    const here = this.targets() as FetchedSocket[] as S[]
    const remote = this.remote
    if (!remote) return here
    const there = await remote.fetchSockets(this.selection)
    return [
      ...here,
      ...there.map((details) => new RemoteSocket(this.nsp, details) as FetchedSocket as S),
    ]
  }

  socketsJoin(room: string | string[]): void {
    for (const socket of this.targets()) socket.join(room)
    this.remote?.join(this.selection, asList(room))
  }

  socketsLeave(room: string | string[]): void {
    for (const socket of this.targets()) for (const r of asList(room)) socket.leave(r)
    this.remote?.leave(this.selection, asList(room))
  }

  disconnectSockets(close = false): void {
    for (const socket of this.targets()) socket.disconnect(close)
    this.remote?.disconnect(this.selection, close)
  }
}
