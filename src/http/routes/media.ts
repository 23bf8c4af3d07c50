/**
 * @module /api/media: upload (POST), read an upload or its thumbnail (GET, with Range and ETag),
 * default avatars, and the media cookie. Reads take the `Authorization` header, or the
 * `media_token` cookie that POST /api/media/session sets for this path only, since `<img>` and
 * `<video>` tags cannot send headers (see docs/media.md for why a cookie, not signed URLs).
 */
import { type Context, Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { decodeJwt } from 'jose'
import { defaultAvatarSvg } from '../../chat/avatars.ts'
import { isInlineType } from '../../chat/media-types.ts'
import type { Chat, User } from '../../chat/service.ts'
import { mediaView } from '../../chat/views.ts'
import { fail, ok, type Result } from '../../errors.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readUpload } from '../upload.ts'

const MEDIA_COOKIE = 'media_token'
const BEARER = /^Bearer\s+(\S+)$/i
const ID = /^[0-9a-f]{24}$/
const PURPOSES = new Set(['message', 'avatar'])

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range); null: no Range; 'bad': unsatisfiable. */
function parseRange(header: string | undefined, size: number) {
  if (!header) return null
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match || (match[1] === '' && match[2] === '')) return 'bad' as const
  let start: number
  let end: number
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]))
    end = size - 1
  } else {
    start = Number(match[1])
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)
  }
  if (start > end || start >= size) return 'bad' as const
  return { start, end }
}

/** RFC 6266 filename, ASCII fallback plus UTF-8. */
function disposition(type: string, name: string): string {
  const kind = isInlineType(type) ? 'inline' : 'attachment'
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`
}

export function mediaRoutes(chat: Chat) {
  const app = new Hono<AppEnv>()

  /** The reader: the bearer token, else the media cookie, else nobody (avatars only). */
  async function reader(c: Context<AppEnv>): Promise<Result<User | null>> {
    const header = c.req.header('authorization')
    const token = header ? BEARER.exec(header)?.[1] : getCookie(c, MEDIA_COOKIE)
    if (header && !token) return fail('unauthorized', 'malformed Authorization header')
    if (!token) return ok(null)
    return chat.verifyAccessToken(token)
  }

  app.post('/', requireUser(chat), async (c) => {
    const form = await readUpload(c, chat.media)
    if (!form.ok) return sendError(c, form.error)
    const purpose = form.value.fields.purpose ?? 'message'
    if (!PURPOSES.has(purpose)) {
      await Bun.file(form.value.file.path)
        .delete()
        .catch(() => undefined)
      return sendError(c, { code: 'invalid_input', message: 'purpose is message or avatar' })
    }
    const stored = await chat.media.upload(
      c.get('user'),
      form.value.file,
      purpose as 'message' | 'avatar'
    )
    if (!stored.ok) return sendError(c, stored.error)
    return c.json({ media: mediaView(stored.value) }, 201)
  })

  /** Sets the media cookie from the bearer token, for as long as that token lives. */
  app.post('/session', requireUser(chat), (c) => {
    const token = BEARER.exec(c.req.header('authorization') ?? '')?.[1] ?? ''
    const exp = decodeJwt(token).exp ?? 0
    const maxAge = Math.max(0, exp - Math.floor(Date.now() / 1000))
    setCookie(c, MEDIA_COOKIE, token, {
      path: '/api/media',
      httpOnly: true,
      sameSite: 'Lax',
      secure: new URL(c.req.url).protocol === 'https:',
      maxAge,
    })
    return c.body(null, 204)
  })

  app.delete('/session', (c) => {
    deleteCookie(c, MEDIA_COOKIE, { path: '/api/media' })
    return c.body(null, 204)
  })

  /** Initials on a colour; our own SVG, served with a CSP that runs nothing. */
  app.get('/avatars/:userId', async (c) => {
    const userId = c.req.param('userId')
    if (!ID.test(userId)) return sendError(c, { code: 'not_found', message: 'no such user' })
    const [user] = await chat.findUsersByIds([userId])
    if (!user) return sendError(c, { code: 'not_found', message: 'no such user' })
    const etag = `"a-${Bun.hash(user.fullName).toString(36)}"`
    const headers = {
      ETag: etag,
      'Cache-Control': 'public, max-age=3600',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      'Cross-Origin-Resource-Policy': 'cross-origin',
    }
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers)
    return c.body(defaultAvatarSvg(user.id, user.fullName), 200, {
      ...headers,
      'Content-Type': 'image/svg+xml',
    })
  })

  const serve = (variant: 'original' | 'thumbnail') => async (c: Context<AppEnv>) => {
    const id = c.req.param('id') ?? ''
    if (!ID.test(id)) return sendError(c, { code: 'not_found', message: 'no such file' })
    const actor = await reader(c)
    if (!actor.ok) return sendError(c, actor.error)
    const found = await chat.media.openMedia(actor.value, id)
    if (!found.ok) return sendError(c, found.error)
    const row = found.value
    const thumbnail = variant === 'thumbnail'
    const key = thumbnail ? row.thumbnailKey : row.storageKey
    if (!key) return sendError(c, { code: 'not_found', message: 'this file has no thumbnail' })
    const size = thumbnail ? row.thumbnailSize : row.size
    const type = thumbnail ? 'image/webp' : row.contentType
    // Stored bytes never change: an id and a variant name them for good.
    const etag = `"${row.id}-${variant}"`
    const headers: Record<string, string> = {
      ETag: etag,
      'Cache-Control': `${row.purpose === 'avatar' ? 'public' : 'private'}, max-age=31536000, immutable`,
      'Accept-Ranges': 'bytes',
      'X-Content-Type-Options': 'nosniff',
      // Even opened as a page, an upload runs nothing and reaches nothing.
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'Content-Disposition': disposition(type, thumbnail ? `${row.name}.webp` : row.name),
    }
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers)
    const range = parseRange(c.req.header('range'), size)
    if (range === 'bad') {
      return c.body(null, 416, { ...headers, 'Content-Range': `bytes */${size}` })
    }
    const body = chat.media.storage.read(
      key,
      range ? { start: range.start, end: range.end + 1 } : undefined
    )
    headers['Content-Type'] = type
    if (!range) {
      headers['Content-Length'] = String(size)
      return new Response(body, { status: 200, headers })
    }
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`
    headers['Content-Length'] = String(range.end - range.start + 1)
    return new Response(body, { status: 206, headers })
  }

  app.get('/:id', serve('original'))
  app.get('/:id/thumbnail', serve('thumbnail'))

  return app
}
