/**
 * @module Auth: register, login, refresh with rotating tokens (reuse revokes the family),
 * logout, and access-token verification for REST and socket handshakes.
 */

import type { z } from 'zod'
import { type AppError, fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log.ts'
import { type Db, isUniqueViolation } from '../store/db.ts'
import { newId } from '../store/ids.ts'
import {
  claimRefreshToken,
  deleteExpiredRefreshTokens,
  findRefreshTokenByHash,
  insertRefreshToken,
  revokeRefreshFamily,
} from '../store/refresh-tokens.ts'
import type { UserRow } from '../store/schema.ts'
import {
  findTakenFields,
  findUserByExternalSubject,
  findUserById,
  findUserByLogin,
  findUserByUsername,
  insertUser,
} from '../store/users.ts'
import type { loginBody, registerBody } from './inputs.ts'
import type { Tokens } from './tokens.ts'
import { createUserCache, type UserCache } from './user-cache.ts'

export interface AuthDeps {
  db: Db
  /** Users verified lately (handshakes of the same user share one object). */
  userCache?: UserCache
  tokens: Tokens
  log: Logger
  refreshTtlMs: number
  argon2MemoryKib: number
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

const sha256 = (text: string): string => new Bun.CryptoHasher('sha256').update(text).digest('hex')

function randomToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}

export function createAuth({
  db,
  tokens,
  log,
  refreshTtlMs,
  argon2MemoryKib,
  userCache = createUserCache(),
}: AuthDeps) {
  const hashOptions = { algorithm: 'argon2id', memoryCost: argon2MemoryKib, timeCost: 2 } as const
  // Verified against when the login names nobody, so both paths cost one argon2 run.
  const dummyHash = Bun.password.hash(randomToken(), hashOptions)

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

  async function startSession(user: UserRow): Promise<Session> {
    const [accessToken, refreshToken] = await Promise.all([
      tokens.signAccessToken(user.id),
      issueRefreshToken(user.id, newId()),
    ])
    return { user, accessToken, refreshToken }
  }

  async function register(input: z.output<typeof registerBody>): Promise<Result<Session>> {
    const taken = await findTakenFields(db, input.username, input.email)
    if (taken.length > 0)
      return fail('conflict', `${taken.join(' and ')} already taken`, { fields: taken })
    const now = Date.now()
    const passwordHash = await Bun.password.hash(input.password, hashOptions)
    try {
      const user = await insertUser(db, {
        id: newId(now),
        username: input.username,
        email: input.email,
        fullName: input.full_name,
        passwordHash,
        createdAt: now,
        updatedAt: now,
      })
      return ok(await startSession(user))
    } catch (error) {
      // Lost a race with a concurrent registration of the same name.
      if (isUniqueViolation(error)) return fail('conflict', 'username or email already taken')
      throw error
    }
  }

  async function login(input: z.output<typeof loginBody>): Promise<Result<Session>> {
    const user = await findUserByLogin(db, input.login)
    const matches = await Bun.password.verify(
      input.password,
      user?.passwordHash ?? (await dummyHash)
    )
    if (!user?.passwordHash || !matches) return fail('unauthorized', BAD_LOGIN)
    if (!user.isActive) return { ok: false, error: INACTIVE }
    return ok(await startSession(user))
  }

  /**
   * Rotates a refresh token. A token that was already rotated is a stolen copy (or a replay):
   * the whole family is revoked, so the thief and the victim must both log in again.
   */
  async function refresh(
    token: string
  ): Promise<Result<{ accessToken: string; refreshToken: string }>> {
    const row = await findRefreshTokenByHash(db, sha256(token))
    const now = Date.now()
    if (!row || row.revokedAt !== null || row.expiresAt <= now) {
      return fail('unauthorized', 'invalid or expired refresh token')
    }
    if (row.rotatedAt !== null || !(await claimRefreshToken(db, row.id, now))) {
      await revokeRefreshFamily(db, row.familyId, now)
      log.warn('refresh token reuse; family revoked', {
        userId: row.userId,
        familyId: row.familyId,
      })
      return fail('unauthorized', 'refresh token was already used; log in again')
    }
    const user = await findUserById(db, row.userId)
    if (!user?.isActive) {
      await revokeRefreshFamily(db, row.familyId, now)
      return fail('unauthorized', 'this account is deactivated')
    }
    const [accessToken, refreshToken] = await Promise.all([
      tokens.signAccessToken(user.id),
      issueRefreshToken(user.id, row.familyId),
    ])
    return ok({ accessToken, refreshToken })
  }

  /** Revokes the token's family. Unknown tokens are fine: logging out twice is not an error. */
  async function logout(token: string): Promise<Result<null>> {
    const row = await findRefreshTokenByHash(db, sha256(token))
    if (row) await revokeRefreshFamily(db, row.familyId, Date.now())
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
  ): Promise<Result<{ user: UserRow; expiresAt: number | null }>> {
    if (typeof token !== 'string' || token === '')
      return fail('unauthorized', 'missing access token')
    const verified = await tokens.verifyToken(token)
    if (!verified.ok) return verified
    let user: UserRow | undefined
    if (verified.value.kind === 'local') {
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
    return ok({ user, expiresAt: verified.value.expiresAt })
  }

  return { register, login, refresh, logout, verifyAccessToken, authenticate }
}
