/** @module /api/users: search, look up by id or username, update or deactivate your own profile. */

import type { Context } from 'hono'
import { Hono } from 'hono'
import { type AccountExportRow, exportView } from '../../chat/account-export.ts'
import { erasureView } from '../../chat/erasure.ts'
import {
  deleteMeBody,
  exportIdParam,
  updateMeBody,
  userIdParam,
  userRefParam,
  userSearchQuery,
} from '../../chat/inputs.ts'
import type { ChatNotices } from '../../chat/notices.ts'
import type { Chat } from '../../chat/service.ts'
import { publicUserView, userView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readUpload } from '../upload.ts'
import { readBody, readParams, readQuery } from '../validate.ts'

export function userRoutes(chat: Chat, notices: ChatNotices) {
  const app = new Hono<AppEnv>()
  app.use('*', requireUser(chat))

  app.get('/', async (c) => {
    const query = readQuery(c, userSearchQuery)
    if (!query.ok) return sendError(c, query.error)
    const users = await chat.searchUsers(query.value.search, query.value.limit)
    if (!users.ok) return sendError(c, users.error)
    return c.json({ users: users.value.map(publicUserView) })
  })

  app.get('/me', (c) => c.json({ user: userView(c.get('user')) }))

  app.get('/me/blocks', async (c) => {
    const blocks = await chat.listBlocks(c.get('user'))
    if (!blocks.ok) return sendError(c, blocks.error)
    return c.json({
      blocks: blocks.value.map(({ user, at }) => ({
        user: publicUserView(user),
        created_at: new Date(at).toISOString(),
      })),
    })
  })

  for (const [method, on] of [
    ['put', true],
    ['delete', false],
  ] as const) {
    app[method]('/me/blocks/:userId', async (c) => {
      const params = readParams(c, userIdParam)
      if (!params.ok) return sendError(c, params.error)
      const done = await chat.block(c.get('user'), params.value.userId, on)
      if (!done.ok) return sendError(c, done.error)
      return c.body(null, 204)
    })
  }

  app.patch('/me', async (c) => {
    const body = await readBody(c, updateMeBody)
    if (!body.ok) return sendError(c, body.error)
    const user = await chat.updateProfile(c.get('user'), body.value)
    if (!user.ok) return sendError(c, user.error)
    return c.json({ user: userView(user.value) })
  })

  /** multipart `file`: stored as a square avatar in two sizes, and made the profile photo. */
  app.put('/me/photo', async (c) => {
    const form = await readUpload(c, chat.media)
    if (!form.ok) return sendError(c, form.error)
    const user = await chat.media.setProfilePhoto(c.get('user'), form.value.file)
    if (!user.ok) return sendError(c, user.error)
    return c.json({ user: userView(user.value) })
  })

  /** Starts a data export: 202 with its state; 409 while one is being made. */
  app.post('/me/export', async (c) => {
    const started = await chat.exports.requestExport(c.get('user'))
    if (!started.ok) return sendError(c, started.error)
    return c.json({ export: exportView(started.value) }, 202)
  })

  /** The newest export: the archive once ready, else its state (202 while it is being made). */
  app.get('/me/export', async (c) => {
    const found = await chat.exports.findExport(c.get('user'))
    if (!found.ok) return sendError(c, found.error)
    return exportAnswer(c, found.value)
  })

  app.get('/me/export/:exportId', async (c) => {
    const params = readParams(c, exportIdParam)
    if (!params.ok) return sendError(c, params.error)
    const found = await chat.exports.findExport(c.get('user'), params.value.exportId)
    if (!found.ok) return sendError(c, found.error)
    return exportAnswer(c, found.value)
  })

  function exportAnswer(c: Context<AppEnv>, row: AccountExportRow) {
    if (row.state !== 'ready')
      return c.json({ export: exportView(row) }, row.state === 'running' ? 202 : 200)
    return new Response(chat.exports.readArchive(row), {
      headers: {
        'content-type': 'application/x-ndjson; charset=utf-8',
        'content-disposition': `attachment; filename="export-${row.id}.ndjson"`,
        'content-length': String(row.bytes),
        'cache-control': 'private, no-store',
        'x-content-type-options': 'nosniff',
        'x-export-id': row.id,
      },
    })
  }

  /**
   * No body: deactivates, as ever. `{ password, erase: true }`: erases (202 with its state; the
   * messages go in the background, the sockets close at once on every node).
   */
  app.delete('/me', async (c) => {
    const body = await readBody(c, deleteMeBody)
    if (!body.ok) return sendError(c, body.error)
    const user = c.get('user')
    if (body.value.erase === true) {
      const erased = await chat.erasure.eraseOwnAccount(user, body.value.password ?? '')
      if (!erased.ok) return sendError(c, erased.error)
      return c.json({ erasure: erasureView(erased.value) }, 202)
    }
    await chat.deactivateAccount(user)
    // Its live sockets close now, not when their access tokens would have expired.
    notices.userDeactivated(user.id)
    return c.body(null, 204)
  })

  app.get('/:userId', async (c) => {
    const params = readParams(c, userRefParam)
    if (!params.ok) return sendError(c, params.error)
    const user = await chat.getUser(params.value.userId)
    if (!user.ok) return sendError(c, user.error)
    const lastSeen = chat.lastSeen.of(user.value)
    return c.json({
      user: {
        ...publicUserView(user.value),
        last_seen: lastSeen === null ? null : new Date(lastSeen).toISOString(),
      },
    })
  })

  return app
}
