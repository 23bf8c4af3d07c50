/**
 * @module Reactions: add and remove a user's emoji on a message (one of each per user, at most
 * `MAX_EMOJIS` distinct on a message, through the message rate limit), broadcast through the room
 * stream as `*-message-reaction` with the emoji's count after it, and the `reactions` a page of
 * messages carries (one query per page). A shadow-restricted user's reactions are seen by that
 * user only: stored with `shadowed`, left out of everyone else's counts, announced to them alone.
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Db } from '../store/db.ts'
import type { MessageWithAuthor } from '../store/messages.ts'
import * as store from '../store/reactions.ts'
import type { UserRow } from '../store/schema.ts'
import type { Messages } from './messages.ts'
import type { Moderation } from './moderation.ts'
import type { Notifier } from './notifications.ts'
import type { RateLimiter } from './rate-limit.ts'
import type { RoomAccess } from './room-access.ts'
import type { RoomStream } from './room-stream.ts'
import { isInRoom, kindOf, type RoomRef, roomOfMessage } from './rooms.ts'
import { reactionView } from './views.ts'

/** Distinct emojis one message may carry. */
const MAX_EMOJIS = 50
/** User ids each reaction lists (the first to react); `count` says how many there are. */
const USERS_PER_EMOJI = 10

export interface ReactionInput {
  actor: UserRow
  messageId: string
  /** Already an emoji (chat/emoji.ts `emojiOf`). */
  emoji: string
  /** When the caller names the room (socket payloads do), the message must be in it. */
  room?: RoomRef | undefined
}

/** What a reaction request did: `changed` false when it was already so (nothing announced). */
export interface ReactionChange {
  messageId: string
  emoji: string
  action: 'add' | 'remove'
  count: number
  changed: boolean
}

/**
 * The messages with their reactions as `viewerId` sees them, read in one query.
 * @example const page = await withReactions(db, messages, actor.id)
 */
export async function withReactions(
  db: Db,
  messages: MessageWithAuthor[],
  viewerId: string
): Promise<MessageWithAuthor[]> {
  const live = messages.filter((message) => !message.isDeleted).map((message) => message.id)
  if (live.length === 0) return messages
  const found = await store.reactionsOfMessages(db, live, viewerId, USERS_PER_EMOJI)
  if (found.size === 0) return messages
  return messages.map((message) => {
    const reactions = found.get(message.id)
    return reactions ? { ...message, reactions } : message
  })
}

interface Deps {
  db: Db
  access: RoomAccess
  stream: RoomStream
  messages: Messages
  /** The message rate: a reaction spends a token like a message. */
  sendLimiter: RateLimiter
  moderation: Moderation
  /** Hands each reaction the whole room heard to the webhooks (`reaction.added` / `.removed`). */
  notifier: Notifier
  now?: () => number
}

/**
 * @example
 * const reactions = createReactions({ db, access, stream, messages, sendLimiter, moderation, notifier })
 * await reactions.react({ actor, messageId, emoji: '👍' }) // ok → { count: 1, changed: true, … }
 */
export function createReactions({
  db,
  access,
  stream,
  messages,
  sendLimiter,
  moderation,
  notifier,
  now = Date.now,
}: Deps) {
  /**
   * Changes of one message, one after another on this node, so the counts its room hears never
   * go back (each count is read after its own change and announced before the next change).
   */
  const queues = new Map<string, Promise<unknown>>()
  function inTurn<T>(messageId: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(messageId) ?? Promise.resolve()
    const next = previous.then(work, work)
    const settled = next.catch(() => {})
    queues.set(messageId, settled)
    void settled.then(() => {
      if (queues.get(messageId) === settled) queues.delete(messageId)
    })
    return next
  }

  /** The message, if the actor may react to it now (reading it, writing in its room). */
  async function target(input: ReactionInput): Promise<Result<MessageWithAuthor>> {
    const found = await messages.findVisibleMessage(input.actor, input.messageId)
    if (!found.ok || (input.room && !isInRoom(found.value, input.room)))
      return fail('not_found', 'no such message')
    if (found.value.isDeleted) return fail('not_found', 'this message was deleted')
    const entry = await access.canEnter(input.actor, roomOfMessage(found.value), 'write')
    if (!entry.ok) return entry
    return ok(found.value)
  }

  async function change(input: ReactionInput, action: 'add' | 'remove') {
    const found = await target(input)
    if (!found.ok) return found
    const message = found.value
    const { actor, emoji } = input
    const allowed = sendLimiter.take(actor.id)
    if (!allowed.ok) return allowed
    const room = roomOfMessage(message)
    // Seen only by the reacting user: a shadowed user's reaction, or one on a shadowed message.
    const hidden = message.cityId !== null && moderation.isShadowed(message.cityId, actor.id)
    const audience = hidden || message.shadowed ? actor.id : undefined
    return inTurn(message.id, async (): Promise<Result<ReactionChange>> => {
      const done =
        action === 'add'
          ? await store.addReaction(
              db,
              {
                messageId: message.id,
                emoji,
                userId: actor.id,
                shadowed: hidden,
                createdAt: now(),
              },
              MAX_EMOJIS
            )
          : (await store.removeReaction(db, message.id, emoji, actor.id))
            ? 'removed'
            : 'absent'
      if (done === 'full') {
        sendLimiter.refund(actor.id)
        return fail('conflict', `a message has at most ${MAX_EMOJIS} different reactions`, {
          limit: MAX_EMOJIS,
        })
      }
      const count = await store.countReaction(db, message.id, emoji, audience)
      const changed = done === 'added' || done === 'removed'
      if (!changed) sendLimiter.refund(actor.id)
      else {
        const view = reactionView({
          room,
          messageId: message.id,
          emoji,
          userId: actor.id,
          action,
          count,
        })
        await stream.append({ room, event: kindOf(room).events.reaction, args: [view], audience })
        // One only its shadowed author heard is nobody else's business, a receiver's neither
        // (the notifier reads it from the log and skips it).
        if (audience === undefined) notifier.eventLogged()
      }
      return ok({ messageId: message.id, emoji, action, count, changed })
    })
  }

  return {
    /** Adds the actor's emoji; resolves once the room heard of it. Adding it again changes nothing. */
    react: (input: ReactionInput) => change(input, 'add'),
    /** Removes it; removing one the actor does not have changes nothing. */
    unreact: (input: ReactionInput) => change(input, 'remove'),
  }
}
