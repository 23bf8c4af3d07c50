/**
 * @module A push service of the test's own on 127.0.0.1, playing both the push service and the
 * browser: each subscriber holds a P-256 key pair and an auth secret as a browser would, and every
 * push POSTed to it is checked (VAPID: an ES256 JWT verified against the `k=` key, aud = this
 * origin, exp within 24 h, sub; TTL; Urgency; Topic; Content-Encoding) and decrypted here with the
 * subscriber's private key (RFC 8291 / RFC 8188, written apart from the server's code). A push
 * arrives only when it is answered 2xx: a request cut off (its sender died) never arrived.
 */

import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose'
import { concatBytes } from '../../src/chat/bytes.ts'

interface ArrivedPush {
  /** The decrypted JSON payload. */
  payload: any
  ttl: number
  urgency: string
  topic: string | null
  claims: { aud: string; exp: number; sub: string }
  /** The `k=` key of the Authorization header (the server's VAPID public key). */
  vapidKey: string
}

export interface PushSubscriber {
  endpoint: string
  /** The body a browser POSTs: PushSubscription.toJSON(). */
  subscription: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } }
  /** Pushes answered 2xx, in order. */
  arrived: ArrivedPush[]
  /** Every request and the status it got (cut-off ones as 0). */
  requests: number[]
  /** The next requests are answered with these statuses, in order; then 201. */
  answer(...statuses: number[]): void
}

const b64u = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')
const unb64u = (text: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(Buffer.from(text, 'base64url'))
const utf8 = (text: string) => new TextEncoder().encode(text)

async function hkdf(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, length: number) {
  const key = await crypto.subtle.importKey('raw', concatBytes(ikm), { name: 'HKDF' }, false, [
    'deriveBits',
  ])
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: concatBytes(salt), info: concatBytes(info) },
      key,
      length * 8
    )
  )
}

interface Keys {
  privateKey: CryptoKey
  publicRaw: Uint8Array
  auth: Uint8Array
}

/** RFC 8188 §2 / RFC 8291 §3.4, receiving side: header, key schedule, AES-128-GCM, delimiter. */
async function decrypt(keys: Keys, body: Uint8Array): Promise<string> {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const salt = body.subarray(0, 16)
  const rs = view.getUint32(16)
  const idlen = body[20] as number
  const senderPublic = body.subarray(21, 21 + idlen)
  const records = body.subarray(21 + idlen)
  if (idlen !== 65) throw new Error(`keyid must be the sender's 65-byte key, got ${idlen}`)
  if (records.length > rs) throw new Error('more than one record')
  const sender = await crypto.subtle.importKey(
    'raw',
    concatBytes(senderPublic),
    { name: 'ECDH', namedCurve: 'P-256' },
    false,
    []
  )
  const shared = new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'ECDH', public: sender }, keys.privateKey, 256)
  )
  const info = concatBytes(utf8('WebPush: info'), new Uint8Array([0]), keys.publicRaw, senderPublic)
  const ikm = await hkdf(keys.auth, shared, info, 32)
  const cek = await hkdf(
    salt,
    ikm,
    concatBytes(utf8('Content-Encoding: aes128gcm'), new Uint8Array([0])),
    16
  )
  const nonce = await hkdf(
    salt,
    ikm,
    concatBytes(utf8('Content-Encoding: nonce'), new Uint8Array([0])),
    12
  )
  const key = await crypto.subtle.importKey('raw', cek, { name: 'AES-GCM' }, false, ['decrypt'])
  const plain = new Uint8Array(
    await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce }, key, concatBytes(records))
  )
  // Padding is zeros after the delimiter; the last record's delimiter is 0x02.
  let end = plain.length - 1
  while (end >= 0 && plain[end] === 0) end -= 1
  if (plain[end] !== 2) throw new Error('last record delimiter missing')
  return new TextDecoder().decode(plain.subarray(0, end))
}

/** Checks the VAPID Authorization header (RFC 8292 §2, §3) and returns its claims and key. */
async function verifyVapid(header: string | null, origin: string) {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '')
  if (!match) throw new Error(`bad Authorization header: ${header}`)
  const [, token, k] = match as unknown as [string, string, string]
  const point = unb64u(k)
  if (point.length !== 65 || point[0] !== 4) throw new Error('k is not an uncompressed P-256 key')
  if (decodeProtectedHeader(token).alg !== 'ES256') throw new Error('VAPID JWT must be ES256')
  const key = await importJWK(
    { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33)) },
    'ES256'
  )
  const { payload } = await jwtVerify(token, key, { audience: origin, algorithms: ['ES256'] })
  const exp = payload.exp as number
  if (typeof exp !== 'number' || exp > Date.now() / 1000 + 24 * 3600) {
    throw new Error('exp missing or more than 24 hours ahead')
  }
  if (typeof payload.sub !== 'string' || !/^(mailto:|https:)/.test(payload.sub)) {
    throw new Error('sub must be a mailto: or https: URL')
  }
  return { claims: { aud: origin, exp, sub: payload.sub }, vapidKey: k }
}

export interface PushService {
  origin: string
  /** A new browser: its keys and its endpoint here. */
  subscriber(): Promise<PushSubscriber>
  /** Hold requests from now on (answer none) until `release()`; how many are held now. */
  hold(): void
  held(): number
  release(): void
  /** Checks that failed (a bad header, signature or payload): a test expects none. */
  failures: string[]
  stop(): void
}

/** @example const push = await startPushService(); const sub = await push.subscriber() */
export async function startPushService(): Promise<PushService> {
  const subscribers = new Map<string, { keys: Keys; sub: PushSubscriber; script: number[] }>()
  const failures: string[] = []
  let holding = false
  let waiting: Array<() => void> = []
  let heldNow = 0

  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const id = new URL(req.url).pathname.split('/')[2] ?? ''
      const entry = subscribers.get(id)
      if (!entry || req.method !== 'POST')
        return new Response('no such subscription', { status: 404 })
      const body = new Uint8Array(await req.arrayBuffer())
      if (holding) {
        heldNow += 1
        const cut = await new Promise<boolean>((resolve) => {
          waiting.push(() => resolve(false))
          req.signal.addEventListener('abort', () => resolve(true))
        })
        heldNow -= 1
        if (cut || req.signal.aborted) {
          entry.sub.requests.push(0)
          return new Response(null, { status: 499 })
        }
      }
      const status = entry.script.shift() ?? 201
      entry.sub.requests.push(status)
      if (status < 200 || status >= 300) return new Response(null, { status })
      try {
        if (req.headers.get('content-encoding') !== 'aes128gcm') {
          throw new Error('Content-Encoding must be aes128gcm')
        }
        const ttl = req.headers.get('ttl')
        if (!ttl || !/^\d+$/.test(ttl)) throw new Error(`TTL header missing or bad: ${ttl}`)
        const urgency = req.headers.get('urgency') ?? 'normal'
        if (!['very-low', 'low', 'normal', 'high'].includes(urgency)) {
          throw new Error(`bad Urgency ${urgency}`)
        }
        const topic = req.headers.get('topic')
        if (topic !== null && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) throw new Error('bad Topic')
        const vapid = await verifyVapid(req.headers.get('authorization'), origin)
        const payload = JSON.parse(await decrypt(entry.keys, body))
        entry.sub.arrived.push({ payload, ttl: Number(ttl), urgency, topic, ...vapid })
        return new Response(null, { status: 201 })
      } catch (error) {
        failures.push(String(error))
        return new Response(String(error), { status: 400 })
      }
    },
  })
  const origin = `http://127.0.0.1:${server.port}`

  const release = () => {
    holding = false
    const all = waiting
    waiting = []
    for (const go of all) go()
  }

  return {
    origin,
    failures,
    async subscriber() {
      const pair = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, [
        'deriveBits',
      ])) as CryptoKeyPair
      const publicRaw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
      const auth = crypto.getRandomValues(new Uint8Array(16))
      const id = crypto.randomUUID()
      const endpoint = `${origin}/push/${id}`
      const script: number[] = []
      const sub: PushSubscriber = {
        endpoint,
        subscription: {
          endpoint,
          expirationTime: null,
          keys: { p256dh: b64u(publicRaw), auth: b64u(auth) },
        },
        arrived: [],
        requests: [],
        answer: (...statuses) => script.push(...statuses),
      }
      subscribers.set(id, { keys: { privateKey: pair.privateKey, publicRaw, auth }, sub, script })
      return sub
    },
    hold() {
      holding = true
    },
    held: () => heldNow,
    release,
    stop() {
      release()
      server.stop(true)
    },
  }
}
