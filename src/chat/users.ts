/** @module Users: profiles — read, look up by id or username, search, update own, deactivate own. */
import type { z } from 'zod'
import { fail, ok, type Result } from '../errors.ts'
import type { Db } from '../store/db.ts'
import { ID_PATTERN } from '../store/ids.ts'
import { revokeUserRefreshTokens } from '../store/refresh-tokens.ts'
import type { UserRow } from '../store/schema.ts'
import * as store from '../store/users.ts'
import type { updateMeBody } from './inputs.ts'
import type { Media } from './media.ts'
import { removePushSubscriptions } from './push.ts'
import type { UserCache } from './user-cache.ts'

export function createUsers({
  db,
  userCache,
  media,
}: {
  db: Db
  userCache?: UserCache
  /** A removed account's uploads go with it. */
  media?: Media
}) {
  /** Active users only: a deactivated account is invisible to others. */
  async function getUser(ref: string): Promise<Result<UserRow>> {
    const user = ID_PATTERN.test(ref)
      ? await store.findUserById(db, ref)
      : await store.findUserByUsername(db, ref.toLowerCase())
    if (!user?.isActive) return fail('not_found', 'no such user')
    return ok(user)
  }

  async function searchUsers(search: string, limit: number): Promise<Result<UserRow[]>> {
    return ok(await store.searchUsers(db, search, limit))
  }

  async function updateProfile(
    actor: UserRow,
    changes: z.output<typeof updateMeBody>
  ): Promise<Result<UserRow>> {
    const user = await store.updateUser(db, actor.id, {
      ...(changes.full_name !== undefined ? { fullName: changes.full_name } : {}),
      ...(changes.profile_photo_url !== undefined
        ? { profilePhotoUrl: changes.profile_photo_url }
        : {}),
      updatedAt: Date.now(),
    })
    userCache?.forget(actor.id)
    return user ? ok(user) : fail('not_found', 'no such user')
  }

  /**
   * Deactivates the caller's account, ends every session it has, removes its uploads and its push
   * subscriptions (with the pushes still pending for them).
   */
  async function deactivateAccount(actor: UserRow): Promise<Result<null>> {
    const now = Date.now()
    await store.updateUser(db, actor.id, { isActive: false, profilePhotoUrl: null, updatedAt: now })
    await media?.forgetOwner(actor.id)
    await removePushSubscriptions(db, actor.id)
    userCache?.forget(actor.id)
    await revokeUserRefreshTokens(db, actor.id, now)
    return ok(null)
  }

  /** Users by id, in no particular order; unknown ids are skipped. */
  async function findUsersByIds(ids: readonly string[]): Promise<UserRow[]> {
    return store.findUsersByIds(db, ids)
  }

  return { getUser, searchUsers, updateProfile, deactivateAccount, findUsersByIds }
}
