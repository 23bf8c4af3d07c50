/**
 * @module Web Push on the wire, with WebCrypto only: the payload encrypted for one subscription
 * (RFC 8291 over the aes128gcm content coding of RFC 8188) and the VAPID `Authorization` header
 * (RFC 8292, an ES256 JWT). No dependency: the whole of it is ECDH P-256, HKDF-SHA256 and
 * AES-128-GCM, which Bun has natively, in the compiled binary too.
 */

import { generateKeyPairSync } from 'node:crypto'
import { importJWK, SignJWT } from 'jose'
import { concatBytes } from './bytes.ts'

/** A VAPID key pair as the browser and the environment carry it: base64url, raw. */
export interface VapidKeys {
  /** The uncompressed P-256 point (65 bytes: 0x04 ‖ x ‖ y). */
  publicKey: string
  /** The private scalar d (32 bytes). */
  privateKey: string
}

/** What a browser's PushSubscription gives us to encrypt for it. */
export interface PushTarget {
  endpoint: string
  /** The browser's P-256 public key (65 bytes), base64url. */
  p256dh: string
  /** The 16-byte authentication secret, base64url. */
  auth: string
}

const b64u = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')
const unb64u = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64url'))
const utf8 = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text)

/** A fresh pair, for DATA_DIR when VAPID_* is unset (synchronous: it is made once at start). */
export function generateVapidKeys(): VapidKeys {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const jwk = privateKey.export({ format: 'jwk' })
  const point = concatBytes(new Uint8Array([4]), unb64u(jwk.x as string), unb64u(jwk.y as string))
  return { publicKey: b64u(point), privateKey: jwk.d as string }
}

function vapidJwk(keys: VapidKeys) {
  const point = unb64u(keys.publicKey)
  if (point.length !== 65 || point[0] !== 4) {
    throw new Error('VAPID public key must be an uncompressed P-256 point (65 bytes, base64url)')
  }
  if (unb64u(keys.privateKey).length !== 32) {
    throw new Error('VAPID private key must be 32 bytes, base64url')
  }
  return {
    kty: 'EC',
    crv: 'P-256',
    x: b64u(point.subarray(1, 33)),
    y: b64u(point.subarray(33)),
    d: keys.privateKey,
  }
}

/** A JWT stays valid this long (RFC 8292 §2: at most 24 hours); renewed an hour before its end. */
const JWT_LIFETIME_S = 12 * 3600
const JWT_RENEW_S = 3600

/**
 * The signer of VAPID headers. Start-up fails when the pair does not belong together (a signature
 * by the private key must verify under the public one), never the first push.
 * @example
 * const vapid = await createVapid(keys, 'mailto:ops@example.com')
 * headers.authorization = await vapid.authorization('https://push.example.net/abc')
 */
export async function createVapid(keys: VapidKeys, subject: string) {
  const jwk = vapidJwk(keys)
  const signing = await importJWK(jwk, 'ES256')
  const { d: _private, ...publicJwk } = jwk
  const verifying = await crypto.subtle.importKey(
    'jwk',
    publicJwk,
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['verify']
  )
  const probe = utf8('vapid pair check')
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    signing as CryptoKey,
    probe
  )
  const pairs = await crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' },
    verifying,
    signature,
    probe
  )
  if (!pairs) throw new Error('VAPID_PRIVATE_KEY does not belong to VAPID_PUBLIC_KEY')
  const cache = new Map<string, { header: string; exp: number }>()

  return {
    publicKey: keys.publicKey,
    /** `vapid t=<JWT>, k=<public key>` for the push service at `endpoint` (aud = its origin). */
    async authorization(endpoint: string, nowMs = Date.now()): Promise<string> {
      const aud = new URL(endpoint).origin
      const now = Math.floor(nowMs / 1000)
      const held = cache.get(aud)
      if (held && held.exp - now > JWT_RENEW_S) return held.header
      const exp = now + JWT_LIFETIME_S
      const token = await new SignJWT({ sub: subject })
        .setProtectedHeader({ typ: 'JWT', alg: 'ES256' })
        .setAudience(aud)
        .setExpirationTime(exp)
        .sign(signing)
      const header = `vapid t=${token}, k=${keys.publicKey}`
      if (cache.size > 1_000) cache.clear()
      cache.set(aud, { header, exp })
      return header
    },
  }
}

export type Vapid = Awaited<ReturnType<typeof createVapid>>

/** RFC 8188 §2: one record of this size holds the whole payload (push services take 4096 bytes). */
const RECORD_SIZE = 4096

async function hkdf(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, bytes: number) {
  const key = await crypto.subtle.importKey('raw', concatBytes(ikm), 'HKDF', false, ['deriveBits'])
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: concatBytes(salt), info: concatBytes(info) },
    key,
    bytes * 8
  )
  return new Uint8Array(bits)
}

/** Does this look like a browser's P-256 key (a point on the curve)? */
export async function isP256Point(p256dh: string): Promise<boolean> {
  try {
    await crypto.subtle.importKey(
      'raw',
      concatBytes(unb64u(p256dh)),
      { name: 'ECDH', namedCurve: 'P-256' },
      false,
      []
    )
    return true
  } catch {
    return false
  }
}

/**
 * The body of one push: `payload` encrypted for `target` (RFC 8291 §3.4, RFC 8188 §2.1): the
 * header salt ‖ rs ‖ idlen ‖ keyid (our ephemeral public key), then one record, AES-128-GCM of
 * the payload followed by the last-record delimiter 0x02.
 */
export async function encryptPush(
  target: PushTarget,
  payload: Uint8Array
): Promise<Uint8Array<ArrayBuffer>> {
  if (payload.length + 17 > RECORD_SIZE - 86) throw new Error('push payload too large')
  const uaPublic = unb64u(target.p256dh)
  const authSecret = unb64u(target.auth)
  const ua = await crypto.subtle.importKey(
    'raw',
    concatBytes(uaPublic),
    { name: 'ECDH', namedCurve: 'P-256' },
    false,
    []
  )
  const ephemeral = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, [
    'deriveBits',
  ])) as CryptoKeyPair
  const asPublic = new Uint8Array(await crypto.subtle.exportKey('raw', ephemeral.publicKey))
  const ecdhSecret = new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'ECDH', public: ua }, ephemeral.privateKey, 256)
  )
  // §3.3: IKM from the shared secret, keyed by the auth secret and bound to both public keys.
  const keyInfo = concatBytes(utf8('WebPush: info\0'), uaPublic, asPublic)
  const ikm = await hkdf(authSecret, ecdhSecret, keyInfo, 32)
  // RFC 8188 §2.2, §2.3: the content encryption key and the nonce from a random salt.
  const salt = crypto.getRandomValues(new Uint8Array(16))
  const cek = await hkdf(salt, ikm, utf8('Content-Encoding: aes128gcm\0'), 16)
  const nonce = await hkdf(salt, ikm, utf8('Content-Encoding: nonce\0'), 12)
  const key = await crypto.subtle.importKey('raw', cek, 'AES-GCM', false, ['encrypt'])
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: nonce, tagLength: 128 },
      key,
      concatBytes(payload, new Uint8Array([2]))
    )
  )
  const header = new Uint8Array(16 + 4 + 1 + asPublic.length)
  header.set(salt, 0)
  new DataView(header.buffer).setUint32(16, RECORD_SIZE)
  header[20] = asPublic.length
  header.set(asPublic, 21)
  return concatBytes(header, sealed)
}
