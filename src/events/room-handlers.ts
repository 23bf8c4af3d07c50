/**
 * @module Room handlers: join, leave, send, edit, delete and typing for one room kind. The guide's
 * city-chat and private-chat handlers are this module with their own vocabulary and access rule.
 */
import type { PresenceStore } from '../chat/presence.ts'
import { isChatRoom, kindOf, type RoomKind, type RoomRef, topicOf } from '../chat/rooms.ts'
import type { Chat, User } from '../chat/service.ts'
import type { TypingTracker } from '../chat/typing.ts'
import {
  actorView,
  deletedView,
  joinerView,
  messageView,
  messageViewJson,
  mutedView,
} from '../chat/views.ts'
import { fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import { type IOServer, type IOSocket, JsonText } from '../realtime/index.ts'
import { on, onPipelined } from './respond.ts'
import { trackSession } from './session-hooks.ts'

/** A typing state remembers what to announce when it stops. */
export interface TypingNotice {
  kind: RoomKind
  payload: Record<string, unknown>
}

export interface EventDeps {
  io: IOServer
  chat: Chat
  presence: PresenceStore
  typing: TypingTracker<TypingNotice>
  log: Logger
  /** City and private rooms one socket may have joined at once (abuse limit). */
  maxRoomsPerSocket: number
  /** A room's members changed: its online list is pushed (presence-handlers.ts). */
  roomChanged: (topic: string) => void
}

export const userOf = (socket: IOSocket): User => socket.data.user as User

/**
 * Leaves one room: stops typing, forgets presence, tells the others once per user. `closing` is
 * for a disconnecting socket, whose rooms are gone after the first await (the caller checked it
 * was in this one), and whose session the realtime layer saves itself.
 */
export async function leaveRoom(
  socket: IOSocket,
  deps: EventDeps,
  room: RoomRef,
  closing = false
): Promise<void> {
  const topic = topicOf(room)
  if (!closing && !socket.inRoom(topic)) return
  const user = userOf(socket)
  socket.leave(topic)
  if (!closing) trackSession(deps.chat, socket)
  announceStoppedTyping(deps, topic, socket.id)
  if (await deps.presence.leaveRoom(topic, user.id, socket.id)) {
    deps.io.to(topic).emit(kindOf(room).events.userLeft, actorView(room, user))
    deps.roomChanged(topic)
  }
}

/** Chat rooms only: the socket's own room and its user room do not count. */
function joinedRoomCount(socket: IOSocket): number {
  let count = 0
  for (const room of socket.rooms) if (isChatRoom(room)) count++
  return count
}

function announceStoppedTyping(deps: EventDeps, topic: string, socketId: string): void {
  const entry = deps.typing.stop(topic, socketId)
  if (entry) {
    deps.io
      .to(topic)
      .except(socketId)
      .emit(entry.who.kind.events.userStoppedTyping, entry.who.payload)
  }
}

/**
 * Registers the room kind's events, once for every socket (shared handlers keep sockets small).
 * Who may enter is the domain's one rule (`chat.canEnter`).
 * @example registerRoomHandlers(deps, CITY)
 */
export function registerRoomHandlers(deps: EventDeps, kind: RoomKind): void {
  const { io, chat, presence, typing, log } = deps
  const { events, schemas, key } = kind
  const roomOf = (input: Record<string, unknown>): RoomRef => ({
    kind: kind.name,
    id: input[key] as string,
  })

  /** Sending and typing need this socket to have joined the room (contract: "Events the guide leaves open"). */
  const requireJoined = (socket: IOSocket, room: RoomRef): Result<null> =>
    socket.inRoom(topicOf(room))
      ? ok(null)
      : fail('not_member', `join the ${kind.label} '${room.id}' first`)

  on(io, log, events.join, schemas.room, async (socket, input) => {
    const user = userOf(socket)
    const room = roomOf(input)
    const topic = topicOf(room)
    if (!socket.inRoom(topic) && joinedRoomCount(socket) >= deps.maxRoomsPerSocket) {
      return fail('forbidden', `at most ${deps.maxRoomsPerSocket} rooms per connection`, {
        limit: deps.maxRoomsPerSocket,
      })
    }
    const entry = await chat.canEnter(user, room)
    if (!entry.ok) return entry
    // Read before joining, so nothing is awaited between the join and its confirmation's offset.
    const pinnedCount = await chat.pinnedCount(room)
    socket.join(topic)
    trackSession(chat, socket)
    const name = entry.value.name
    const joined = {
      [key]: room.id,
      [kind.nameKey]: name,
      message: `Successfully joined ${name} chat`,
      // A city's slow mode, so the client can count down its send button.
      ...(room.kind === 'city' ? { slowModeSeconds: entry.value.slowModeSeconds } : {}),
      // A muted user learns it on entering, not only when a send is refused.
      ...(entry.value.muted ? { muted: mutedView(entry.value.muted) } : {}),
      // So the client knows whether to show (and load) the pinned bar.
      pinnedCount,
    }
    // With recovery on, the confirmation carries the stream's current offset as its last
    // argument, so a client that drops before any message arrives still resumes from here.
    if (chat.stream.enabled && socket.tracksOffsets) {
      socket.emit(events.joined, joined, String(await chat.stream.head()))
    } else socket.emit(events.joined, joined)
    if (await presence.joinRoom(topic, user.id, socket.id)) {
      socket.to(topic).emit(events.userJoined, joinerView(room, user))
      deps.roomChanged(topic)
    }
    return ok({ [key]: room.id, [kind.nameKey]: name })
  })

  on(io, log, events.leave, schemas.room, async (socket, input) => {
    const room = roomOf(input)
    await leaveRoom(socket, deps, room)
    socket.emit(events.left, { [key]: room.id })
    return ok({ [key]: room.id })
  })

  onPipelined(io, log, events.send, schemas.send, async (socket, input) => {
    const room = roomOf(input)
    const joined = requireJoined(socket, room)
    if (!joined.ok) return joined
    // Resolves after the room (and the sender's other tabs) heard of it: the ack comes after.
    const sent = await chat.sendMessage({
      actor: userOf(socket),
      target: room,
      content: input.content,
      message_type: input.message_type,
      media_url: input.media_url,
      media_id: input.media_id,
      reply_to: input.reply_to,
      clientId: input.clientId,
    })
    if (!sent.ok) return sent
    const { message, duplicate } = sent.value
    announceStoppedTyping(deps, topicOf(room), socket.id)
    // The view's text is the broadcast's: the ack embeds it rather than serializing it again.
    return ok({ message: new JsonText(messageViewJson(message)), duplicate })
  })

  onPipelined(io, log, events.edit, schemas.edit, async (socket, input) => {
    const edited = await chat.editMessage({
      actor: userOf(socket),
      messageId: input.messageId,
      room: roomOf(input),
      content: input.content,
    })
    if (!edited.ok) return edited
    return ok({ message: messageView(edited.value) })
  })

  onPipelined(io, log, events.delete, schemas.delete, async (socket, input) => {
    const deleted = await chat.deleteMessage({
      actor: userOf(socket),
      messageId: input.messageId,
      room: roomOf(input),
    })
    if (!deleted.ok) return deleted
    return ok({ ...deletedView(deleted.value) })
  })

  onPipelined(io, log, events.typing, schemas.room, (socket, input) => {
    const room = roomOf(input)
    const joined = requireJoined(socket, room)
    if (!joined.ok) return joined
    const topic = topicOf(room)
    const payload = actorView(room, userOf(socket))
    if (typing.start({ room: topic, socketId: socket.id, who: { kind, payload } })) {
      socket.to(topic).emit(events.userTyping, payload)
    }
    return ok({})
  })

  onPipelined(io, log, events.stopTyping, schemas.room, (socket, input) => {
    announceStoppedTyping(deps, topicOf(roomOf(input)), socket.id)
    return ok({})
  })
}
