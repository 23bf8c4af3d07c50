/** @module /api/search: message search over the rooms the caller may read (docs/search.md). */
import { Hono } from 'hono'
import { messageSearchQuery } from '../../chat/inputs.ts'
import type { Chat } from '../../chat/service.ts'
import { searchResultView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readQuery } from '../validate.ts'

export function searchRoutes(chat: Chat) {
  const app = new Hono<AppEnv>()
  app.use('*', requireUser(chat))

  /** GET /api/search?q=&cityId=|chatId=&from=&before=&limit= → `{ results, next }` */
  app.get('/', async (c) => {
    const query = readQuery(c, messageSearchQuery)
    if (!query.ok) return sendError(c, query.error)
    const page = await chat.searchMessages(c.get('user'), query.value)
    if (!page.ok) return sendError(c, page.error)
    return c.json({ results: page.value.results.map(searchResultView), next: page.value.next })
  })

  return app
}
