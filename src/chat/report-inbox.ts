/**
 * @module Report inbox: opens a report on a city message — a user's, or the word filter's flag —
 * and tells the city's online moderators (`report-created`, on every node). Reports are read and
 * resolved in chat/reports.ts.
 */
import type { Db } from '../store/db.ts'
import { newId } from '../store/ids.ts'
import * as store from '../store/reports.ts'
import type { ReportRow } from '../store/schema.ts'
import type { Moderation } from './moderation.ts'
import type { Roles } from './roles.ts'

export function createReportInbox({
  db,
  roles,
  moderation,
}: {
  db: Db
  roles: Roles
  moderation: Moderation
}) {
  /** The new report, or undefined when this reporter already reported the message. */
  async function openReport(input: {
    messageId: string
    cityId: string
    reporterId: string | null
    reason: string
  }): Promise<ReportRow | undefined> {
    const now = Date.now()
    const report: ReportRow = {
      id: newId(now),
      ...input,
      status: 'open',
      action: null,
      resolvedBy: null,
      resolvedAt: null,
      createdAt: now,
    }
    if (!(await store.insertReport(db, report))) return undefined
    const moderators = await roles.moderatorIdsOf(input.cityId)
    moderation.outlet().reportCreated(moderators, {
      reportId: report.id,
      messageId: input.messageId,
      cityId: input.cityId,
    })
    return report
  }

  return { openReport }
}

export type ReportInbox = ReturnType<typeof createReportInbox>
