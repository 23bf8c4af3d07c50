/**
 * @module Auth: register, login, refresh with rotating tokens (reuse revokes the family),
 * logout, and access-token verification for REST and socket handshakes.
 */

import type { z } from 'zod'
import { type AppError, fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import { type Db, isUniqueViolation } from '../store/db.ts'
import { isUsernameHeld } from '../store/erasures.ts'
import { newId } from '../store/ids.ts'
import {
  claimRefreshToken,
  deleteExpiredRefreshTokens,
  findRefreshTokenByHash,
  insertRefreshToken,
  revokeRefreshFamily,
} from '../store/refresh-tokens.ts'
import type { UserRow } from '../store/schema.ts'
import { deleteSession, insertSession, sessionExists, touchSession } from '../store/sessions.ts'
import {
  findTakenFields,
  findUserByEmail,
  findUserByExternalSubject,
  findUserById,
  findUserByLogin,
  findUserByUsername,
  insertUser,
} from '../store/users.ts'
import type { AccountMail } from './account-mail.ts'
import { type Passwords, randomToken, sha256 } from './credentials.ts'
import type { loginBody, registerBody } from './inputs.ts'
import type { Tokens } from './tokens.ts'
import { createUserCache, type UserCache } from './user-cache.ts'

export interface AuthDeps {
  db: Db
  /** Users verified lately (handshakes of the same user share one object). */
  userCache?: UserCache
  tokens: Tokens
  passwords: Passwords
  mail: AccountMail
  log: Logger
  refreshTtlMs: number
  /** A token rotated this recently may be sent again (a reload mid-refresh) without revoking. */
  refreshGraceMs: number
  /** ADMIN_USERNAMES: these usernames register as admins (start-up promotes existing ones). */
  adminUsernames?: readonly string[]
}

/** Where a login comes from: the device list shows it. */
export interface ClientInfo {
  userAgent: string | null
  address: string | null
}

export interface Session {
  user: UserRow
  accessToken: string
  refreshToken: string
}

const INACTIVE: AppError = { code: 'forbidden', message: 'this account is deactivated' }
const BAD_LOGIN = 'wrong login or password'

/**
 * Every refresh adds a token row that is kept until it expires (so a stolen, rotated one is still
 * recognised). Every this many issued, expired rows are deleted, up to SWEEP_ROWS of them: ten
 * times the rate they are added at, in one indexed statement of about a millisecond, no timer.
 */
const SWEEP_EVERY = 100
const SWEEP_ROWS = 1_000

export function createAuth({
  db,
  tokens,
  passwords,
  mail,
  log,
  refreshTtlMs,
  refreshGraceMs,
  userCache = createUserCache(),
  adminUsernames = [],
}: AuthDeps) {
  const admins = new Set(adminUsernames.map((name) => name.toLowerCase()))
  let issued = 0
  async function issueRefreshToken(userId: string, familyId: string): Promise<string> {
    const token = randomToken()
    const now = Date.now()
    await insertRefreshToken(db, {
      id: newId(now),
      userId,
      familyId,
      tokenHash: sha256(token),
      createdAt: now,
      expiresAt: now + refreshTtlMs,
    })
    if (++issued % SWEEP_EVERY === 0) {
      await deleteExpiredRefreshTokens(db, now, SWEEP_ROWS).catch((error) =>
        log.error('deleting expired refresh tokens failed', { error })
      )
    }
    return token
  }

  async function startSession(user: UserRow, client: ClientInfo): Promise<Session> {
    const sessionId = newId()
    const now = Date.now()
    await insertSession(db, {
      id: sessionId,
      userId: user.id,
      userAgent: client.userAgent?.slice(0, 400) ?? null,
      address: client.address,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now + refreshTtlMs,
    })
    const [accessToken, refreshToken] = await Promise.all([
      tokens.signAccessToken(user.id, sessionId),
      issueRefreshToken(user.id, sessionId),
    ])
    return { user, accessToken, refreshToken }
  }

  /**
   * A taken username answers 409 (usernames are public: anyone can look one up). A taken email
   * does not: the answer has the same status and shape as a registration, built for an account
   * that is never stored (its tokens authenticate nobody), and the address's owner is mailed
   * instead. Both paths do the same argon2 and signing work.
   */
  async function register(
    input: z.output<typeof registerBody>,
    client: ClientInfo
  ): Promise<Result<Session>> {
    const taken = await findTakenFields(db, input.username, input.email)
    const now = Date.now()
    // An erased account's username is held for USERNAME_HOLD (chat/erasure.ts): taken till then.
    if (taken.includes('username') || (await isUsernameHeld(db, sha256(input.username), now)))
      return fail('conflict', 'username already taken', { fields: ['username'] })
    const passwordHash = await passwords.hash(input.password)
    const row = {
      id: newId(now),
      username: input.username,
      email: input.email,
      fullName: input.full_name,
      passwordHash,
      role: admins.has(input.username) ? ('admin' as const) : ('user' as const),
      createdAt: now,
      updatedAt: now,
    }
    if (taken.includes('email')) return ok(await decoySession(row))
    try {
      const user = await insertUser(db, row)
      await mail.sendVerification(user)
      return ok(await startSession(user, client))
    } catch (error) {
      // Lost a race with a concurrent registration of the same name or address.
      if (isUniqueViolation(error)) {
        const again = await findTakenFields(db, input.username, input.email)
        if (again.includes('username'))
          return fail('conflict', 'username already taken', { fields: ['username'] })
        return ok(await decoySession(row))
      }
      throw error
    }
  }

  /** The registration answer for an address that has an account: nothing is stored. */
  async function decoySession(
    row: Omit<
      UserRow,
      'profilePhotoUrl' | 'isActive' | 'externalSubject' | 'emailVerifiedAt' | 'lastSeenAt'
    >
  ): Promise<Session> {
    const owner = await findUserByEmail(db, row.email)
    if (owner) mail.notifyRegistrationAttempt(owner)
    const user: UserRow = {
      ...row,
      profilePhotoUrl: null,
      isActive: true,
      externalSubject: null,
      emailVerifiedAt: null,
      lastSeenAt: null,
    }
    const [accessToken] = await Promise.all([
      tokens.signAccessToken(user.id, newId()),
      // The same work as a stored token, minus the row.
      Promise.resolve(sha256(randomToken())),
    ])
    return { user, accessToken, refreshToken: randomToken() }
  }

  async function login(
    input: z.output<typeof loginBody>,
    client: ClientInfo
  ): Promise<Result<Session>> {
    const user = await findUserByLogin(db, input.login)
    const matches = await passwords.verify(input.password, user?.passwordHash)
    if (!user || !matches) return fail('unauthorized', BAD_LOGIN)
    if (!user.isActive) return { ok: false, error: INACTIVE }
    return ok(await startSession(user, client))
  }

  /**
   * Rotates a refresh token. A token that was already rotated is a stolen copy (or a replay):
   * the whole family is revoked, so the thief and the victim must both log in again. Except
   * within `refreshGraceMs` of its rotation: a page reloaded while its refresh was in flight
   * sends the old token again, and gets another fresh token of the same session.
   */
  async function refresh(
    token: string,
    client: ClientInfo = { userAgent: null, address: null }
  ): Promise<Result<{ accessToken: string; refreshToken: string }>> {
    const row = await findRefreshTokenByHash(db, sha256(token))
    const now = Date.now()
    if (!row || row.revokedAt !== null || row.expiresAt <= now) {
      return fail('unauthorized', 'invalid or expired refresh token')
    }
    const claimed = row.rotatedAt === null && (await claimRefreshToken(db, row.id, now))
    if (!claimed) {
      const rotatedAt = row.rotatedAt ?? now
      if (now - rotatedAt > refreshGraceMs) {
        await endFamily(row.familyId, now)
        log.warn('refresh token reuse; family revoked', {
          userId: row.userId,
          familyId: row.familyId,
        })
        return fail('unauthorized', 'refresh token was already used; log in again')
      }
    }
    const user = await findUserById(db, row.userId)
    if (!user?.isActive) {
      await endFamily(row.familyId, now)
      return fail('unauthorized', 'this account is deactivated')
    }
    const [accessToken, refreshToken] = await Promise.all([
      tokens.signAccessToken(user.id, row.familyId),
      issueRefreshToken(user.id, row.familyId),
      touchSession(db, {
        id: row.familyId,
        userId: user.id,
        lastUsedAt: now,
        expiresAt: now + refreshTtlMs,
        address: client.address,
      }),
    ])
    return ok({ accessToken, refreshToken })
  }

  async function endFamily(familyId: string, now: number): Promise<void> {
    await revokeRefreshFamily(db, familyId, now)
    await deleteSession(db, familyId)
  }

  /** Revokes the token's family. Unknown tokens are fine: logging out twice is not an error. */
  async function logout(token: string): Promise<Result<null>> {
    const row = await findRefreshTokenByHash(db, sha256(token))
    if (row) await endFamily(row.familyId, Date.now())
    return ok(null)
  }

  /** First login through an external identity provider creates the local user from its claims. */
  async function provisionExternal(
    subject: string,
    claims: Record<string, unknown>
  ): Promise<UserRow> {
    const str = (key: string) =>
      typeof claims[key] === 'string' ? (claims[key] as string) : undefined
    const email = (str('email') ?? `${newId()}@external.invalid`).toLowerCase()
    const base =
      (str('preferred_username') ?? str('username') ?? email.split('@')[0] ?? 'user')
        .toLowerCase()
        .replace(/[^a-z0-9_.]/g, '')
        .slice(0, 24) || 'user'
    let username = base.length >= 3 ? base : `${base}_user`
    if (await findUserByUsername(db, username))
      username = `${username.slice(0, 23)}_${newId().slice(-6)}`
    const now = Date.now()
    return insertUser(db, {
      id: newId(now),
      username,
      email,
      fullName: str('name') ?? username,
      externalSubject: subject,
      createdAt: now,
      updatedAt: now,
    })
  }

  /**
   * The user an access token belongs to. Our own tokens name a user id; an external identity
   * provider's token names a subject, mapped to (or provisioned as) a local user.
   * Inactive or missing users are refused: `unauthorized`.
   * @example const auth = await chat.verifyAccessToken(socket.handshake.auth.token)
   */
  async function verifyAccessToken(token: unknown): Promise<Result<UserRow>> {
    const session = await authenticate(token)
    return session.ok ? ok(session.value.user) : session
  }

  /**
   * As verifyAccessToken, plus when the token expires (epoch ms, null if it never does): live
   * sockets are closed at that moment unless they renew the token in place (`refresh-auth`).
   * @example const auth = await chat.authenticate(token); if (auth.ok) schedule(auth.value.expiresAt)
   */
  async function authenticate(
    token: unknown
  ): Promise<Result<{ user: UserRow; expiresAt: number | null; sessionId: string | null }>> {
    if (typeof token !== 'string' || token === '')
      return fail('unauthorized', 'missing access token')
    const verified = await tokens.verifyToken(token)
    if (!verified.ok) return verified
    let user: UserRow | undefined
    let sessionId: string | null = null
    if (verified.value.kind === 'local') {
      sessionId = verified.value.sessionId
      const userId = verified.value.userId
      user = userCache.get(userId)
      if (!user) {
        const row = await findUserById(db, userId)
        if (row?.isActive) user = userCache.set(row)
        else user = row
      }
    } else {
      const { subject, claims } = verified.value
      user = await findUserByExternalSubject(db, subject)
      if (!user) {
        // Two first requests at once: the loser of the unique index finds the winner's row.
        user = await provisionExternal(subject, claims).catch(async (error: unknown) => {
          if (!isUniqueViolation(error)) throw error
          return findUserByExternalSubject(db, subject)
        })
      }
    }
    if (!user) return fail('unauthorized', 'user no longer exists')
    if (!user.isActive) return fail('unauthorized', 'this account is deactivated')
    return ok({ user, expiresAt: verified.value.expiresAt, sessionId })
  }

  /**
   * As authenticate, for a socket handshake: a token of a session that was revoked (signed out
   * from the device list, password changed or reset) is refused, though it has not expired.
   */
  async function authenticateSocket(
    token: unknown
  ): Promise<Result<{ user: UserRow; expiresAt: number | null; sessionId: string | null }>> {
    const session = await authenticate(token)
    if (!session.ok || session.value.sessionId === null) return session
    if (!(await sessionExists(db, session.value.sessionId)))
      return fail('unauthorized', 'this session was signed out')
    return session
  }

  return {
    register,
    login,
    refresh,
    logout,
    verifyAccessToken,
    authenticate,
    authenticateSocket,
  }
}
