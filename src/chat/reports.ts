/**
 * @module Reports: any user reports a message they can see, once — in a city or in a private
 * chat they are a member of. A city's moderators list the open reports of their cities and
 * resolve each — dismissed, or actioned with a delete, a ban or a mute of the author, which is
 * carried out here and audited. A private chat has no moderators: admins read and resolve its
 * reports (dismissed, or actioned with a delete; ban and mute are city restrictions).
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Db } from '../store/db.ts'
import { findMessageById, type MessageWithAuthor } from '../store/messages.ts'
import * as store from '../store/reports.ts'
import type { ReportRow, ReportStatus, UserRow } from '../store/schema.ts'
import type { Audit } from './audit.ts'
import type { createMessages } from './messages.ts'
import type { Moderation } from './moderation.ts'
import type { ReportInbox } from './report-inbox.ts'
import { isAdmin, type Roles } from './roles.ts'
import { roomOfMessage } from './rooms.ts'

export type ReportAction = 'delete' | 'ban' | 'mute'

interface Deps {
  db: Db
  roles: Roles
  moderation: Moderation
  audit: Audit
  inbox: ReportInbox
  messages: ReturnType<typeof createMessages>
}

export interface ReportDetails {
  report: ReportRow
  message: MessageWithAuthor | undefined
}

export function createReports({ db, roles, moderation, audit, inbox, messages }: Deps) {
  async function reportMessage(
    actor: UserRow,
    messageId: string,
    reason: string
  ): Promise<Result<ReportRow>> {
    const message = await messages.findVisibleMessage(actor, messageId)
    if (!message.ok) return message
    if (message.value.authorId === actor.id)
      return fail('invalid_input', 'you cannot report your own message')
    const report = await inbox.openReport({
      messageId,
      room: roomOfMessage(message.value),
      reporterId: actor.id,
      reason,
    })
    return report ? ok(report) : fail('conflict', 'you already reported this message')
  }

  /**
   * Reports with this status in the cities the actor moderates (every city's, for global
   * moderators), and for admins those of private chats too.
   */
  async function listReports(
    actor: UserRow,
    status: ReportStatus,
    limit: number
  ): Promise<Result<ReportDetails[]>> {
    const cities = roles.moderatedCities(actor)
    if (cities !== 'all' && cities.length === 0)
      return fail('forbidden', 'only moderators read reports')
    const scope = isAdmin(actor) ? 'everything' : cities === 'all' ? 'cities' : cities
    const rows = await store.listReports(db, status, scope, limit)
    return ok(
      await Promise.all(
        rows.map(async (report) => ({
          report,
          message: await findMessageById(db, report.messageId),
        }))
      )
    )
  }

  async function resolveReport(
    actor: UserRow,
    reportId: string,
    input: { status: 'dismissed' | 'actioned'; action?: ReportAction | undefined }
  ): Promise<Result<ReportRow>> {
    const report = await store.findReport(db, reportId)
    if (!report || !mayResolve(actor, report)) return fail('not_found', 'no such report')
    if (report.status !== 'open') return fail('conflict', 'this report is already resolved')
    if (input.status === 'dismissed' && input.action)
      return fail('invalid_input', 'a dismissed report takes no action')
    if (report.cityId === null && (input.action === 'ban' || input.action === 'mute'))
      return fail(
        'invalid_input',
        'ban and mute are city restrictions: a private-chat report takes delete or no action'
      )
    if (input.action) {
      const done = await carryOut(actor, report, input.action)
      if (!done.ok) return done
    }
    const resolved = {
      status: input.status,
      action: input.action ?? null,
      resolvedBy: actor.id,
      resolvedAt: Date.now(),
    }
    if (!(await store.resolveReport(db, reportId, resolved)))
      return fail('conflict', 'this report is already resolved')
    await audit.record({
      actor,
      action: 'report.resolve',
      cityId: report.cityId,
      messageId: report.messageId,
      reason: report.reason,
      details: {
        reportId,
        status: input.status,
        action: input.action ?? null,
        ...(report.chatId !== null ? { chatId: report.chatId } : {}),
      },
    })
    return ok({ ...report, ...resolved })
  }

  /** A city's report: its moderators; a private chat's: admins. */
  const mayResolve = (actor: UserRow, report: ReportRow): boolean =>
    report.cityId !== null ? roles.moderates(actor, report.cityId) : isAdmin(actor)

  async function carryOut(
    actor: UserRow,
    report: ReportRow,
    action: ReportAction
  ): Promise<Result<unknown>> {
    if (action === 'delete') return messages.deleteReported(actor, report.messageId, report.reason)
    const message = await findMessageById(db, report.messageId)
    if (!message || report.cityId === null) return fail('not_found', 'the reported message is gone')
    return moderation.restrict(actor, report.cityId, {
      userId: message.authorId,
      kind: action,
      reason: `report: ${report.reason}`,
    })
  }

  return { reportMessage, listReports, resolveReport }
}
