/**
 * @module Access tokens: short-lived HS256 JWTs signed with jose, and verification of our own
 * tokens or an external identity provider's (JWKS URL or PEM public key).
 */
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  importSPKI,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose'
import { fail, ok, type Result } from '../errors.ts'

export interface TokenOptions {
  /** HS256 secret (≥ 32 chars). */
  secret: string
  issuer: string
  accessTtlMs: number
  jwksUrl?: string | undefined
  publicKey?: string | undefined
}

/** `expiresAt`: the token's `exp` in epoch ms, null when it has none (an external token may not). */
type VerifiedToken = { expiresAt: number | null } & (
  | { kind: 'local'; userId: string; sessionId: string | null }
  | { kind: 'external'; subject: string; claims: JWTPayload }
)

const expiryOf = (payload: JWTPayload): number | null =>
  typeof payload.exp === 'number' ? payload.exp * 1000 : null

export interface Tokens {
  /** `sessionId`: the login (refresh family) it belongs to, as the `sid` claim. */
  signAccessToken(userId: string, sessionId?: string): Promise<string>
  verifyToken(token: string): Promise<Result<VerifiedToken>>
}

const INVALID = 'invalid or expired access token'

/** @example const tokens = createTokens({ secret, issuer: 'mycommunity', accessTtlMs: 900_000 }) */
export function createTokens({
  secret,
  issuer,
  accessTtlMs,
  jwksUrl,
  publicKey,
}: TokenOptions): Tokens {
  const key = new TextEncoder().encode(secret)
  // jose imports a raw secret into a CryptoKey on every call; import it once.
  const hmacKey = crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ])
  /**
   * Our own tokens verified lately: the same token string (a user's tabs, reconnects) verifies
   * to the same result until it expires, so the HMAC is computed once. Bounded.
   */
  const verifiedLocal = new Map<
    string,
    { userId: string; sessionId: string | null; expiresAt: number | null }
  >()
  const jwks: JWTVerifyGetKey | undefined = jwksUrl
    ? createRemoteJWKSet(new URL(jwksUrl))
    : undefined
  const spkiByAlg = new Map<string, Promise<CryptoKey>>()

  async function verifyExternal(token: string, alg: string): Promise<JWTPayload> {
    if (jwks) return (await jwtVerify(token, jwks)).payload
    if (publicKey) {
      let pending = spkiByAlg.get(alg)
      if (!pending) {
        pending = importSPKI(publicKey, alg)
        spkiByAlg.set(alg, pending)
      }
      return (await jwtVerify(token, await pending, { algorithms: [alg] })).payload
    }
    throw new Error('no external key configured')
  }

  return {
    async signAccessToken(userId, sessionId) {
      const now = Date.now()
      return new SignJWT(sessionId ? { sid: sessionId } : {})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(issuer)
        .setIssuedAt(Math.floor(now / 1000))
        .setExpirationTime(Math.floor((now + accessTtlMs) / 1000))
        .sign(await hmacKey)
    },

    async verifyToken(token) {
      const known = verifiedLocal.get(token)
      if (known) {
        if (known.expiresAt === null || known.expiresAt > Date.now()) {
          return ok({ kind: 'local', ...known })
        }
        verifiedLocal.delete(token)
      }
      try {
        const { alg } = decodeProtectedHeader(token)
        if (alg === 'HS256') {
          const { payload } = await jwtVerify(token, await hmacKey, {
            issuer,
            algorithms: ['HS256'],
          })
          if (!payload.sub) return fail('unauthorized', INVALID)
          const verified = {
            userId: payload.sub,
            sessionId: typeof payload.sid === 'string' ? payload.sid : null,
            expiresAt: expiryOf(payload),
          }
          if (verifiedLocal.size >= 10_000) verifiedLocal.clear()
          verifiedLocal.set(token, verified)
          return ok({ kind: 'local', ...verified })
        }
        if (!alg || alg === 'none') return fail('unauthorized', INVALID)
        const payload = await verifyExternal(token, alg)
        if (!payload.sub) return fail('unauthorized', INVALID)
        return ok({
          kind: 'external',
          subject: `${payload.iss ?? ''}|${payload.sub}`,
          claims: payload,
          expiresAt: expiryOf(payload),
        })
      } catch {
        // Expired, bad signature, malformed, unknown key: the client's answer is the same.
        return fail('unauthorized', INVALID)
      }
    },
  }
}
