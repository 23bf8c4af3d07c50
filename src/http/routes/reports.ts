/** @module /api/reports: moderators list the open reports of their cities and resolve them. */
import { Hono } from 'hono'
import { reportIdParam, reportsQuery, resolveReportBody } from '../../chat/inputs.ts'
import type { Chat } from '../../chat/service.ts'
import { reportView } from '../../chat/views.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readBody, readParams, readQuery } from '../validate.ts'

export function reportRoutes(chat: Chat) {
  const app = new Hono<AppEnv>()
  app.use('*', requireUser(chat))

  app.get('/', async (c) => {
    const query = readQuery(c, reportsQuery)
    if (!query.ok) return sendError(c, query.error)
    const list = await chat.listReports(c.get('user'), query.value.status, query.value.limit)
    if (!list.ok) return sendError(c, list.error)
    return c.json({ reports: list.value.map(({ report, message }) => reportView(report, message)) })
  })

  app.patch('/:reportId', async (c) => {
    const params = readParams(c, reportIdParam)
    if (!params.ok) return sendError(c, params.error)
    const body = await readBody(c, resolveReportBody)
    if (!body.ok) return sendError(c, body.error)
    const report = await chat.resolveReport(c.get('user'), params.value.reportId, body.value)
    if (!report.ok) return sendError(c, report.error)
    return c.json({ report: reportView(report.value) })
  })

  return app
}
