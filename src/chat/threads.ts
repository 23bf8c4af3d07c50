/**
 * @module Threads: a message's replies (`reply_to`), their count and newest time on the parent
 * (kept in step by the write that stores a reply, store/write-batch.ts), the page of a thread,
 * and `*-message-thread-updated`, which the room hears after each reply. Who a reply notifies
 * (the thread's participants) is chat/notifications.ts's.
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Db } from '../store/db.ts'
import type { MessageWithAuthor } from '../store/messages.ts'
import { listReplies, replySeq } from '../store/messages.ts'
import type { UserRow } from '../store/schema.ts'
import type { ThreadState } from '../store/write-batch.ts'
import type { HistoryPage, Messages } from './messages.ts'
import { withReactions } from './reactions.ts'
import type { RoomEvent } from './room-stream.ts'
import { kindOf, roomOfMessage } from './rooms.ts'
import { threadView } from './views.ts'

/**
 * The event a stored reply's parent thread moved with: `*-message-thread-updated` to the room.
 * @example await stream.append(threadUpdated(reply, appended.thread))
 */
export function threadUpdated(reply: MessageWithAuthor, thread: ThreadState): RoomEvent {
  const room = roomOfMessage(reply)
  return {
    room,
    event: kindOf(room).events.threadUpdated,
    args: [threadView(room, reply.replyTo ?? '', thread)],
  }
}

/**
 * @example const page = await threads.listReplies(actor, parentId, { limit: 50 })
 */
export function createThreads({ db, messages }: { db: Db; messages: Messages }) {
  /** One page of a thread, oldest first; cursors are ids of its replies. */
  async function listThreadReplies(
    actor: UserRow,
    parentId: string,
    { before, after, limit }: HistoryPage
  ): Promise<Result<{ messages: MessageWithAuthor[]; hasMore: boolean }>> {
    // The parent says whether the actor may read the thread (its room, shadowing).
    const parent = await messages.findVisibleMessage(actor, parentId)
    if (!parent.ok) return parent
    const cursor = async (id: string | undefined) =>
      id === undefined ? undefined : ((await replySeq(db, parentId, id)) ?? null)
    const [beforeSeq, afterSeq] = await Promise.all([cursor(before), cursor(after)])
    if (beforeSeq === null || afterSeq === null) {
      return fail(
        'invalid_input',
        `${beforeSeq === null ? 'before' : 'after'} is not a reply in this thread`
      )
    }
    const page = await listReplies(db, parentId, {
      beforeSeq,
      afterSeq,
      limit,
      viewerId: actor.id,
    })
    return ok({ ...page, messages: await withReactions(db, page.messages, actor.id) })
  }

  return { listThreadReplies }
}
