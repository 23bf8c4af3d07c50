/**
 * @module Uploads end to end, on disk and on a real S3-compatible server (s3rver): upload →
 * message → another member sees the thumbnail; the refusals (spoofed type, oversize, bomb,
 * someone else's upload, outsiders), Range/ETag, and cleanup (orphans, deleted messages,
 * removed accounts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { api, type RegisteredUser } from '../helpers/api.ts'
import { ask, createPrivateChat, joinCity, once, trackClients } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { bombPng, cameraJpeg, pngOf, type S3Server, startS3, upload } from '../helpers/media.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let s3: S3Server
beforeAll(async () => {
  s3 = await startS3()
})
afterAll(() => s3.stop())

const clients = trackClients()
let server: TestServer
afterEach(async () => {
  clients.disconnectAll()
  await server?.stop()
})

const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  })

const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer())

describe.each(['disk', 's3'] as const)('on %s storage', (kind) => {
  const env = (extra: Record<string, string> = {}) => ({
    ...(kind === 's3' ? s3.env : {}),
    MEDIA_SWEEP_INTERVAL: '200ms',
    ...extra,
  })
  /** Whether the storage still holds `key` (looked at directly, not through the server). */
  const stored = async (key: string) =>
    kind === 's3' ? s3.client.exists(key) : existsSync(join(server.dataDir, 'media', key))

  test('upload → image message → another member gets the broadcast and the thumbnail', async () => {
    server = await startServer(env())
    const alice = await clients.user(server.url)
    const bob = await clients.user(server.url)
    await joinCity(alice)
    await joinCity(bob)
    const photo = await cameraJpeg(1200, 600)
    expect((await sharp(photo).metadata()).exif).toBeDefined()

    const up = await upload(server.url, alice.accessToken, photo, 'holiday.png', {
      type: 'image/png',
    })
    expect(up.status).toBe(201)
    const media = up.body.media
    // Type from the bytes (not the name or Content-Type), orientation applied: 600 x 1200.
    expect(media).toMatchObject({
      content_type: 'image/jpeg',
      name: 'holiday.png',
      width: 600,
      height: 1200,
      url: `/api/media/${media._id}`,
      thumbnail_url: `/api/media/${media._id}/thumbnail`,
    })
    expect(await stored(`originals/${media._id}`)).toBe(true)
    expect(await stored(`thumbnails/${media._id}.webp`)).toBe(true)

    const heard = once<any>(bob.socket, 'new-city-message')
    const ack = await ask(alice.socket, 'send-city-message', {
      cityId: 'mumbai',
      message_type: 'image',
      media_id: media._id,
      content: 'look',
    })
    expect(ack.ok).toBe(true)
    const message = await heard
    expect(message.media_url).toBe(media.url)
    expect(message.attachment).toEqual(media)

    const thumb = await get(message.attachment.thumbnail_url, bob.accessToken)
    expect(thumb.status).toBe(200)
    expect(thumb.headers.get('content-type')).toBe('image/webp')
    const thumbMeta = await sharp(await bytesOf(thumb)).metadata()
    expect(Math.max(thumbMeta.width ?? 0, thumbMeta.height ?? 0)).toBeLessThanOrEqual(320)
    expect(thumbMeta.height).toBeGreaterThan(thumbMeta.width ?? 0)

    const full = await get(message.media_url, bob.accessToken)
    expect(full.status).toBe(200)
    expect(full.headers.get('x-content-type-options')).toBe('nosniff')
    expect(full.headers.get('content-disposition')).toStartWith('inline')
    const fullMeta = await sharp(await bytesOf(full)).metadata()
    expect(fullMeta).toMatchObject({ width: 600, height: 1200 })
    // EXIF (camera, GPS) gone; the orientation is in the pixels now.
    expect(fullMeta.exif).toBeUndefined()
    expect(fullMeta.orientation).toBeUndefined()

    // History carries the same attachment.
    const history = await api(server.url, 'GET', '/api/cities/mumbai/messages', {
      token: bob.accessToken,
    })
    expect(history.body.messages.at(-1).attachment).toEqual(media)
  })

  test('private chat media: members only; outsiders and anonymous readers are refused', async () => {
    server = await startServer(env())
    const alice = await clients.user(server.url)
    const bob = await clients.user(server.url)
    const carol = await clients.user(server.url)
    const chatId = await createPrivateChat(server.url, alice, [bob])
    const up = await upload(server.url, alice.accessToken, 'meeting notes\n', 'notes.txt')
    expect(up.body.media).toMatchObject({
      content_type: 'text/plain',
      width: null,
      thumbnail_url: null,
    })
    const id = up.body.media._id
    // Before it is sent only its uploader reads it.
    expect((await get(`/api/media/${id}`, bob.accessToken)).status).toBe(404)
    const sent = await api(server.url, 'POST', `/api/chats/${chatId}/messages`, {
      token: alice.accessToken,
      body: { message_type: 'file', media_id: id },
    })
    expect(sent.status).toBe(201)
    expect(sent.body.message.attachment._id).toBe(id)

    const asBob = await get(`/api/media/${id}`, bob.accessToken)
    expect(asBob.status).toBe(200)
    expect(await asBob.text()).toBe('meeting notes\n')
    // Not an image, audio or video: downloaded, never shown inline.
    expect(asBob.headers.get('content-disposition')).toStartWith('attachment')
    const asCarol = await get(`/api/media/${id}`, carol.accessToken)
    expect(asCarol.status).toBe(404)
    expect(await asCarol.text()).not.toContain('meeting')
    expect((await get(`/api/media/${id}`)).status).toBe(401)
    expect((await get(`/api/media/${id}`, 'not-a-token')).status).toBe(401)

    // The media cookie (for <img> tags) works for its path, with the same rules.
    const session = await fetch(`${server.url}/api/media/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carol.accessToken}` },
    })
    const cookie = session.headers.get('set-cookie') ?? ''
    expect(cookie).toContain('Path=/api/media')
    expect(cookie).toContain('HttpOnly')
    const cookieHeader = cookie.split(';')[0] as string
    expect((await get(`/api/media/${id}`, undefined, { cookie: cookieHeader })).status).toBe(404)
    const bobSession = await fetch(`${server.url}/api/media/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob.accessToken}` },
    })
    const bobCookie = (bobSession.headers.get('set-cookie') ?? '').split(';')[0] as string
    expect((await get(`/api/media/${id}`, undefined, { cookie: bobCookie })).status).toBe(200)
  })

  test('message delete: the tombstone first, then the file and thumbnail go', async () => {
    server = await startServer(env())
    const alice = await clients.user(server.url)
    const up = await upload(server.url, alice.accessToken, await pngOf(400, 300), 'a.png')
    const id = up.body.media._id
    const sent = await api(server.url, 'POST', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
      body: { message_type: 'image', media_id: id },
    })
    const deleted = await api(server.url, 'DELETE', `/api/messages/${sent.body.message._id}`, {
      token: alice.accessToken,
    })
    expect(deleted.status).toBe(200)
    expect(deleted.body.message.attachment).toBeUndefined()
    expect(deleted.body.message.media_url).toBeNull()
    await eventually(
      async () => !(await stored(`originals/${id}`)) && !(await stored(`thumbnails/${id}.webp`)),
      8_000,
      'the deleted message’s files to go'
    )
    expect((await get(`/api/media/${id}`, alice.accessToken)).status).toBe(404)
    const history = await api(server.url, 'GET', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
    })
    expect(history.body.messages.at(-1)).toMatchObject({ is_deleted: true, media_url: null })
  })

  test('orphans: an upload never sent is deleted after MEDIA_ORPHAN_TTL', async () => {
    server = await startServer(env({ MEDIA_ORPHAN_TTL: '300ms' }))
    const alice = await clients.user(server.url)
    const up = await upload(server.url, alice.accessToken, await pngOf(50, 50), 'a.png')
    const id = up.body.media._id
    expect(await stored(`originals/${id}`)).toBe(true)
    // The sweep deletes both files at once: either may go first.
    await eventually(
      async () => !(await stored(`originals/${id}`)) && !(await stored(`thumbnails/${id}.webp`)),
      8_000,
      'the orphan and its thumbnail to go'
    )
    expect((await get(`/api/media/${id}`, alice.accessToken)).status).toBe(404)
  })

  test('removing an account removes its media (sent, unsent, avatar); /metrics counts them', async () => {
    server = await startServer(env())
    const alice = await clients.user(server.url)
    const bob = await clients.user(server.url)
    const metric = async (name: string) => {
      const text = await (await fetch(`${server.url}/metrics`)).text()
      const line = text.split('\n').find((l) => l.startsWith(`${name}{storage="${kind}"}`))
      return line ? Number(line.split(' ').at(-1)) : 0
    }
    // One sent in a city (no orphan: only the account's removal can take it), one never sent,
    // and the profile photo; bob's own upload must stay.
    const sentId = (await upload(server.url, alice.accessToken, await pngOf(64, 64), 'a.png')).body
      .media._id
    const sent = await api(server.url, 'POST', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
      body: { message_type: 'image', media_id: sentId },
    })
    expect(sent.status).toBe(201)
    const unsentId = (await upload(server.url, alice.accessToken, 'draft\n', 'draft.txt')).body
      .media._id
    const photo = await upload(server.url, alice.accessToken, await pngOf(80, 80), 'me.png', {
      path: '/api/users/me/photo',
      method: 'PUT',
    })
    const avatarId = (photo.body.user.profile_photo_url as string).split('/').pop() as string
    const bobsId = (await upload(server.url, bob.accessToken, 'mine\n', 'mine.txt')).body.media._id
    const keys = [
      `originals/${sentId}`,
      `thumbnails/${sentId}.webp`,
      `originals/${unsentId}`,
      `avatars/${avatarId}-256.webp`,
      `avatars/${avatarId}-64.webp`,
    ]
    for (const key of keys) expect(await stored(key)).toBe(true)
    // 2 + 1 + 2 files of alice's, 1 of bob's.
    await eventually(async () => (await metric('chat_media_stored_files')) === 6, 8_000, 'metrics')
    expect(await metric('chat_media_stored_bytes')).toBeGreaterThan(0)
    expect((await get(`/api/media/${sentId}`, bob.accessToken)).status).toBe(200)

    const removed = await api(server.url, 'DELETE', '/api/users/me', { token: alice.accessToken })
    expect(removed.status).toBe(204)
    // Refused at once (the rows are doomed), the bytes go with the sweep.
    expect((await get(`/api/media/${sentId}`, bob.accessToken)).status).toBe(404)
    expect((await get(`/api/media/${avatarId}`)).status).toBe(404)
    await eventually(
      async () => (await Promise.all(keys.map(stored))).every((present) => !present),
      8_000,
      'the account’s files to go'
    )
    expect(await stored(`originals/${bobsId}`)).toBe(true)
    await eventually(async () => (await metric('chat_media_stored_files')) === 1, 8_000, 'metrics')
  })
})

describe('refusals', () => {
  test('spoofed type: HTML named .png with an image Content-Type is 415', async () => {
    server = await startServer()
    const alice = await clients.user(server.url)
    for (const body of [
      '<html><body><script>alert(document.cookie)</script></body></html>',
      '  <!DOCTYPE html><script>alert(1)</script>',
      '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    ]) {
      const res = await upload(server.url, alice.accessToken, body, 'cat.png', {
        type: 'image/png',
      })
      expect(res.status).toBe(415)
      expect(res.body.error.code).toBe('unsupported_media_type')
    }
    // Bytes of no allowed type (an ELF header) are refused too.
    const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0])
    expect((await upload(server.url, alice.accessToken, elf, 'a.pdf')).status).toBe(415)
    // A restricted allowlist refuses PDFs.
    await server.stop()
    server = await startServer({ MEDIA_TYPES: 'image/*' })
    const bob = await clients.user(server.url)
    const pdf = '%PDF-1.4\n1 0 obj<<>>endobj\n'
    expect((await upload(server.url, bob.accessToken, pdf, 'a.pdf')).status).toBe(415)
    expect((await upload(server.url, bob.accessToken, await pngOf(8, 8), 'a.png')).status).toBe(201)
  })

  test('oversize: a 1 GB stream is cut at MEDIA_MAX_BYTES with 413, not read to its end', async () => {
    server = await startServer({ MEDIA_MAX_BYTES: String(256 * 1024) })
    const alice = await clients.user(server.url)
    const boundary = 'xBOUNDARYx'
    const head = new TextEncoder().encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n%PDF-1.4\n`
    )
    const total = 1024 * 1024 * 1024
    const block = new Uint8Array(64 * 1024).fill(0x20)
    let produced = 0
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(head)
      },
      pull(controller) {
        if (produced >= total) return controller.close()
        produced += block.length
        controller.enqueue(block)
      },
    })
    const res = await fetch(`${server.url}/api/media`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${alice.accessToken}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      body,
    }).catch((error: unknown) => error as Error)
    if (res instanceof Response) {
      expect(res.status).toBe(413)
      // Ours names the code. A client that keeps sending after it was refused can pass Bun's own
      // maxRequestBodySize before the connection closes; Bun's 413 then wins, with no body.
      const text = await res.text()
      if (text !== '') expect(JSON.parse(text).error.code).toBe('payload_too_large')
    }
    // Cut near the limit: far from the gigabyte the client offered.
    expect(produced).toBeLessThan(64 * 1024 * 1024)
    // Nothing was kept: no temp file is left behind.
    await eventually(() => readdirSync(join(server.dataDir, 'media', 'tmp')).length === 0)

    // A declared Content-Length over the limit is refused before reading.
    const declared = await fetch(`${server.url}/api/media`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${alice.accessToken}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      body: new Uint8Array(2 * 1024 * 1024),
    })
    expect(declared.status).toBe(413)
  })

  test('a decompression bomb (30000 x 30000 PNG of a few KB) is refused from its header', async () => {
    server = await startServer()
    const alice = await clients.user(server.url)
    const bomb = bombPng(30_000, 30_000)
    expect(bomb.length).toBeLessThan(200_000)
    const res = await upload(server.url, alice.accessToken, bomb, 'bomb.png')
    expect(res.status).toBe(413)
    expect(res.body.error.details).toMatchObject({ width: 30_000, height: 30_000 })
  })

  test("another user's upload, one already sent, an avatar, a mismatched type: refused", async () => {
    server = await startServer()
    const alice = await clients.user(server.url)
    const bob = await clients.user(server.url)
    const image = (await upload(server.url, alice.accessToken, await pngOf(20, 20), 'a.png')).body
      .media._id
    const text = (await upload(server.url, alice.accessToken, 'hello', 'a.txt')).body.media._id
    const send = (user: RegisteredUser, body: unknown) =>
      api(server.url, 'POST', '/api/cities/mumbai/messages', { token: user.accessToken, body })
    expect((await send(bob, { message_type: 'image', media_id: image })).body.error.code).toBe(
      'forbidden'
    )
    expect((await send(alice, { message_type: 'image', media_id: text })).status).toBe(400)
    expect(
      (await send(alice, { message_type: 'text', media_id: image, content: 'x' })).status
    ).toBe(400)
    expect(
      (await send(alice, { message_type: 'image', media_id: '0'.repeat(24) })).body.error.code
    ).toBe('not_found')
    expect((await send(alice, { message_type: 'image', media_id: image })).status).toBe(201)
    expect((await send(alice, { message_type: 'image', media_id: image })).body.error.code).toBe(
      'conflict'
    )
    const avatar = (
      await upload(server.url, alice.accessToken, await pngOf(20, 20), 'me.png', {
        purpose: 'avatar',
      })
    ).body.media._id
    expect((await send(alice, { message_type: 'image', media_id: avatar })).status).toBe(400)
    // Over sockets the same rules answer in the ack.
    await joinCity(bob)
    const ack = await ask(bob.socket, 'send-city-message', {
      cityId: 'mumbai',
      message_type: 'file',
      media_id: text,
    })
    expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    // Not multipart, no file part, a bad purpose.
    const json = await api(server.url, 'POST', '/api/media', { token: alice.accessToken, body: {} })
    expect(json.status).toBe(400)
    const bad = await upload(server.url, alice.accessToken, 'x', 'a.txt', { purpose: 'banner' })
    expect(bad.status).toBe(400)
    expect((await upload(server.url, 'nope', 'x', 'a.txt')).status).toBe(401)
  })

  test('quota and the message rate limit apply to uploads', async () => {
    server = await startServer({ MEDIA_QUOTA_BYTES: '3000', MESSAGE_BURST: '3' })
    const alice = await clients.user(server.url)
    const kb = 'x'.repeat(1400)
    expect((await upload(server.url, alice.accessToken, kb, 'a.txt')).status).toBe(201)
    expect((await upload(server.url, alice.accessToken, kb, 'b.txt')).status).toBe(201)
    const full = await upload(server.url, alice.accessToken, kb, 'c.txt')
    expect(full.status).toBe(413)
    expect(full.body.error.details).toMatchObject({ quotaBytes: 3000, usedBytes: 2800 })
    const limited = await upload(server.url, alice.accessToken, 'y', 'd.txt')
    expect(limited.status).toBe(429)
  })
})

describe('serving', () => {
  test('Range, ETag and Cache-Control', async () => {
    server = await startServer()
    const alice = await clients.user(server.url)
    const text = 'abcdefghijklmnopqrstuvwxyz'
    const id = (await upload(server.url, alice.accessToken, text, 'abc.txt')).body.media._id
    const path = `/api/media/${id}`
    const whole = await get(path, alice.accessToken)
    expect(whole.headers.get('accept-ranges')).toBe('bytes')
    expect(whole.headers.get('cache-control')).toContain('private')
    const etag = whole.headers.get('etag') ?? ''
    expect(etag).not.toBe('')

    const part = await get(path, alice.accessToken, { range: 'bytes=2-5' })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 2-5/${text.length}`)
    expect(await part.text()).toBe('cdef')
    const tail = await get(path, alice.accessToken, { range: 'bytes=-3' })
    expect(await tail.text()).toBe('xyz')
    const open = await get(path, alice.accessToken, { range: 'bytes=20-' })
    expect(await open.text()).toBe('uvwxyz')
    const beyond = await get(path, alice.accessToken, { range: 'bytes=100-200' })
    expect(beyond.status).toBe(416)
    expect(beyond.headers.get('content-range')).toBe(`bytes */${text.length}`)

    const cached = await get(path, alice.accessToken, { 'if-none-match': etag })
    expect(cached.status).toBe(304)
    // A 304 still needs the right to read.
    const bob = await clients.user(server.url)
    expect((await get(path, bob.accessToken, { 'if-none-match': etag })).status).toBe(404)
  })

  test('avatars: PUT /me/photo stores two square sizes, public; the default is generated', async () => {
    server = await startServer()
    const alice = await clients.user(server.url)
    const me = await api(server.url, 'GET', '/api/users/me', { token: alice.accessToken })
    const generated = me.body.user.profile_photo_url
    expect(generated).toBe(`/api/media/avatars/${alice.user._id}`)
    const svg = await get(generated)
    expect(svg.status).toBe(200)
    expect(svg.headers.get('content-type')).toBe('image/svg+xml')
    expect(svg.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(await svg.text()).toContain('>U')

    const put = await upload(server.url, alice.accessToken, await cameraJpeg(900, 500), 'me.jpg', {
      path: '/api/users/me/photo',
      method: 'PUT',
    })
    expect(put.status).toBe(200)
    const url = put.body.user.profile_photo_url as string
    expect(url).toMatch(/^\/api\/media\/[0-9a-f]{24}$/)
    const big = await get(url)
    expect(big.status).toBe(200)
    expect(big.headers.get('cache-control')).toContain('public')
    expect(await sharp(await bytesOf(big)).metadata()).toMatchObject({ width: 256, height: 256 })
    const small = await get(`${url}/thumbnail`)
    expect(await sharp(await bytesOf(small)).metadata()).toMatchObject({ width: 64, height: 64 })
    // Messages show the new photo.
    const sent = await api(server.url, 'POST', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
      body: { content: 'new face' },
    })
    expect(sent.body.message.sender_id.profile_photo_url).toBe(url)
    // A second photo replaces the first, which goes.
    const again = await upload(server.url, alice.accessToken, await pngOf(300, 300), 'b.png', {
      path: '/api/users/me/photo',
      method: 'PUT',
    })
    expect(again.body.user.profile_photo_url).not.toBe(url)
    await eventually(async () => (await get(url)).status === 404, 8_000, 'the old avatar to go')
    // Not an image: refused.
    const pdf = await upload(server.url, alice.accessToken, '%PDF-1.4\n', 'a.pdf', {
      path: '/api/users/me/photo',
      method: 'PUT',
    })
    expect(pdf.status).toBe(415)
  })
})
