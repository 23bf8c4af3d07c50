/** @module One open room (city or private chat): history, live events, sending with acks, typing, receipts. */
import type { Socket } from 'socket.io-client'
import { history, type Pin, reportMessage, restrictUser } from './api.ts'
import type { Blocks } from './blocks.ts'
import { el, newClientId } from './dom.ts'
import {
  createMessageList,
  idBefore,
  type ReactionEvent,
  type ThreadEvent,
} from './message-list.ts'
import { createPinnedBar } from './pinned-bar.ts'
import type { ThreadPanel } from './thread-panel.ts'
import type { Ack, Member, Message, PublicUser, Room } from './types.ts'

/** The guide's event names per room kind; `key` is the payload field naming the room. */
const EVENTS = {
  city: {
    key: 'cityId',
    join: 'join-city-chat',
    leave: 'leave-city-chat',
    send: 'send-city-message',
    edit: 'edit-city-message',
    remove: 'delete-city-message',
    typing: 'city-typing',
    stopTyping: 'city-stop-typing',
    online: 'get-city-online-users',
  },
  chat: {
    key: 'chatId',
    join: 'join-private-chat',
    leave: 'leave-private-chat',
    send: 'send-private-message',
    edit: 'edit-private-message',
    remove: 'delete-private-message',
    typing: 'private-typing',
    stopTyping: 'private-stop-typing',
    online: 'get-chat-online-users',
  },
} as const

/** The guide's example stops typing after 3 s without input. */
const TYPING_IDLE_MS = 3000
/** A peer's typing state we never saw stopped disappears after this (contract: it expires). */
const TYPING_EXPIRE_MS = 6000
/** How long a send waits for its ack before the message offers a retry. */
const SEND_ACK_TIMEOUT_MS = 10_000
/** Bounded gap fill after a reconnect: at most this many pages of `?after=`. */
const MAX_RESYNC_PAGES = 20

interface RoomElements {
  log: HTMLElement
  typing: HTMLElement
  onlineCount: HTMLElement
  onlineList: HTMLElement
  older: HTMLButtonElement
  /** "N hidden messages from blocked users — Show" (city rooms). */
  blockedBar: HTMLElement
  blockedText: HTMLElement
  blockedToggle: HTMLButtonElement
}

export interface RoomOptions {
  socket: Socket
  me: PublicUser
  room: Room
  elements: RoomElements
  /** Private chats: members with their stored read positions. */
  members: Member[]
  toast: (message: string) => void
  /** A city this user moderates (its moderator, a global moderator, an admin): moderator actions. */
  moderator: boolean
  /** Who this user blocked: their messages are hidden in cities, until shown. */
  blocks: Blocks
  /** Why this user cannot send or stay here (a ban, a mute, an archive); null clears it. */
  notice: (text: string | null) => void
  /** The send button, which counts down slow mode. */
  sendButton: HTMLButtonElement
  /** Open at this message (a search result), with the history around it, instead of the end. */
  focusId?: string | null | undefined
  /** City moderators, chat owners and admins pin here. */
  canPin: boolean
  /** The thread side panel (one for the page; this room sends its replies). */
  thread: ThreadPanel
}

/** "until 14:05" or "until lifted", for a ban or a mute. */
function untilText(until: unknown): string {
  return typeof until === 'string' ? `until ${new Date(until).toLocaleString()}` : 'until lifted'
}

/** The line a banned or muted user sees, with why and until when. */
function restrictionNotice(code: string, details: Record<string, unknown> = {}): string | null {
  const reason = typeof details.reason === 'string' ? ` Reason: ${details.reason}.` : ''
  if (code === 'banned')
    return `You are banned from this city ${untilText(details.until)}.${reason}`
  if (code === 'muted') return `You are muted in this city ${untilText(details.until)}.${reason}`
  if (code === 'archived') return 'This city is archived: you can read its history only.'
  return null
}

export type RoomController = ReturnType<typeof openRoom>

interface OnlineUser {
  userId?: string
  _id?: string
  username?: string
  full_name?: string
}

export function openRoom(options: RoomOptions) {
  const { socket, me, room, elements } = options
  const names = EVENTS[room.kind]
  const target = { [names.key]: room.id }
  /** Other members' read positions: time and, when the server sends it, the last read id. */
  const readAt = new Map<string, number>()
  const readId = new Map<string, string>()
  function applyMembers(members: Member[]): void {
    for (const member of members) {
      if (member.userId === me._id) continue
      if (member.readAt) {
        const at = Date.parse(member.readAt)
        readAt.set(member.userId, Math.max(at, readAt.get(member.userId) ?? 0))
      }
      if (member.lastReadMessageId) readId.set(member.userId, member.lastReadMessageId)
    }
  }
  applyMembers(options.members)
  /** In a city, blocked users' messages stay hidden until the user asks to see them. */
  let showBlocked = false
  const list = createMessageList({
    container: elements.log,
    me,
    isRead: (message) => {
      const sent = Date.parse(message.created_at)
      for (const at of readAt.values()) if (at >= sent) return true
      for (const id of readId.values()) if (!idBefore(id, message._id)) return true
      return false
    },
    onEdit: (message, content) =>
      socket.emit(
        names.edit,
        { ...target, messageId: message._id, content },
        (ack: Ack<{ message: Message }>) => {
          if (closed) return
          if (ack?.ok && ack.message) list.upsert(ack.message)
          else if (ack && !ack.ok) options.toast(ack.error.message)
        }
      ),
    onDelete: (message) => remove(message),
    blocked: (userId) => options.blocks.has(userId),
    onBlock: (message, on) => void options.blocks.set(message.sender_id, on),
    hidden: (message) =>
      room.kind === 'city' && !showBlocked && options.blocks.has(message.sender_id._id),
    onBlockedCount: (count) => showBlockedBar(count),
    // City messages go to the city's moderators, private-chat messages to the admins.
    onReport: (message) => {
      const reason = prompt('Why are you reporting this message?')
      if (!reason) return
      void reportMessage(message._id, reason).then((res) =>
        options.toast(res.ok ? 'Reported: a moderator will look at it' : res.error.message)
      )
    },
    onModerate:
      room.kind === 'city' && options.moderator
        ? (message, action) => {
            if (action === 'delete') return remove(message)
            // The reason is what the restricted user is shown (optional; Cancel gives up).
            const reason = prompt(`Why ${action} ${message.sender_id.username}? (optional)`)
            if (reason === null) return
            void restrictUser(room.id, message.sender_id._id, action, reason.trim()).then((res) =>
              options.toast(
                res.ok ? `${action} applied to ${message.sender_id.username}` : res.error.message
              )
            )
          }
        : undefined,
    onReact: react,
    onThread: (message) => void options.thread.open(message),
    onPin: options.canPin ? (message) => pins.pin(message._id) : undefined,
  })
  options.thread.close()
  const pins = createPinnedBar({ room, canPin: options.canPin, toast: options.toast })

  /** Adds or takes back the user's emoji; the room's broadcast updates every list. */
  function react(message: Message, emoji: string, add: boolean): void {
    socket.emit(
      add ? 'react-message' : 'unreact-message',
      { ...target, messageId: message._id, emoji },
      (ack: Ack<object>) => {
        if (ack && !ack.ok) options.toast(ack.error.message)
      }
    )
  }

  /** A reply from the thread panel: a message of this room with reply_to. */
  function sendReply(parent: Message, content: string): void {
    const payload = {
      ...target,
      content,
      message_type: 'text',
      reply_to: parent._id,
      clientId: newClientId(),
    }
    socket
      .timeout(SEND_ACK_TIMEOUT_MS)
      .emit(names.send, payload, (error: Error | null, ack: Ack<{ message: Message }>) => {
        if (closed) return
        if (error || !ack) return options.toast('No answer from the server')
        if (!ack.ok) return options.toast(ack.error.message)
        if (ack.message) receive(ack.message)
      })
  }

  function showBlockedBar(count: number): void {
    const { blockedBar, blockedText, blockedToggle } = elements
    blockedBar.hidden = room.kind !== 'city' || count === 0
    const messages = count === 1 ? '1 message' : `${count} messages`
    blockedText.textContent = showBlocked
      ? `Showing ${messages} from blocked users`
      : `${count === 1 ? '1 hidden message' : `${count} hidden messages`} from blocked users`
    blockedToggle.textContent = showBlocked ? 'Hide' : 'Show'
  }
  const onToggleBlocked = () => {
    showBlocked = !showBlocked
    list.rerender()
    showBlockedBar(elements.log.querySelectorAll('[data-blocked]').length)
  }
  elements.blockedToggle.addEventListener('click', onToggleBlocked)
  const stopListening = options.blocks.onChange(() => list.rerender())

  function remove(message: Message): void {
    socket.emit(names.remove, { ...target, messageId: message._id }, (ack: Ack<object>) => {
      if (closed) return
      if (ack?.ok) list.markDeleted(message._id)
      else if (ack) options.toast(ack.error.message)
    })
  }

  /** Slow mode: seconds between two messages here (0: off; moderators are exempt). */
  let slowModeSeconds = 0
  let countdown: ReturnType<typeof setInterval> | undefined
  /** The send button shows the seconds left and stays disabled until then. */
  function countDown(ms: number): void {
    clearInterval(countdown)
    const button = options.sendButton
    const ends = Date.now() + ms
    const tick = () => {
      const left = Math.ceil((ends - Date.now()) / 1000)
      if (left <= 0 || closed) {
        clearInterval(countdown)
        button.textContent = 'Send'
        button.disabled = false
        delete button.dataset.slowMode
        return
      }
      button.textContent = `Send (${left}s)`
      button.dataset.slowMode = String(left)
      button.disabled = true
    }
    tick()
    countdown = setInterval(tick, 250)
  }

  /** A refusal that says why this user cannot be here or send here. */
  function refused(error: { code: string; details?: unknown }): void {
    const details = (error.details ?? {}) as Record<string, unknown>
    if (error.code === 'slow_mode') {
      const wait = typeof details.retryAfterMs === 'number' ? details.retryAfterMs : 1000
      countDown(wait)
      return
    }
    const text = restrictionNotice(error.code, details)
    if (text) options.notice(text)
  }

  let joined = false
  let closed = false
  let hasOlder = false
  let loadingOlder = false
  /** Sends made before the join is confirmed (or while offline) wait here, in order. */
  const outbox: string[] = []
  /** clientId → content of sends the server has not acknowledged or echoed yet. */
  const unacked = new Map<string, string>()
  const typers = new Map<string, { name: string; timer: ReturnType<typeof setTimeout> }>()
  let typingSent = false
  let typingTimer: ReturnType<typeof setTimeout> | undefined
  let readTimer: ReturnType<typeof setTimeout> | undefined
  let onlineTimer: ReturnType<typeof setTimeout> | undefined

  elements.log.replaceChildren()
  elements.typing.textContent = ''
  elements.onlineCount.textContent = 'Online'
  elements.onlineList.replaceChildren()
  elements.onlineList.closest('details')?.removeAttribute('open')
  elements.older.hidden = true
  elements.blockedBar.hidden = true

  function join(): void {
    socket.emit(names.join, target, (ack: Ack<object>) => {
      if (ack?.ok) confirmJoined()
      else if (ack) {
        refused(ack.error)
        options.toast(ack.error.message)
      }
    })
  }

  /** `joined-*` event or the join ack, whichever comes first. */
  function confirmJoined(data?: Record<string, unknown>): void {
    if (typeof data?.slowModeSeconds === 'number') slowModeSeconds = data.slowModeSeconds
    // The pinned bar loads when there is something to show (and again after a reconnect).
    if (typeof data?.pinnedCount === 'number' && data.pinnedCount > 0) void pins.load()
    // Muted here: reading works, and the notice says so (why, until when) before any send.
    const muted = data?.muted
    if (muted && typeof muted === 'object' && !closed)
      options.notice(restrictionNotice('muted', muted as Record<string, unknown>))
    if (joined || closed) return
    joined = true
    if (!muted) options.notice(null)
    refreshOnline()
    markReadSoon()
    for (const clientId of outbox.splice(0)) emitSend(clientId)
  }

  function emitSend(clientId: string): void {
    const content = unacked.get(clientId)
    if (content === undefined) return
    if (!joined || !socket.connected) {
      outbox.push(clientId)
      return
    }
    const payload = { ...target, content, message_type: 'text', clientId }
    const answer = (error: Error | null, ack: Ack<{ message: Message }>) => {
      // An ack can land after the user switched rooms: the log now belongs to another room.
      if (closed) return
      if (error) {
        // No answer in time while still connected: offer a retry (same clientId, so it is
        // stored at most once). While disconnected, resync() resends it after reconnecting.
        if (socket.connected && unacked.has(clientId)) {
          list.failPending(clientId, 'No answer from the server', () => emitSend(clientId))
        }
        return
      }
      if (!ack) return
      if (ack.ok) {
        unacked.delete(clientId)
        if (ack.message) receive({ ...ack.message, clientId })
        if (slowModeSeconds > 0 && !options.moderator) countDown(slowModeSeconds * 1000)
      } else {
        unacked.delete(clientId)
        refused(ack.error)
        list.failPending(clientId, ack.error.message, () => {
          unacked.set(clientId, content)
          emitSend(clientId)
        })
      }
    }
    socket.timeout(SEND_ACK_TIMEOUT_MS).emit(names.send, payload, answer)
  }

  function receive(message: Message): void {
    if (closed) return
    if (message.clientId) unacked.delete(message.clientId)
    const fresh = !list.has(message._id)
    list.upsert(message)
    options.thread.onMessage(message)
    if (fresh && message.sender_id._id !== me._id) {
      stopTyper(message.sender_id._id)
      markReadSoon()
    }
  }

  /**
   * A search result: the page around the message, then what follows it up to the newest (as a
   * resync does, bounded), so live messages land right after it; then the message is shown.
   */
  async function loadAround(messageId: string): Promise<void> {
    const page = await history(room.kind, room.id, { around: messageId })
    if (closed) return
    if (!page.ok) {
      options.toast(page.error.message)
      return loadHistory()
    }
    list.prepend(page.value.messages)
    hasOlder = page.value.hasMore
    elements.older.hidden = !hasOlder
    let after = page.value.hasNewer ? list.lastId() : null
    for (let pages = 0; pages < MAX_RESYNC_PAGES && after; pages++) {
      const newer = await history(room.kind, room.id, { after }, 100)
      if (closed || !newer.ok) break
      list.prepend(newer.value.messages)
      after = newer.value.hasMore ? list.lastId() : null
    }
    if (!closed) list.focus(messageId)
  }

  async function loadHistory(): Promise<void> {
    const page = await history(room.kind, room.id)
    if (closed) return
    if (!page.ok) return options.toast(page.error.message)
    list.prepend(page.value.messages)
    hasOlder = page.value.hasMore
    elements.older.hidden = !hasOlder
    list.scrollToEnd()
  }

  async function loadOlder(): Promise<void> {
    const first = list.firstId()
    if (!hasOlder || loadingOlder || !first) return
    loadingOlder = true
    const page = await history(room.kind, room.id, { before: first })
    loadingOlder = false
    if (closed) return
    if (!page.ok) return options.toast(page.error.message)
    list.prepend(page.value.messages)
    hasOlder = page.value.hasMore
    elements.older.hidden = !hasOlder
  }

  /**
   * After a reconnect: fetch what we missed with `?after=<last id>` (deduped by `_id` against
   * anything connection-state recovery replayed), then resend sends that were never confirmed.
   */
  async function resync(): Promise<void> {
    let after = list.lastId()
    if (!after) await loadHistory()
    for (let page = 0; page < MAX_RESYNC_PAGES && after; page++) {
      const result = await history(room.kind, room.id, { after })
      if (closed || !result.ok) break
      for (const message of result.value.messages) receive(message)
      if (!result.value.hasMore) break
      after = result.value.messages.at(-1)?._id ?? null
    }
    if (closed) return
    // A send the server never answered (e.g. the socket was closed under it) goes again; the
    // server stores a clientId once, so a send that did land is answered as a duplicate.
    for (const clientId of unacked.keys()) if (!outbox.includes(clientId)) outbox.push(clientId)
    if (joined) for (const clientId of outbox.splice(0)) emitSend(clientId)
  }

  function refreshOnline(): void {
    clearTimeout(onlineTimer)
    onlineTimer = setTimeout(() => socket.emit(names.online, target), 150)
  }

  function showOnline(data: Record<string, unknown>): void {
    const users: OnlineUser[] = Array.isArray(data.users) ? data.users : []
    const count = typeof data.count === 'number' ? data.count : users.length
    elements.onlineCount.textContent = `${count} online`
    elements.onlineList.replaceChildren(
      ...users.map((user) =>
        el(
          'li',
          { 'data-testid': 'online-user', 'data-user-id': user.userId ?? user._id ?? '' },
          user.full_name || user.username || 'Someone'
        )
      )
    )
  }

  function renderTyping(): void {
    const who = [...typers.values()].map((t) => t.name)
    elements.typing.textContent =
      who.length === 0
        ? ''
        : who.length === 1
          ? `${who[0]} is typing…`
          : `${who.slice(0, -1).join(', ')} and ${who.at(-1)} are typing…`
  }

  function startTyper(data: { userId: string; username?: string; full_name?: string }): void {
    if (data.userId === me._id) return
    clearTimeout(typers.get(data.userId)?.timer)
    const timer = setTimeout(() => stopTyper(data.userId), TYPING_EXPIRE_MS)
    typers.set(data.userId, { name: data.full_name || data.username || 'Someone', timer })
    renderTyping()
  }

  function stopTyper(userId: string): void {
    const entry = typers.get(userId)
    if (!entry) return
    clearTimeout(entry.timer)
    typers.delete(userId)
    renderTyping()
  }

  function stopTyping(): void {
    clearTimeout(typingTimer)
    if (typingSent) socket.emit(names.stopTyping, target)
    typingSent = false
  }

  /** Tell the server we have seen everything (its read position), while the room is on screen. */
  function markReadSoon(): void {
    clearTimeout(readTimer)
    readTimer = setTimeout(() => {
      if (!closed && joined && socket.connected && document.visibilityState === 'visible') {
        socket.emit('mark-messages-read', target)
      }
    }, 250)
  }

  const onScroll = () => {
    if (elements.log.scrollTop < 40) void loadOlder()
  }
  const onOlder = () => void loadOlder()
  elements.log.addEventListener('scroll', onScroll, { passive: true })
  elements.older.addEventListener('click', onOlder)

  void (options.focusId ? loadAround(options.focusId) : loadHistory())
  if (socket.connected) join()

  return {
    room,
    join,
    confirmJoined,
    resync,
    /** The socket dropped: joins must be redone and sends wait. */
    suspend(): void {
      joined = false
      for (const [id] of typers) stopTyper(id)
    },
    send(content: string): void {
      const clientId = newClientId()
      stopTyping()
      list.addPending(clientId, content)
      unacked.set(clientId, content)
      emitSend(clientId)
    },
    /** Sends an uploaded file (POST /api/media) as an image or file message; resolves with the error, if any. */
    sendAttachment(media: { _id: string; content_type: string }): Promise<string | null> {
      const payload = {
        ...target,
        content: '',
        message_type: media.content_type.startsWith('image/') ? 'image' : 'file',
        media_id: media._id,
        clientId: newClientId(),
      }
      return new Promise((resolve) => {
        socket
          .timeout(SEND_ACK_TIMEOUT_MS)
          .emit(names.send, payload, (error: Error | null, ack: Ack<{ message: Message }>) => {
            if (error || !ack) return resolve('No answer from the server')
            if (!ack.ok) return resolve(ack.error.message)
            if (ack.message && !closed) receive(ack.message)
            resolve(null)
          })
      })
    },
    inputActivity(): void {
      if (!joined) return
      if (!typingSent) socket.emit(names.typing, target)
      typingSent = true
      clearTimeout(typingTimer)
      typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS)
    },
    onMessage: receive,
    onEdited(message: Message): void {
      if (closed) return
      list.upsert(message)
      options.thread.onMessage(message)
    },
    react,
    sendReply,
    onReaction(event: ReactionEvent): void {
      if (closed) return
      for (const each of [list, ...options.thread.lists()]) each.applyReaction(event)
    },
    onThreadUpdated(event: ThreadEvent): void {
      if (closed) return
      for (const each of [list, ...options.thread.lists()]) each.applyThread(event)
    },
    onPinned: (pin: Pin) => closed || pins.onPinned(pin),
    onUnpinned: (messageId: string) => closed || pins.onUnpinned(messageId),
    onDeleted: (messageId: string) => closed || list.markDeleted(messageId),
    /** A moderator banned this user here: the server took the socket out of the room. */
    onBanned(data: Record<string, unknown>): void {
      joined = false
      options.notice(restrictionNotice('banned', { until: data.until ?? null, reason: data.note }))
    },
    onTyping: startTyper,
    onStopTyping: stopTyper,
    onOnline: showOnline,
    refreshOnline,
    onRead(data: { userId: string; readAt: string; lastReadMessageId?: unknown }): void {
      if (data.userId === me._id) return
      const at = Date.parse(data.readAt)
      if (!Number.isNaN(at)) readAt.set(data.userId, Math.max(at, readAt.get(data.userId) ?? 0))
      const id = data.lastReadMessageId
      if (typeof id === 'string') readId.set(data.userId, id)
      list.refreshReceipts()
    },
    markReadSoon,
    /** Fresh read positions (GET /api/chats/:chatId), e.g. after reopening the chat. */
    setMembers(members: Member[]): void {
      if (closed) return
      applyMembers(members)
      list.refreshReceipts()
    },
    close(): void {
      closed = true
      stopTyping()
      for (const [id] of typers) stopTyper(id)
      clearTimeout(readTimer)
      clearTimeout(onlineTimer)
      clearInterval(countdown)
      options.notice(null)
      options.thread.close()
      pins.close()
      if (room.kind === 'city' && socket.connected) socket.emit(names.leave, target)
      elements.log.removeEventListener('scroll', onScroll)
      elements.older.removeEventListener('click', onOlder)
      elements.blockedToggle.removeEventListener('click', onToggleBlocked)
      elements.blockedBar.hidden = true
      stopListening()
      list.destroy()
    },
  }
}
