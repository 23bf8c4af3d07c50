/**
 * @module Room handlers: join, leave, send, edit, delete and typing for one room kind. The guide's
 * city-chat and private-chat handlers are this module with their own vocabulary and access rule.
 */
import type { ChatEvents } from '../chat/chat-events.ts'
import type { PresenceStore } from '../chat/presence.ts'
import type { Chat, User } from '../chat/service.ts'
import type { TypingTracker } from '../chat/typing.ts'
import { deletedView, messageView } from '../chat/views.ts'
import { fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { IOServer, IOSocket } from '../realtime/index.ts'
import { on } from './respond.ts'
import { actorIn, isChatRoom, joinerIn, type RoomKind } from './rooms.ts'

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
  broadcasts: ChatEvents
  log: Logger
  /** City and private rooms one socket may have joined at once (abuse limit). */
  maxRoomsPerSocket: number
}

/** May this user enter the room? Answers the room's display name. */
export type RoomAccess = (actor: User, id: string) => Promise<Result<{ name: string }>>

export const userOf = (socket: IOSocket): User => socket.data.user as User

/**
 * Leaves one room: stops typing, forgets presence, tells the others once per user. `wasIn` is
 * for a disconnecting socket, whose rooms are gone after the first await: the caller checked.
 */
export async function leaveRoom(
  socket: IOSocket,
  deps: EventDeps,
  kind: RoomKind,
  id: string,
  wasIn = socket.inRoom(kind.topic(id))
): Promise<void> {
  const topic = kind.topic(id)
  if (!wasIn) return
  const user = userOf(socket)
  socket.leave(topic)
  announceStoppedTyping(deps, topic, socket.id)
  if (await deps.presence.leaveRoom(topic, user.id, socket.id)) {
    deps.io.to(topic).emit(kind.events.userLeft, actorIn(kind, id, user))
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
 * @example registerRoomHandlers(deps, CITY, (actor, id) => cityAccess(id))
 */
export function registerRoomHandlers(deps: EventDeps, kind: RoomKind, access: RoomAccess): void {
  const { io, chat, presence, typing, broadcasts, log } = deps
  const { events, schemas, key } = kind
  const idOf = (input: Record<string, unknown>) => input[key] as string

  /** Sending and typing need this socket to have joined the room (contract: "Events the guide leaves open"). */
  const requireJoined = (socket: IOSocket, id: string): Result<null> =>
    socket.inRoom(kind.topic(id))
      ? ok(null)
      : fail('not_member', `join the ${kind.label} '${id}' first`)

  on(io, log, events.join, schemas.room, async (socket, input) => {
    const user = userOf(socket)
    const id = idOf(input)
    const topic = kind.topic(id)
    if (!socket.inRoom(topic) && joinedRoomCount(socket) >= deps.maxRoomsPerSocket) {
      return fail('forbidden', `at most ${deps.maxRoomsPerSocket} rooms per connection`, {
        limit: deps.maxRoomsPerSocket,
      })
    }
    const allowed = await access(user, id)
    if (!allowed.ok) return allowed
    socket.join(topic)
    const name = allowed.value.name
    const joined = { [key]: id, [kind.nameKey]: name, message: `Successfully joined ${name} chat` }
    // With recovery on, the confirmation carries the log's current offset as its last argument,
    // so a client that drops before any message arrives still resumes from here.
    if (chat.roomLog.enabled) socket.emit(events.joined, joined, await chat.roomLog.head())
    else socket.emit(events.joined, joined)
    if (await presence.joinRoom(topic, user.id, socket.id)) {
      socket.to(topic).emit(events.userJoined, joinerIn(kind, id, user))
    }
    return ok({ [key]: id, [kind.nameKey]: name })
  })

  on(io, log, events.leave, schemas.room, async (socket, input) => {
    const id = idOf(input)
    await leaveRoom(socket, deps, kind, id)
    socket.emit(events.left, { [key]: id })
    return ok({ [key]: id })
  })

  on(io, log, events.send, schemas.send, async (socket, input) => {
    const id = idOf(input)
    const joined = requireJoined(socket, id)
    if (!joined.ok) return joined
    const sent = await chat.sendMessage({
      actor: userOf(socket),
      target: kind.room(id),
      content: input.content,
      message_type: input.message_type,
      media_url: input.media_url,
      reply_to: input.reply_to,
      clientId: input.clientId,
      // The room (and the sender's other tabs) hear of it before the sender's ack.
      announce: broadcasts.messageCreated,
    })
    if (!sent.ok) return sent
    const { message, duplicate } = sent.value
    announceStoppedTyping(deps, kind.topic(id), socket.id)
    return ok({ message: messageView(message), duplicate })
  })

  on(io, log, events.edit, schemas.edit, async (socket, input) => {
    const edited = await chat.editMessage({
      actor: userOf(socket),
      messageId: input.messageId,
      room: kind.room(idOf(input)),
      content: input.content,
    })
    if (!edited.ok) return edited
    await broadcasts.messageEdited(edited.value)
    return ok({ message: messageView(edited.value) })
  })

  on(io, log, events.delete, schemas.delete, async (socket, input) => {
    const deleted = await chat.deleteMessage({
      actor: userOf(socket),
      messageId: input.messageId,
      room: kind.room(idOf(input)),
    })
    if (!deleted.ok) return deleted
    await broadcasts.messageDeleted(deleted.value)
    return ok({ ...deletedView(deleted.value) })
  })

  on(io, log, events.typing, schemas.room, (socket, input) => {
    const id = idOf(input)
    const joined = requireJoined(socket, id)
    if (!joined.ok) return joined
    const topic = kind.topic(id)
    const payload = actorIn(kind, id, userOf(socket))
    if (typing.start({ room: topic, socketId: socket.id, who: { kind, payload } })) {
      socket.to(topic).emit(events.userTyping, payload)
    }
    return ok({})
  })

  on(io, log, events.stopTyping, schemas.room, (socket, input) => {
    announceStoppedTyping(deps, kind.topic(idOf(input)), socket.id)
    return ok({})
  })
}
