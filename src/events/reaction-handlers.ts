/**
 * @module Reaction events: `react-message` and `unreact-message` `{ messageId, emoji, cityId |
 * chatId }`, for both room kinds. The domain (chat/reactions.ts) decides and broadcasts; the ack
 * answers `{ ok: true, messageId, emoji, action, count, changed }`.
 */
import { reactionPayload } from '../chat/inputs.ts'
import { roomOfPayload } from '../chat/rooms.ts'
import { ok } from '../errors.ts'
import { onPipelined } from './respond.ts'
import { type EventDeps, userOf } from './room-handlers.ts'

/** Once per server: the handlers are shared by every socket. */
export function registerReactions({ io, chat, log }: EventDeps): void {
  for (const [event, action] of [
    ['react-message', chat.react],
    ['unreact-message', chat.unreact],
  ] as const) {
    onPipelined(io, log, event, reactionPayload, async (socket, input) => {
      const done = await action({
        actor: userOf(socket),
        messageId: input.messageId,
        emoji: input.emoji,
        room: roomOfPayload(input),
      })
      return done.ok ? ok({ ...done.value }) : done
    })
  }
}
