/**
 * @module Report inbox: opens a report on a message — a user's, or the word filter's flag — and
 * tells whoever resolves it, live on every node (`report-created`): for a city message its
 * online moderators, for a private-chat message the admins (a private chat has no moderators).
 * It is also a `report.created` webhook. Reports are read and resolved in chat/reports.ts.
 */
import type { Db } from '../store/db.ts'
import { newId } from '../store/ids.ts'
import * as store from '../store/reports.ts'
import type { ReportRow } from '../store/schema.ts'
import { listAdminIds } from '../store/users.ts'
import type { Moderation } from './moderation.ts'
import type { Roles } from './roles.ts'
import { type RoomRef, roomPayload } from './rooms.ts'
import { reportView } from './views.ts'
import type { Webhooks } from './webhooks.ts'

export function createReportInbox({
  db,
  roles,
  moderation,
  webhooks,
}: {
  db: Db
  roles: Roles
  moderation: Moderation
  /** `report.created` for the operator's moderation tools. */
  webhooks: Webhooks
}) {
  /** The new report, or undefined when this reporter already reported the message. */
  async function openReport(input: {
    messageId: string
    room: RoomRef
    reporterId: string | null
    reason: string
  }): Promise<ReportRow | undefined> {
    const now = Date.now()
    const { room, ...rest } = input
    const report: ReportRow = {
      id: newId(now),
      ...rest,
      cityId: room.kind === 'city' ? room.id : null,
      chatId: room.kind === 'chat' ? room.id : null,
      status: 'open',
      action: null,
      resolvedBy: null,
      resolvedAt: null,
      createdAt: now,
    }
    if (!(await store.insertReport(db, report))) return undefined
    const readers =
      room.kind === 'city' ? await roles.moderatorIdsOf(room.id) : await listAdminIds(db)
    moderation.outlet().reportCreated(readers, {
      reportId: report.id,
      messageId: input.messageId,
      ...roomPayload(room),
    })
    webhooks.emit('report.created', room, () => ({ report: reportView(report) }))
    return report
  }

  return { openReport }
}

export type ReportInbox = ReturnType<typeof createReportInbox>
