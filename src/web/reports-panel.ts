/** @module Reports page for moderators: the open reports of their cities (admins: of private chats too), each resolved in place. */
import { openReports, resolveReport } from './api.ts'
import { byId, el } from './dom.ts'

const ACTIONS: Array<[label: string, status: string, action?: string]> = [
  ['Dismiss', 'dismissed'],
  ['Delete message', 'actioned', 'delete'],
  ['Ban author', 'actioned', 'ban'],
  ['Mute author', 'actioned', 'mute'],
]

/** @example showReportsPanel(toast) */
export async function showReportsPanel(toast: (text: string) => void): Promise<void> {
  const panel = byId('reports')
  const list = byId('report-list')
  panel.hidden = false
  const reports = await openReports()
  if (!reports.ok) {
    list.replaceChildren(el('li', {}, reports.error.message))
    return
  }
  if (reports.value.length === 0) list.replaceChildren(el('li', {}, 'No open reports.'))
  else
    list.replaceChildren(
      ...reports.value.map((report) =>
        el(
          'li',
          { 'data-testid': 'report', 'data-report-id': report._id },
          el('strong', {}, `${report.cityId ?? 'Private chat'}: `),
          el(
            'span',
            { 'data-testid': 'report-message' },
            report.message
              ? `${report.message.sender_id.username}: ${report.message.content}`
              : report.messageId
          ),
          el('em', {}, ` (${report.reason}) `),
          // Ban and mute are city restrictions: a private chat's report takes delete or nothing.
          ...ACTIONS.filter(([, , action]) => report.cityId || !action || action === 'delete').map(
            ([label, status, action]) => {
              const button = el(
                'button',
                { type: 'button', 'data-testid': `resolve-${action ?? status}` },
                label
              )
              button.addEventListener('click', () => {
                void resolveReport(report._id, status, action).then((res) => {
                  toast(res.ok ? `Report ${status}` : res.error.message)
                  if (res.ok) void showReportsPanel(toast)
                })
              })
              return button
            }
          )
        )
      )
    )
}
