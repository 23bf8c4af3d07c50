/**
 * @module Recovery: exact missed-message recovery over the database. Every replayable broadcast
 * has an offset from one order: a new message's `messages.seq` (given out in the commit that
 * stores it, so an acknowledged message is always replayable), or the id of the `room_events` row
 * an edit or delete is logged as before it goes out. A resume replays the messages and log rows
 * of the session's rooms after the client's offset, in offset order.
 *
 * Bounds: a session resumes only within `windowMs` of its drop, and only when at most
 * `maxReplay` events were missed; otherwise the client reconnects fresh (`recovered === false`)
 * and reloads history over REST (`?after=`). Log rows older than twice the window are pruned.
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import type { GroupWriter, LogRow } from '../store/group-commit.ts'
import {
  listMessagesBetween,
  listRoomMessagesAfter,
  type MessageWithAuthor,
  type Room,
} from '../store/messages.ts'
import {
  latestOffset,
  listRoomEventsAfter,
  listRoomEventsBetween,
  newestRoomEvent,
  pruneRecovery,
  saveSocketSession,
  takeSocketSession,
} from '../store/recovery.ts'
import type { LoggedBroadcast, RoomBroadcast } from './chat-events.ts'

export interface RecoveryOptions {
  db: Db
  /** Appends are group-committed with the messages they announce (store/group-commit.ts). */
  writer: GroupWriter
  log: Logger
  /** How long a dropped session may be resumed; 0 turns recovery off. */
  windowMs: number
  /** Most events one resume replays. */
  maxReplay: number
  /** A new message's broadcast: built for its publish, and again from the message on replay. */
  newMessageBroadcast(message: MessageWithAuthor): RoomBroadcast
  /** The stored room behind a broadcast room (null for rooms that hold no messages). */
  storedRoom(room: string): Room | null
  now?: () => number
}

export interface ResumeInput {
  pid: string
  offset: string
  userId: string
  /** Which of the saved rooms the user may still enter (membership is re-checked on resume). */
  allowed(rooms: string[]): Promise<string[]>
}

export interface Resumed {
  socketId: string
  rooms: string[]
  /** `[event, ...args, offset]` for each missed broadcast, oldest first. */
  missed: unknown[][]
}

const OFFSET = /^\d{1,15}$/

/**
 * A logged packet's JSON `[event, ...args]` with its offset appended as the last argument, a
 * string on the wire (socket.io-client keeps it as `_lastOffset`).
 */
export function withOffset(packet: string, offset: number): string {
  return `${packet.slice(0, -1)},"${offset}"]`
}

/**
 * @example
 * const roomLog = createRoomLog({ db, log, windowMs: 120_000, maxReplay: 1_000 })
 * await roomLog.record({ room: 'city:mumbai', packet: ['city-message-edited', view] }, (logged) =>
 *   io.to('city:mumbai').emitJson(withOffset(logged.packet, logged.offset)))
 */
export function createRoomLog({
  db,
  writer,
  log,
  windowMs,
  maxReplay,
  newMessageBroadcast,
  storedRoom,
  now = Date.now,
}: RecoveryOptions) {
  const enabled = windowMs > 0
  /** The newest record's settling; the writer settles in call order, so it settles last. */
  let chain: Promise<void> = Promise.resolve()
  /** The newest offset published from this node (what a joining socket starts from). */
  let head = 0
  /**
   * The newest log id seen at each prune tick. Rows up to a mark older than twice the window were
   * committed before it, so they go; ids, not times, so the log needs no index on created_at.
   */
  const marks: Array<{ at: number; id: number }> = []
  const ready = enabled
    ? Promise.all([latestOffset(db), newestRoomEvent(db)]).then(([id, newest]) => {
        head = Math.max(head, id)
        // After a restart the log is as old as its rows, not as this process: the first mark.
        if (newest) marks.push({ at: newest.createdAt, id: newest.id })
      })
    : Promise.resolve()
  const prune = async () => {
    await ready
    const at = now()
    const cutoff = at - 2 * windowMs
    marks.push({ at, id: await latestOffset(db) })
    while (marks.length > 1 && (marks[1] as { at: number }).at <= cutoff) marks.shift()
    const oldest = marks[0] as { at: number; id: number }
    await pruneRecovery(db, oldest.at <= cutoff ? oldest.id : 0, at)
  }
  const pruner = enabled
    ? setInterval(
        () => prune().catch((error) => log.error('pruning the room event log failed', { error })),
        Math.max(1_000, windowMs / 2)
      )
    : undefined
  pruner?.unref?.()

  /**
   * Logs one broadcast, then publishes it with its offset. Never rejects: when the log write
   * fails the broadcast still goes out, without an offset (live clients lose nothing).
   * Appends are queued to the group writer at once (not one after another), which assigns ids in
   * call order and settles them in that order after their COMMIT, so publish order is offset order.
   */
  function record(
    broadcast: RoomBroadcast,
    publish: (logged: LoggedBroadcast | undefined) => void
  ): Promise<void> {
    if (!enabled) {
      publish(undefined)
      return Promise.resolve()
    }
    const logRow = row(broadcast)
    const run = writer.appendRoomEvent(logRow).then(
      (id) => publish({ offset: published(id), packet: logRow.packet }),
      (error: unknown) => {
        log.error('room event log append failed', { room: broadcast.room, error })
        publish(undefined)
      }
    )
    chain = run.catch(() => {})
    return chain
  }

  /** A new message's offset (its seq, store/group-commit.ts) goes out now: the head moves to it. */
  function published(offset: number): number {
    head = Math.max(head, offset)
    return offset
  }

  /** The row a broadcast is logged as. */
  function row({ room, packet }: RoomBroadcast): LogRow {
    return { room, packet: JSON.stringify(packet), createdAt: now() }
  }

  /** A new message's broadcast as JSON, built once for its publish. */
  function newMessagePacket(message: MessageWithAuthor): string {
    return JSON.stringify(newMessageBroadcast(message).packet)
  }

  /** Keeps a dropped socket's chat rooms for the window. */
  async function saveSession(session: {
    pid: string
    socketId: string
    userId: string
    rooms: string[]
  }): Promise<void> {
    if (!enabled) return
    await saveSocketSession(db, {
      pid: session.pid,
      socketId: session.socketId,
      userId: session.userId,
      rooms: JSON.stringify(session.rooms),
      expiresAt: now() + windowMs,
    })
  }

  /** The session for `pid` with everything its rooms missed after `offset`; refusals say why. */
  async function resume(input: ResumeInput): Promise<Result<Resumed>> {
    if (!enabled) return fail('not_found', 'recovery is off')
    if (!OFFSET.test(input.offset)) return fail('invalid_input', 'offset is not ours')
    const session = await takeSocketSession(db, input.pid)
    if (!session || session.expiresAt < now()) return fail('not_found', 'no such session')
    if (session.userId !== input.userId) return fail('forbidden', 'session of another user')
    const saved = JSON.parse(session.rooms) as string[]
    const rooms = await input.allowed(saved)
    await ready
    const after = Number(input.offset)
    const tooMany = fail('payload_too_large', 'too many missed events')
    const events = await listRoomEventsAfter(db, rooms, after, maxReplay + 1)
    // Every missed row is replayed, so at most maxReplay are read in all, room after room.
    let budget = maxReplay - events.length
    if (budget < 0) return tooMany
    const messages: (MessageWithAuthor & { seq: number })[] = []
    for (const room of rooms) {
      const stored = storedRoom(room)
      if (!stored) continue
      const found = await listRoomMessagesAfter(db, stored, after, budget + 1)
      if (found.length > budget) return tooMany
      budget -= found.length
      messages.push(...found)
    }
    const missed = inOffsetOrder(events, messages).map((event) => JSON.parse(event.json))
    return ok({ socketId: session.socketId, rooms, missed })
  }

  /**
   * Log rows and messages as the broadcasts they went out as, `[event, ...args, offset]` JSON,
   * merged in offset order. A new message is built as it is now (edited, deleted: the later log
   * rows say so too).
   */
  function inOffsetOrder(
    events: { id: number; room: string; packet: string }[],
    messages: (MessageWithAuthor & { seq: number })[]
  ): { offset: number; room: string; json: string }[] {
    return [
      ...events.map((event) => ({
        offset: event.id,
        room: event.room,
        json: withOffset(event.packet, event.id),
      })),
      ...messages.map((message) => {
        const { room, packet } = newMessageBroadcast(message)
        return { offset: message.seq, room, json: JSON.stringify([...packet, String(message.seq)]) }
      }),
    ].sort((a, b) => a.offset - b.offset)
  }

  /** Every broadcast with `after < offset < before`, of every room (adapters/ordered.ts). */
  async function between(after: number, before: number) {
    const [events, messages] = await Promise.all([
      listRoomEventsBetween(db, after, before),
      listMessagesBetween(db, after, before),
    ])
    return inOffsetOrder(events, messages)
  }

  return {
    enabled,
    record,
    newMessagePacket,
    published,
    saveSession,
    resume,
    /** The broadcasts a node has not heard, read back so it delivers in offset order. */
    offsets: { newest: () => latestOffset(db), between },
    /** The offset a socket that joins a room now has seen everything up to. */
    async head(): Promise<string> {
      await ready
      return String(head)
    },
    /** Resolves once every broadcast recorded so far has been written and published. */
    settled: () => chain,
    close() {
      clearInterval(pruner)
    },
  }
}

export type RoomLog = ReturnType<typeof createRoomLog>
