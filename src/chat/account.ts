/**
 * @module Account: email verification (and resending it), email change (re-verified, the old
 * address told), forgotten password and reset, password change. Each password or reset change
 * ends sessions; the caller closes their sockets with the ids returned.
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Db } from '../store/db.ts'
import { revokeUserRefreshTokens } from '../store/refresh-tokens.ts'
import type { UserRow } from '../store/schema.ts'
import { deleteUserSessions } from '../store/sessions.ts'
import { findUserByEmail, findUserById, updateUser } from '../store/users.ts'
import type { AccountMail } from './account-mail.ts'
import type { Passwords } from './credentials.ts'
import { type RateLimitOptions, type SharedRateLimits, sharedOrLocal } from './rate-limit.ts'
import type { UserCache } from './user-cache.ts'

export interface AccountOptions {
  db: Db
  mail: AccountMail
  passwords: Passwords
  userCache: UserCache
  /** Reset mails per address (account) and requests per client address, per window. */
  resetLimits: { perAccount: number; perAddress: number; windowMs: number }
  shared?: SharedRateLimits | undefined
}

/** Sessions a change ended: their sockets are closed (events layer). */
export interface EndedSessions {
  userId: string
  sessionIds: string[]
}

const BAD_LINK = 'this link is invalid, used or expired'

export function createAccount({
  db,
  mail,
  passwords,
  userCache,
  resetLimits,
  shared,
}: AccountOptions) {
  const limiter = (name: string, perWindow: number) => {
    const options: RateLimitOptions = {
      burst: perWindow,
      refill: perWindow,
      perMs: resetLimits.windowMs,
      message: 'too many requests; wait and try again',
    }
    return sharedOrLocal(shared?.(name, options), options)
  }
  const resetsPerAccount = limiter('reset-account', resetLimits.perAccount)
  const resetsPerAddress = limiter('reset-address', resetLimits.perAddress)

  const save = async (
    userId: string,
    changes: Parameters<typeof updateUser>[2]
  ): Promise<UserRow | undefined> => {
    const user = await updateUser(db, userId, changes)
    userCache.forget(userId)
    return user
  }

  /** The user cache drops password hashes (chat/user-cache.ts): check against the stored one. */
  const passwordMatches = async (actor: UserRow, password: string): Promise<boolean> =>
    passwords.verify(password, (await findUserById(db, actor.id))?.passwordHash)

  /** Ends every session of the user but `keep`; returns the ended ones. */
  async function endSessions(userId: string, keep?: string): Promise<EndedSessions> {
    await revokeUserRefreshTokens(db, userId, Date.now(), keep)
    return { userId, sessionIds: await deleteUserSessions(db, userId, keep) }
  }

  /**
   * A verification link: marks the address verified. A link for another address (an email
   * change) makes it the account's, and the old address is told.
   */
  async function verifyEmail(token: string): Promise<Result<UserRow>> {
    const row = await mail.claim(token, 'verify')
    const user = row && (await findUserById(db, row.userId))
    if (!row || !user?.isActive) return fail('invalid_input', BAD_LINK)
    const now = Date.now()
    if (row.email === user.email) {
      const saved = await save(user.id, { emailVerifiedAt: now, updatedAt: now })
      return saved ? ok(saved) : fail('invalid_input', BAD_LINK)
    }
    if (await findUserByEmail(db, row.email))
      return fail('conflict', 'that address now belongs to another account')
    const saved = await save(user.id, { email: row.email, emailVerifiedAt: now, updatedAt: now })
    if (!saved) return fail('invalid_input', BAD_LINK)
    mail.notifyEmailChanged(user.email, saved)
    return ok(saved)
  }

  async function resendVerification(actor: UserRow): Promise<Result<null>> {
    if (actor.emailVerifiedAt !== null) return fail('conflict', 'your email is already verified')
    if (!mail.enabled) return fail('forbidden', 'mail is off on this server')
    await mail.voidTokens(actor.id, 'verify')
    await mail.sendVerification(actor)
    return ok(null)
  }

  /**
   * Mails a link to the new address; the change happens when it is opened. An address that has
   * an account answers the same and gets no link (nobody learns it is taken).
   */
  async function changeEmail(
    actor: UserRow,
    input: { password: string; email: string }
  ): Promise<Result<null>> {
    if (!(await passwordMatches(actor, input.password)))
      return fail('unauthorized', 'wrong password')
    if (input.email === actor.email) return fail('invalid_input', 'that is already your address')
    if (!mail.enabled) return fail('forbidden', 'mail is off on this server')
    if (!(await findUserByEmail(db, input.email))) await mail.sendVerification(actor, input.email)
    return ok(null)
  }

  /**
   * Always the same answer for a known or unknown address. Over the per-address (caller) limit:
   * rate_limited. Over the per-account limit: the same answer, and no mail.
   */
  async function forgotPassword(email: string, address: string): Promise<Result<null>> {
    const byAddress = await resetsPerAddress.take(address)
    if (!byAddress.ok) return byAddress
    const [user, byAccount] = await Promise.all([
      findUserByEmail(db, email),
      resetsPerAccount.take(email),
    ])
    if (user?.isActive && user.passwordHash !== null && byAccount.ok) mail.sendReset(user)
    return ok(null)
  }

  /**
   * Sets the new password, proves the address (the link came to it), voids the other reset
   * links, and ends every session.
   */
  async function resetPassword(input: {
    token: string
    password: string
  }): Promise<Result<EndedSessions>> {
    const row = await mail.claim(input.token, 'reset')
    const user = row && (await findUserById(db, row.userId))
    if (!row || !user?.isActive || row.email !== user.email) return fail('invalid_input', BAD_LINK)
    const now = Date.now()
    await save(user.id, {
      passwordHash: await passwords.hash(input.password),
      emailVerifiedAt: user.emailVerifiedAt ?? now,
      updatedAt: now,
    })
    await mail.voidTokens(user.id, 'reset')
    return ok(await endSessions(user.id))
  }

  /** Keeps the caller's session (`sessionId`), ends the others. */
  async function changePassword(
    actor: UserRow,
    sessionId: string | null,
    input: { currentPassword: string; newPassword: string }
  ): Promise<Result<EndedSessions>> {
    if (!(await passwordMatches(actor, input.currentPassword)))
      return fail('unauthorized', 'wrong current password')
    const now = Date.now()
    await save(actor.id, { passwordHash: await passwords.hash(input.newPassword), updatedAt: now })
    return ok(await endSessions(actor.id, sessionId ?? undefined))
  }

  return {
    verifyEmail,
    resendVerification,
    changeEmail,
    forgotPassword,
    resetPassword,
    changePassword,
    endSessions,
  }
}
