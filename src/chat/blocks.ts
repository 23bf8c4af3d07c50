/**
 * @module Blocks between users: a user blocks another, who then cannot start a private chat with
 * them nor add them to one (chat/chats.ts); the web client also hides the blocked user's city
 * messages. Only the blocker ever sees the list.
 */
import { fail, ok, type Result } from '../errors.ts'
import * as store from '../store/blocks.ts'
import type { Db } from '../store/db.ts'
import type { UserRow } from '../store/schema.ts'
import { findUserById } from '../store/users.ts'

export function createBlocks({ db }: { db: Db }) {
  async function block(actor: UserRow, userId: string, on: boolean): Promise<Result<null>> {
    if (userId === actor.id) return fail('invalid_input', 'you cannot block yourself')
    if (on) {
      const user = await findUserById(db, userId)
      if (!user?.isActive) return fail('not_found', 'no such user')
      await store.putBlock(db, actor.id, userId, Date.now())
    } else {
      await store.deleteBlock(db, actor.id, userId)
    }
    return ok(null)
  }

  async function listBlocks(actor: UserRow): Promise<Result<Array<{ user: UserRow; at: number }>>> {
    const rows = await store.listBlocked(db, actor.id)
    const users = new Map(
      (await Promise.all(rows.map((row) => findUserById(db, row.userId)))).flatMap((user) =>
        user ? [[user.id, user] as const] : []
      )
    )
    return ok(
      rows.flatMap((row) => {
        const user = users.get(row.userId)
        return user ? [{ user, at: row.createdAt }] : []
      })
    )
  }

  return { block, listBlocks }
}
