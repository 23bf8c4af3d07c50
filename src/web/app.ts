/** @module Web client entry: session bootstrap, socket event routing, room switching, composer. */

import type { Socket } from 'socket.io-client'
import { isAccountLink, takeAccountLink } from './account-links.ts'
import {
  getChat,
  listChats,
  listCities,
  logout,
  me,
  type Pin,
  setSessionHooks,
  verifyEmail,
} from './api.ts'
import { openMediaSession, wireAttachments } from './attachments.ts'
import { showAuth } from './auth-view.ts'
import { createBlocks } from './blocks.ts'
import { openRoom, type RoomController } from './chat-room.ts'
import { byId, el } from './dom.ts'
import { createMemberList } from './member-list.ts'
import type { ReactionEvent, ThreadEvent } from './message-list.ts'
import { createNotificationsPanel } from './notifications-panel.ts'
import { forgetPushSubscription, wirePushToggle } from './push.ts'
import { type ConnectionStatus, connectRealtime, updateSocketToken } from './realtime.ts'
import { showReportsPanel } from './reports-panel.ts'
import { createSearchPanel } from './search-panel.ts'
import { clearSession, readUser, refreshAccessToken, wasSignedIn } from './session.ts'
import { wireSettings } from './settings.ts'
import { createSidebar } from './sidebar.ts'
import { createThreadPanel } from './thread-panel.ts'
import type {
  Chat,
  FeedNotification,
  Message,
  PublicUser,
  Room,
  RoomKind,
  SearchResult,
  User,
} from './types.ts'

/** The guide's heartbeat period. */
const HEARTBEAT_MS = 30_000

function toast(message: string): void {
  const box = byId('toasts')
  const line = el('p', { class: 'toast', 'data-testid': 'toast' }, message)
  box.append(line)
  setTimeout(() => line.remove(), 5000)
}

async function boot(): Promise<void> {
  // A mailed link opened in a tab already showing the page: load it afresh to act on it.
  addEventListener('hashchange', () => {
    if (isAccountLink(location.hash)) location.reload()
  })
  let user: User | null = null
  // A mailed link: a reset asks for the new password first (it signs every device out anyway);
  // a verification is made at once and said wherever the page goes next.
  const link = takeAccountLink()
  let notice: string | undefined
  if (link?.kind === 'verify') {
    const verified = await verifyEmail(link.token)
    notice = verified.ok
      ? `${verified.value.email} is verified.`
      : `That verification link does not work: ${verified.error.message}`
  }
  if (link?.kind === 'reset') {
    clearSession()
    startApp(await showAuth({ resetToken: link.token }))
    return
  }
  // A reload: the access token was in memory only, so the refresh cookie gets a new one.
  if (wasSignedIn() && (await refreshAccessToken())) {
    const current = await me()
    if (current.ok) user = current.value
    // Offline or a server error at load: keep the cached identity (the banner shows the
    // connection state). Only a rejected session (401) sends the user back to the login form.
    else if (current.status !== 401) user = readUser()
  }
  if (!user) {
    // A refresh that failed on the network (the page reloading under it, say) leaves the flag:
    // the next load tries again. One the server refused has cleared it already.
    if (!wasSignedIn()) clearSession()
    user = await showAuth(notice === undefined ? {} : { notice })
    notice = undefined
  }
  startApp(user)
  if (notice) toast(notice)
}

function startApp(user: User): void {
  const self: PublicUser = {
    _id: user._id,
    username: user.username,
    full_name: user.full_name,
    profile_photo_url: user.profile_photo_url ?? null,
  }
  byId('app-view').hidden = false
  // Reports: for whoever moderates a city (GET /api/cities says which; global moderators and
  // admins every one), shown once the cities are in; new reports show it live too.
  const staff = user.role === 'moderator' || user.role === 'admin'
  const reportsButton = byId<HTMLButtonElement>('open-reports')
  reportsButton.hidden = !staff
  const blocks = createBlocks(toast)
  void blocks.load()
  reportsButton.addEventListener('click', () => void showReportsPanel(toast))
  byId('close-reports').addEventListener('click', () => {
    byId('reports').hidden = true
  })
  wireSettings({ user, toast, signedOut: () => sessionLost() })
  const notice = byId('moderation-notice')
  const showNotice = (text: string | null) => {
    notice.textContent = text ?? ''
    notice.hidden = text === null
  }
  byId('me-name').textContent = user.full_name || user.username
  const banner = byId('banner')
  const input = byId<HTMLTextAreaElement>('composer-input')
  const sendButton = byId<HTMLButtonElement>('composer').querySelector(
    'button[type="submit"]'
  ) as HTMLButtonElement
  let room: RoomController | null = null
  let socket: Socket
  const joinedChats = new Set<string>()

  const sessionLost = () => {
    clearSession()
    location.reload()
  }

  const sidebar = createSidebar({
    me: self,
    toast,
    onOpen: (next) => navigate(next),
    onChatCreated: (chat) => {
      void reloadChats().then(() => navigate(sidebar.chatRoom(chat)))
    },
  })

  socket = connectRealtime({
    onStatus: showStatus,
    onSessionLost: sessionLost,
    onConnect: ({ again }) => {
      socket.emit('get-online-count')
      if (again) void reloadChats()
      else joinAllChats()
      if (room) {
        room.join()
        if (again) void room.resync()
      }
    },
  })
  setSessionHooks({
    lost: sessionLost,
    tokens: (token) => {
      updateSocketToken(socket, token)
      // The media cookie follows the access token, so <img> tags keep loading private media.
      void openMediaSession()
    },
  })
  void openMediaSession()
  void wirePushToggle(toast)
  const photo = byId<HTMLImageElement>('me-photo')
  photo.src = user.profile_photo_url
  wireAttachments({
    room: () => room,
    banner: (text) => {
      banner.hidden = false
      banner.dataset.state = 'error'
      banner.textContent = text
    },
    photoChanged: (url) => {
      photo.src = url
    },
  })

  function showStatus(status: ConnectionStatus): void {
    banner.dataset.state = status.state
    if (status.state === 'connected' || status.state === 'connecting') {
      banner.hidden = true
      banner.textContent = ''
      return
    }
    if (status.state === 'reconnecting') {
      room?.suspend()
      joinedChats.clear()
      const what = status.everConnected ? 'Connection lost. Reconnecting…' : 'Connecting…'
      banner.textContent = status.attempt > 0 ? `${what} (attempt ${status.attempt})` : what
    } else banner.textContent = `Cannot connect: ${status.message}`
    banner.hidden = false
  }

  /** Every private chat is joined so its messages raise unread counts while it is not open. */
  function joinAllChats(): void {
    if (!socket.connected) return
    for (const chat of sidebar.chats()) {
      if (joinedChats.has(chat._id) || room?.room.id === chat._id) continue
      joinedChats.add(chat._id)
      socket.emit('join-private-chat', { chatId: chat._id })
    }
  }

  async function reloadChats(): Promise<void> {
    const chats = await listChats()
    if (!chats.ok) return
    sidebar.setChats(chats.value)
    if (room) sidebar.setActive(room.room)
    joinAllChats()
  }

  function navigate(next: Room): void {
    const hash = `#/${next.kind}/${encodeURIComponent(next.id)}`
    if (location.hash === hash) open(next)
    else location.hash = hash // hashchange opens it; reload and back keep the room
  }

  function roomFromHash(): Room | null {
    const match = /^#\/(city|chat)\/(.+)$/.exec(location.hash)
    if (!match?.[1] || !match[2]) return null
    const id = decodeURIComponent(match[2])
    if (match[1] === 'city') return sidebar.cityRoom(id)
    const chat = sidebar.chat(id)
    return chat ? sidebar.chatRoom(chat) : null
  }

  /** A search result's message, shown when its room opens next (navigate → hashchange → open). */
  let focusNext: string | null = null

  /** A city's or a chat's room; a chat missing from the list is looked up once more. */
  async function roomOfIds(ids: { cityId?: string | null; chatId?: string | null }) {
    if (ids.cityId) return sidebar.cityRoom(ids.cityId)
    const chatId = ids.chatId ?? ''
    if (!sidebar.chat(chatId)) await reloadChats()
    const chat = sidebar.chat(chatId)
    return chat ? sidebar.chatRoom(chat) : null
  }

  /** The room a search result is in. */
  const roomOfResult = ({ message }: SearchResult): Promise<Room | null> => roomOfIds(message)

  /** A room's title for a list (a city's name, a chat's title). */
  function titleOf(ids: { cityId?: string | null; chatId?: string | null }): string {
    if (ids.cityId) return sidebar.cityRoom(ids.cityId)?.title ?? ids.cityId
    const chat = sidebar.chat(ids.chatId ?? '')
    return chat ? sidebar.chatRoom(chat).title : 'Private chat'
  }

  const notifications = createNotificationsPanel({
    roomTitle: titleOf,
    open(n) {
      void roomOfIds(n).then((target) => {
        if (!target) return toast('That room is no longer open to you')
        focusNext = n.message?._id ?? null
        navigate(target)
      })
    },
    toast,
  })

  createSearchPanel({
    roomTitle: ({ message }) => titleOf(message),
    open(result) {
      void roomOfResult(result).then((target) => {
        if (!target) return toast('That room is no longer open to you')
        focusNext = result.message._id
        navigate(target)
      })
    },
    toast,
  })

  // One thread panel for the page; the open room sends its replies and reactions.
  const thread = createThreadPanel({
    me: self,
    send: (parent, content) => room?.sendReply(parent, content),
    onReact: (message, emoji, add) => room?.react(message, emoji, add),
    toast,
  })

  // A private chat's members and their roles, in the room header.
  const memberList = createMemberList({
    box: byId<HTMLDetailsElement>('chat-members-box'),
    summary: byId('chat-members-count'),
    list: byId('chat-members'),
    me: self,
    toast,
  })

  function open(next: Room): void {
    const focusId = focusNext
    focusNext = null
    // The open room stays as it is, unless a search result in it is to be shown.
    if (!focusId && room && room.room.kind === next.kind && room.room.id === next.id) return
    room?.close()
    const chat: Chat | undefined = next.kind === 'chat' ? sidebar.chat(next.id) : undefined
    byId('room-title').textContent = next.kind === 'city' ? `${next.title} chat` : next.title
    room = openRoom({
      socket,
      me: self,
      room: next,
      members: chat?.members ?? [],
      toast,
      moderator: next.kind === 'city' && (sidebar.city(next.id)?.canModerate ?? staff),
      canPin:
        next.kind === 'city'
          ? (sidebar.city(next.id)?.canModerate ?? staff)
          : chat?.members.some(
              (m) => m.userId === self._id && (m.role === 'owner' || m.role === 'admin')
            ) === true,
      thread,
      blocks,
      notice: showNotice,
      sendButton,
      focusId,
      elements: {
        log: byId('messages'),
        typing: byId('typing'),
        onlineCount: byId('room-online-count'),
        onlineList: byId('online-users'),
        older: byId<HTMLButtonElement>('load-older'),
        blockedBar: byId('blocked-bar'),
        blockedText: byId('blocked-text'),
        blockedToggle: byId<HTMLButtonElement>('show-blocked'),
      },
    })
    if (next.kind === 'chat') {
      joinedChats.add(next.id)
      memberList.show(next.id, chat?.members ?? [])
      // The list's read positions may be older than this visit: fetch the chat's current ones.
      const opened = room
      void getChat(next.id).then((fresh) => {
        if (!fresh.ok || !fresh.value || room !== opened) return
        opened.setMembers(fresh.value.members)
        memberList.show(next.id, fresh.value.members)
      })
    } else memberList.hide()
    sidebar.setActive(next)
    input.disabled = false
    sendButton.disabled = false
    document.body.classList.remove('menu-open')
    byId('menu-toggle').setAttribute('aria-expanded', 'false')
  }

  /** The open room if the event is about it (events without a room id go to the open room of that kind). */
  const about = (kind: RoomKind, id: unknown): RoomController | null =>
    room && room.room.kind === kind && (id === undefined || id === room.room.id) ? room : null

  type Ev = Record<string, unknown> & { userId: string; readAt: string; messageId: string }
  socket.on('online-users', (count: number) => {
    byId('online-count').textContent = `${count} online`
  })
  socket.on('heartbeat-ack', (data: { timestamp?: number }) => {
    if (typeof data?.timestamp === 'number') {
      byId('online-count').title = `Users online · latency ${Date.now() - data.timestamp} ms`
    }
  })
  socket.on('error', (error: { message?: string }) =>
    toast(error?.message ?? 'Something went wrong')
  )

  socket.on('joined-city-chat', (d: Ev) => about('city', d.cityId)?.confirmJoined(d))
  socket.on('left-city-chat', (d: Ev) => {
    if (d.reason === 'banned') about('city', d.cityId)?.onBanned(d)
  })
  socket.on('report-created', () => {
    reportsButton.hidden = false
    toast('A new report is waiting: open Reports')
  })
  socket.on('joined-private-chat', (d: Ev) => about('chat', d.chatId)?.confirmJoined())
  for (const name of ['user-joined-city-chat', 'user-left-city-chat']) {
    socket.on(name, (d: Ev) => about('city', d.cityId)?.refreshOnline())
  }
  for (const name of ['user-joined-private-chat', 'user-left-private-chat']) {
    socket.on(name, (d: Ev) => about('chat', d.chatId)?.refreshOnline())
  }
  socket.on('user-offline', () => room?.refreshOnline())

  socket.on('new-city-message', (m: Message) => about('city', m.cityId)?.onMessage(m))
  socket.on('new-private-message', (m: Message) => {
    about('chat', m.chatId)?.onMessage(m)
    sidebar.noteMessage(m)
  })
  socket.on('city-message-edited', (m: Message) => about('city', m.cityId)?.onEdited(m))
  socket.on('private-message-edited', (m: Message) => about('chat', m.chatId)?.onEdited(m))
  socket.on('city-message-reaction', (d: ReactionEvent & Ev) =>
    about('city', d.cityId)?.onReaction(d)
  )
  socket.on('private-message-reaction', (d: ReactionEvent & Ev) =>
    about('chat', d.chatId)?.onReaction(d)
  )
  socket.on('city-message-thread-updated', (d: ThreadEvent & Ev) =>
    about('city', d.cityId)?.onThreadUpdated(d)
  )
  socket.on('private-message-thread-updated', (d: ThreadEvent & Ev) =>
    about('chat', d.chatId)?.onThreadUpdated(d)
  )
  socket.on('city-message-pinned', (d: Pin & Ev) => about('city', d.cityId)?.onPinned(d))
  socket.on('private-message-pinned', (d: Pin & Ev) => about('chat', d.chatId)?.onPinned(d))
  socket.on('city-message-unpinned', (d: Ev) => about('city', d.cityId)?.onUnpinned(d.messageId))
  socket.on('private-message-unpinned', (d: Ev) => about('chat', d.chatId)?.onUnpinned(d.messageId))
  socket.on('chat-member-role-changed', (d: { chatId: string; userId: string; role: string }) => {
    memberList.onRoleChanged(d)
    void reloadChats().then(() => {
      // My own role changed in the open chat: open it again, with (or without) the pin actions.
      const current = about('chat', d.chatId)
      if (!current || d.userId !== self._id) return
      current.close()
      room = null
      open(current.room)
    })
  })
  socket.on('city-message-deleted', (d: Ev) => about('city', d.cityId)?.onDeleted(d.messageId))
  socket.on('private-message-deleted', (d: Ev) => about('chat', d.chatId)?.onDeleted(d.messageId))

  socket.on('user-typing-city', (d: Ev) => about('city', d.cityId)?.onTyping(d))
  socket.on('user-stopped-typing-city', (d: Ev) => about('city', d.cityId)?.onStopTyping(d.userId))
  socket.on('user-typing-private', (d: Ev) => about('chat', d.chatId)?.onTyping(d))
  socket.on('user-stopped-typing-private', (d: Ev) =>
    about('chat', d.chatId)?.onStopTyping(d.userId)
  )
  socket.on('city-online-users', (d: Ev) => about('city', d.cityId)?.onOnline(d))
  socket.on('chat-online-users', (d: Ev) => about('chat', d.chatId)?.onOnline(d))
  socket.on('messages-read', (d: Ev) => about('chat', d.chatId)?.onRead(d))
  // Membership changes reach every socket of the user: the chat list follows them.
  socket.on('added-to-chat', () => void reloadChats())
  socket.on('notification', (n: FeedNotification) => {
    sidebar.noteNotification(n)
    notifications.add(n)
  })
  socket.on('removed-from-chat', (d: Ev) => {
    joinedChats.delete(String(d.chatId))
    void reloadChats()
  })

  byId<HTMLFormElement>('composer').addEventListener('submit', (event) => {
    event.preventDefault()
    const content = input.value.trim()
    // Slow mode's countdown holds the button; Enter waits for it too.
    if (!content || !room || sendButton.disabled) return
    room.send(content)
    input.value = ''
    input.focus()
  })
  input.addEventListener('input', () => room?.inputActivity())
  input.addEventListener('keydown', (event) => {
    // Enter sends, Shift+Enter starts a new line (the usual chat convention).
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      byId<HTMLFormElement>('composer').requestSubmit()
    }
  })

  byId('menu-toggle').addEventListener('click', () => {
    const openNow = document.body.classList.toggle('menu-open')
    byId('menu-toggle').setAttribute('aria-expanded', String(openNow))
  })
  document.addEventListener('keydown', (event) => {
    // Escape closes the phone room list and returns focus to its button.
    if (event.key === 'Escape' && document.body.classList.contains('menu-open')) {
      document.body.classList.remove('menu-open')
      byId('menu-toggle').setAttribute('aria-expanded', 'false')
      byId('menu-toggle').focus()
    }
  })
  byId('logout').addEventListener('click', async () => {
    socket.disconnect()
    // A signed-out browser gets no pushes meant for this account.
    await forgetPushSubscription()
    await logout()
    location.hash = ''
    location.reload()
  })
  byId('refresh-chats').addEventListener('click', () => void reloadChats())
  addEventListener('hashchange', () => {
    const next = roomFromHash()
    if (next) open(next)
  })
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') {
      room?.markReadSoon()
      void reloadChats()
    }
  })
  setInterval(() => {
    if (socket.connected) socket.emit('heartbeat', { timestamp: Date.now() })
  }, HEARTBEAT_MS)

  void Promise.all([listCities(), listChats()]).then(([cities, chats]) => {
    if (cities.ok) {
      sidebar.setCities(cities.value)
      if (cities.value.some((city) => city.canModerate)) reportsButton.hidden = false
    } else toast(cities.error.message)
    if (chats.ok) sidebar.setChats(chats.value)
    joinAllChats()
    // The bell's count and list, once the rooms' titles are known.
    void notifications.load()
    const first = cities.ok ? cities.value[0] : undefined
    const initial =
      roomFromHash() ?? (first ? { kind: 'city' as const, id: first._id, title: first.name } : null)
    if (initial) open(initial)
  })
}

void boot()
