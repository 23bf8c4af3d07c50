/** @module Message log: renders one room's messages in id order, reconciles optimistic sends, receipts. */
import { attachmentElement } from './attachments.ts'
import { el, initials, safeUrl, timeOf } from './dom.ts'
import type { Message, PublicUser } from './types.ts'

type Receipt = 'pending' | 'sent' | 'read' | 'failed'

export interface MessageListOptions {
  container: HTMLElement
  me: PublicUser
  /** Private chats show ✓✓ once another member's read position passes the message. */
  isRead: (message: Message) => boolean
  onEdit: (message: Message, content: string) => void
  onDelete: (message: Message) => void
  /** Others' messages can be reported (city and private-chat rooms). */
  onReport?: ((message: Message) => void) | undefined
  /** City rooms the user moderates: delete, ban, mute or shadow on others' messages. */
  onModerate?:
    | ((message: Message, action: 'delete' | 'ban' | 'mute' | 'shadow') => void)
    | undefined
  /** Blocks: whether a sender is blocked, and Block / Unblock in their messages' menu. */
  blocked?: ((userId: string) => boolean) | undefined
  onBlock?: ((message: Message, on: boolean) => void) | undefined
  /** A message kept out of sight (a blocked user's, in a city): rendered, but hidden. */
  hidden?: ((message: Message) => boolean) | undefined
  /** How many messages of blocked users the list holds now (hidden or shown), after each change. */
  onBlockedCount?: ((count: number) => void) | undefined
  /** Adds (`add`) or takes back the user's emoji on a message. */
  onReact: (message: Message, emoji: string, add: boolean) => void
  /** Opens the message's thread (absent in the thread panel itself). */
  onThread?: ((message: Message) => void) | undefined
  /** Rooms where the user may pin (city moderators, chat owners and admins). */
  onPin?: ((message: Message) => void) | undefined
}

/** A `*-message-reaction` event. */
export interface ReactionEvent {
  messageId: string
  emoji: string
  userId: string
  action: 'add' | 'remove'
  count: number
}

/** A `*-message-thread-updated` event. */
export interface ThreadEvent {
  messageId: string
  reply_count: number
  last_reply_at: string
}

/** The picker's choices (any emoji works; these are one click away). */
const PICKER = ['👍', '❤️', '😂', '🎉', '🔥', '👀', '🙏', '✅']

/** The message's reactions after one event: counts from the server, our own userIds list. */
function withReaction(message: Message, event: ReactionEvent): Message {
  const others = message.reactions.filter((r) => r.emoji !== event.emoji)
  const had = message.reactions.find((r) => r.emoji === event.emoji)
  const ids = (had?.userIds ?? []).filter((id) => id !== event.userId)
  if (event.action === 'add' && ids.length < 10) ids.push(event.userId)
  const next =
    event.count > 0 ? [...others, { emoji: event.emoji, count: event.count, userIds: ids }] : others
  // Most first; a new emoji goes after those with as many.
  const order = message.reactions.map((r) => r.emoji)
  const rank = (emoji: string) => (order.includes(emoji) ? order.indexOf(emoji) : order.length)
  next.sort((a, b) => b.count - a.count || rank(a.emoji) - rank(b.emoji))
  return { ...message, reactions: next }
}

export interface MessageList {
  upsert(message: Message): void
  markDeleted(messageId: string): void
  addPending(clientId: string, content: string): void
  failPending(clientId: string, reason: string, retry: () => void): void
  prepend(messages: Message[]): void
  has(messageId: string): boolean
  firstId(): string | null
  lastId(): string | null
  refreshReceipts(): void
  /** Renders every message again (the blocked list or what is hidden changed). */
  rerender(): void
  scrollToEnd(): void
  /** Scrolls to a message and marks it (a search result opened here); false if not loaded. */
  focus(messageId: string): boolean
  get(messageId: string): Message | undefined
  applyReaction(event: ReactionEvent): void
  applyThread(event: ThreadEvent): void
  /** Removes the click listener; the next room gets a fresh list. */
  destroy(): void
}

/** Messages whose ids compare in time order (contract.md: ids are time-sortable strings). */
export const idBefore = (a: string, b: string) =>
  a.length === b.length ? a < b : a.length < b.length

export function createMessageList(options: MessageListOptions): MessageList {
  const { container, me } = options
  const byId = new Map<string, Message>()
  /** Confirmed ids, ascending; pending messages always sit after them at the bottom. */
  const order: string[] = []

  const node = (id: string) => container.querySelector<HTMLElement>(`[data-id="${CSS.escape(id)}"]`)
  const pendingNode = (clientId: string) =>
    container.querySelector<HTMLElement>(`[data-client-id="${CSS.escape(clientId)}"]`)
  const nearBottom = () =>
    container.scrollHeight - container.scrollTop - container.clientHeight < 80

  function receiptOf(message: Message): Receipt {
    return options.isRead(message) ? 'read' : 'sent'
  }

  function render(message: Message, receipt: Receipt | null): HTMLElement {
    const mine = message.sender_id._id === me._id
    const author = message.sender_id.full_name || message.sender_id.username
    const body = message.is_deleted
      ? el('p', { class: 'content deleted', 'data-testid': 'message-content' }, 'Message deleted')
      : el('p', { class: 'content', 'data-testid': 'message-content' }, message.content)
    const media = safeUrl(message.is_deleted ? null : message.media_url)
    const button = (action: string, label: string) =>
      el('button', { type: 'button', 'data-action': action, 'data-testid': action }, label)
    const theirs = !mine && !message.is_deleted
    const blocked = !mine && (options.blocked?.(message.sender_id._id) ?? false)
    const moderation = theirs
      ? el(
          'span',
          { class: 'actions' },
          options.onReport ? button('report', 'Report') : null,
          options.onBlock
            ? blocked
              ? button('unblock', 'Unblock')
              : button('block', 'Block')
            : null,
          ...(options.onModerate
            ? [
                button('mod-delete', 'Delete'),
                button('mod-ban', 'Ban'),
                button('mod-mute', 'Mute'),
                button('mod-shadow', 'Shadow'),
              ]
            : [])
        )
      : null
    const actions =
      mine && !message.is_deleted && receipt !== 'pending' && receipt !== 'failed'
        ? el(
            'span',
            { class: 'actions' },
            el('button', { type: 'button', 'data-action': 'edit', 'data-testid': 'edit' }, 'Edit'),
            el(
              'button',
              { type: 'button', 'data-action': 'delete', 'data-testid': 'delete' },
              'Delete'
            )
          )
        : null
    const settled = receipt !== 'pending' && receipt !== 'failed' && !message.is_deleted
    const reactions = settled
      ? el(
          'div',
          { class: 'reactions', 'data-testid': 'reactions' },
          ...message.reactions.map((r) => {
            const own = r.userIds.includes(me._id)
            return el(
              'button',
              {
                type: 'button',
                class: own ? 'reaction mine' : 'reaction',
                'data-action': 'toggle-reaction',
                'data-emoji': r.emoji,
                'data-testid': 'reaction',
                'data-mine': own ? 'true' : null,
                'aria-pressed': own ? 'true' : 'false',
                'aria-label': `${r.emoji} ${r.count}${own ? ', yours' : ''}`,
              },
              r.emoji,
              el('span', { class: 'count', 'data-testid': 'reaction-count' }, String(r.count))
            )
          }),
          button('react', '☺+'),
          options.onThread
            ? button(
                'thread',
                message.reply_count > 0
                  ? `${message.reply_count} ${message.reply_count === 1 ? 'reply' : 'replies'}`
                  : 'Reply'
              )
            : null,
          options.onPin ? button('pin', 'Pin') : null
        )
      : null
    return el(
      'div',
      {
        class: `msg${mine ? ' mine' : ''}`,
        'data-testid': 'message',
        'data-id': receipt === 'pending' || receipt === 'failed' ? null : message._id,
        'data-client-id': message.clientId ?? null,
        'data-status': mine ? receipt : null,
        'data-deleted': message.is_deleted ? 'true' : null,
        'data-blocked': blocked ? (options.hidden?.(message) ? 'hidden' : 'shown') : null,
        hidden: blocked && (options.hidden?.(message) ?? false),
      },
      el('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(author)),
      el(
        'div',
        { class: 'bubble' },
        el(
          'div',
          { class: 'meta' },
          el('span', { class: 'author', 'data-testid': 'message-author' }, author),
          ' ',
          el('time', { datetime: message.created_at }, timeOf(message.created_at)),
          message.is_edited && !message.is_deleted
            ? el('span', { class: 'edited', 'data-testid': 'edited' }, ' (edited)')
            : null
        ),
        message.content || !message.attachment ? body : null,
        message.attachment && !message.is_deleted
          ? attachmentElement(message.attachment)
          : media
            ? el('a', { href: media, target: '_blank', rel: 'noopener noreferrer' }, media)
            : null,
        reactions,
        el(
          'div',
          { class: 'foot' },
          actions,
          moderation,
          mine && receipt ? receiptBadge(receipt) : null
        )
      )
    )
  }

  function place(message: Message, fresh: HTMLElement): void {
    const index = order.findIndex((id) => idBefore(message._id, id))
    const next = index === -1 ? null : node(order[index] ?? '')
    if (next) container.insertBefore(fresh, next)
    else {
      const firstPending = container.querySelector(
        '[data-status="pending"], [data-status="failed"]'
      )
      container.insertBefore(fresh, firstPending)
    }
    order.splice(index === -1 ? order.length : index, 0, message._id)
  }

  function upsert(message: Message): void {
    const stick = nearBottom() || message.sender_id._id === me._id
    const existing = node(message._id)
    const pending = message.clientId ? pendingNode(message.clientId) : null
    const mine = message.sender_id._id === me._id
    const fresh = render(message, mine ? receiptOf(message) : null)
    byId.set(message._id, message)
    if (existing) {
      existing.replaceWith(fresh)
      pending?.remove() // the ack and the broadcast both confirm: keep one copy
    } else {
      pending?.remove()
      place(message, fresh)
    }
    if (stick) scrollToEnd()
    countBlocked()
  }

  let blockedCount = -1
  function countBlocked(): void {
    if (!options.onBlockedCount) return
    const count = container.querySelectorAll('[data-blocked]').length
    if (count === blockedCount) return
    blockedCount = count
    options.onBlockedCount(count)
  }

  function scrollToEnd(): void {
    container.scrollTop = container.scrollHeight
  }

  function onClick(event: Event): void {
    const button = (event.target as HTMLElement).closest<HTMLElement>('[data-action]')
    const id = button?.closest<HTMLElement>('[data-id]')?.dataset.id
    const message = id ? byId.get(id) : undefined
    if (!button || !message) return
    const action = button.dataset.action ?? ''
    const emoji = button.dataset.emoji ?? ''
    if (action === 'toggle-reaction') return options.onReact(message, emoji, !button.dataset.mine)
    if (action === 'pick') {
      button.closest('.picker')?.remove()
      return options.onReact(message, emoji, true)
    }
    if (action === 'react') return togglePicker(button)
    if (action === 'thread') return options.onThread?.(message)
    if (action === 'pin') return options.onPin?.(message)
    if (action === 'report') return options.onReport?.(message)
    if (action === 'block' || action === 'unblock')
      return options.onBlock?.(message, action === 'block')
    if (action.startsWith('mod-')) {
      const what = action.slice(4) as 'delete' | 'ban' | 'mute' | 'shadow'
      return options.onModerate?.(message, what)
    }
    if (button.dataset.action === 'delete') {
      if (confirm('Delete this message for everyone?')) options.onDelete(message)
    } else if (button.dataset.action === 'edit') startEdit(message)
  }

  /** The emoji picker under a message's reactions; a second click closes it. */
  function togglePicker(button: HTMLElement): void {
    const row = button.closest('.reactions')
    const open = row?.querySelector('.picker')
    if (open) return open.remove()
    row?.append(
      el(
        'div',
        {
          class: 'picker',
          role: 'group',
          'aria-label': 'Pick a reaction',
          'data-testid': 'reaction-picker',
        },
        ...PICKER.map((emoji) =>
          el(
            'button',
            { type: 'button', 'data-action': 'pick', 'data-emoji': emoji, 'data-testid': 'pick' },
            emoji
          )
        )
      )
    )
  }

  /** Inline editor: Enter saves, Escape cancels; the broadcast re-renders the message. */
  function startEdit(message: Message): void {
    const target = node(message._id)
    const content = target?.querySelector('.content')
    if (!target || !content) return
    const input = el('input', {
      type: 'text',
      value: message.content,
      'aria-label': 'Edit message',
      'data-testid': 'edit-input',
      maxlength: 4000,
    })
    const form = el(
      'form',
      { class: 'edit-form' },
      input,
      el('button', { type: 'submit', 'data-testid': 'edit-save' }, 'Save'),
      el('button', { type: 'button', 'data-testid': 'edit-cancel' }, 'Cancel')
    )
    const restore = () => form.replaceWith(content)
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      const next = input.value.trim()
      restore()
      if (next && next !== message.content) options.onEdit(message, next)
    })
    form.querySelector('[data-testid="edit-cancel"]')?.addEventListener('click', restore)
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') restore()
    })
    content.replaceWith(form)
    input.focus()
  }

  container.addEventListener('click', onClick)

  return {
    upsert,
    destroy: () => container.removeEventListener('click', onClick),
    markDeleted(messageId) {
      const message = byId.get(messageId)
      if (message) upsert({ ...message, is_deleted: true, content: '', media_url: null })
    },
    addPending(clientId, content) {
      const now = new Date().toISOString()
      const draft: Message = {
        _id: `pending-${clientId}`,
        clientId,
        sender_id: me,
        content,
        message_type: 'text',
        media_url: null,
        reply_to: null,
        mentions: [],
        reactions: [],
        reply_count: 0,
        last_reply_at: null,
        is_edited: false,
        is_deleted: false,
        created_at: now,
        edited_at: null,
      }
      container.append(render(draft, 'pending'))
      scrollToEnd()
    },
    failPending(clientId, reason, retry) {
      const target = pendingNode(clientId)
      if (!target || target.dataset.id) return
      target.dataset.status = 'failed'
      const foot = target.querySelector('.foot')
      foot?.replaceChildren(
        receiptBadge('failed'),
        el('span', { class: 'error', 'data-testid': 'send-error' }, ` ${reason} `),
        el('button', { type: 'button', 'data-testid': 'retry' }, 'Retry')
      )
      foot?.querySelector('button')?.addEventListener('click', () => {
        target.dataset.status = 'pending'
        foot.replaceChildren(receiptBadge('pending'))
        retry()
      })
    },
    prepend(messages) {
      // Keep the reader's viewport still while older history is inserted above it.
      const fromBottom = container.scrollHeight - container.scrollTop
      for (const message of messages) if (!byId.has(message._id)) upsertQuiet(message)
      container.scrollTop = container.scrollHeight - fromBottom
      countBlocked()
    },
    has: (messageId) => byId.has(messageId),
    firstId: () => order[0] ?? null,
    lastId: () => order[order.length - 1] ?? null,
    rerender() {
      for (const id of order) {
        const message = byId.get(id)
        const target = node(id)
        if (!message || !target) continue
        const mine = message.sender_id._id === me._id
        target.replaceWith(render(message, mine ? receiptOf(message) : null))
      }
      countBlocked()
    },
    refreshReceipts() {
      for (const id of order) {
        const message = byId.get(id)
        const target = node(id)
        if (!message || !target || message.sender_id._id !== me._id) continue
        const receipt = receiptOf(message)
        if (target.dataset.status === receipt) continue
        target.dataset.status = receipt
        target.querySelector('.receipt')?.replaceWith(receiptBadge(receipt))
      }
    },
    scrollToEnd,
    focus(messageId) {
      const target = node(messageId)
      if (!target) return false
      for (const old of container.querySelectorAll('.msg.focused')) old.classList.remove('focused')
      target.classList.add('focused')
      target.scrollIntoView({ block: 'center' })
      return true
    },
    get: (messageId) => byId.get(messageId),
    applyReaction(event) {
      const message = byId.get(event.messageId)
      if (message) replaceOne(withReaction(message, event))
    },
    applyThread(event) {
      const message = byId.get(event.messageId)
      if (message)
        replaceOne({
          ...message,
          reply_count: event.reply_count,
          last_reply_at: event.last_reply_at,
        })
    },
  }

  /** A changed message in place, without moving the reader's scroll position. */
  function replaceOne(message: Message): void {
    const target = node(message._id)
    byId.set(message._id, message)
    const mine = message.sender_id._id === me._id
    target?.replaceWith(render(message, mine ? receiptOf(message) : null))
  }

  function upsertQuiet(message: Message): void {
    const mine = message.sender_id._id === me._id
    byId.set(message._id, message)
    place(message, render(message, mine ? receiptOf(message) : null))
  }
}

const RECEIPTS: Record<Receipt, [string, string]> = {
  pending: ['…', 'Sending'],
  sent: ['✓', 'Sent'],
  read: ['✓✓', 'Read'],
  failed: ['!', 'Not sent'],
}

function receiptBadge(receipt: Receipt): HTMLElement {
  const [mark, label] = RECEIPTS[receipt]
  return el(
    'span',
    { class: `receipt ${receipt}`, 'data-testid': 'receipt', title: label, 'aria-label': label },
    mark
  )
}
