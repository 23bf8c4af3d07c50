/**
 * @module The notification list in the web client: the top bar's bell with my unread count (from
 * `GET /api/notifications`), the list newest first (room, sender, a preview), a click opens the
 * room at the message, "Mark all read" (`POST /api/notifications/read`), and each live
 * `notification` event adds to it.
 */
import { listNotifications, markNotificationsRead } from './api.ts'
import { byId, el, timeOf } from './dom.ts'
import type { FeedNotification } from './types.ts'

export interface NotificationsPanelOptions {
  /** The title of the notification's room (a city's name, a chat's title). */
  roomTitle(notification: FeedNotification): string
  /** Opens the room, at the message when there is one. */
  open(notification: FeedNotification): void
  toast(text: string): void
}

const REASON: Record<string, string> = {
  mention: 'mentioned you',
  reply: 'replied to you',
  message: 'wrote',
  added: 'added you to the chat',
}
const PREVIEW = 120

/** @example const panel = createNotificationsPanel({ roomTitle, open, toast }); panel.add(n) */
export function createNotificationsPanel(options: NotificationsPanelOptions) {
  const bell = byId<HTMLButtonElement>('open-notifications')
  const count = byId('notification-count')
  const panel = byId('notifications-panel')
  const list = byId('notification-list')
  const status = byId('notifications-status')
  const markAll = byId<HTMLButtonElement>('mark-all-read')
  /** Newest first, as the server lists them. */
  let items: FeedNotification[] = []
  let unread = 0

  function showCount(): void {
    count.textContent = unread > 99 ? '99+' : String(unread)
    count.hidden = unread === 0
    bell.setAttribute(
      'aria-label',
      unread === 0 ? 'Notifications' : `Notifications, ${unread} unread`
    )
    markAll.disabled = unread === 0
  }

  function item(n: FeedNotification): HTMLElement {
    const sender = n.message
      ? n.message.sender_id.full_name || n.message.sender_id.username
      : 'Someone'
    const preview = n.message
      ? n.message.content.length > PREVIEW
        ? `${n.message.content.slice(0, PREVIEW)}…`
        : n.message.content || '(attachment)'
      : ''
    const button = el(
      'button',
      {
        type: 'button',
        class: n.read ? 'notification-item' : 'notification-item unread',
        'data-testid': 'notification-item',
        'data-notification-id': n._id,
      },
      el(
        'span',
        { class: 'notification-room', 'data-testid': 'notification-room' },
        options.roomTitle(n)
      ),
      el(
        'span',
        { class: 'notification-meta', 'data-testid': 'notification-sender' },
        ` ${sender} ${REASON[n.kind] ?? ''} · ${timeOf(n.created_at)}`
      ),
      preview &&
        el(
          'span',
          { class: 'notification-preview', 'data-testid': 'notification-preview' },
          preview
        )
    )
    button.addEventListener('click', () => {
      hide()
      options.open(n)
    })
    return el('li', {}, button)
  }

  function render(): void {
    list.replaceChildren(...items.map(item))
    status.textContent = items.length === 0 ? 'No notifications yet.' : ''
    showCount()
  }

  function hide(): void {
    panel.hidden = true
    bell.setAttribute('aria-expanded', 'false')
  }

  async function load(): Promise<void> {
    const page = await listNotifications()
    if (!page.ok) {
      status.textContent = page.error.message
      return
    }
    items = page.value.notifications
    unread = page.value.unreadCount
    render()
  }

  bell.addEventListener('click', () => {
    const opening = panel.hidden
    panel.hidden = !opening
    bell.setAttribute('aria-expanded', String(opening))
    if (opening) void load()
  })
  byId('close-notifications').addEventListener('click', () => {
    hide()
    bell.focus()
  })
  markAll.addEventListener('click', () => {
    const newest = items[0]
    if (!newest) return
    void markNotificationsRead(newest._id).then((res) => {
      if (!res.ok) return options.toast(res.error.message)
      items = items.map((n) => ({ ...n, read: true }))
      unread = res.value.unreadCount
      render()
    })
  })

  return {
    /** The count and the list from the server (sign-in, reconnect). */
    load,
    /** A live `notification`: newest first, counted unread. */
    add(n: FeedNotification): void {
      if (items.some((known) => known._id === n._id)) return
      items = [n, ...items]
      if (!n.read) unread += 1
      render()
    },
  }
}
