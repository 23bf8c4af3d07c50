/** @module Sidebar: the city list, my private chats with unread counts, and the new-chat form. */
import { createChat, searchUsers } from './api.ts'
import { byId, el } from './dom.ts'
import { idBefore } from './message-list.ts'
import type { Chat, City, Message, PublicUser, Room } from './types.ts'
import { chatTitle, roomKey } from './types.ts'

export interface SidebarOptions {
  me: PublicUser
  onOpen: (room: Room) => void
  onChatCreated: (chat: Chat) => void
  toast: (message: string) => void
}

export function createSidebar(options: SidebarOptions) {
  const cityList = byId('city-list')
  const chatList = byId('chat-list')
  let cities: City[] = []
  let chats: Chat[] = []
  let active: string | null = null

  function item(
    room: Room,
    unread: number,
    testId: string,
    preview = '',
    mentions = 0
  ): HTMLElement {
    const current = roomKey(room) === active
    const button = el(
      'button',
      {
        type: 'button',
        class: 'room-link',
        'data-testid': testId,
        'data-room': roomKey(room),
        'aria-current': current ? 'true' : null,
      },
      el(
        'span',
        { class: 'room-text' },
        el('span', { class: 'room-name' }, room.title),
        preview ? el('span', { class: 'preview', 'data-testid': 'preview' }, preview) : null
      ),
      mentions > 0 && !current
        ? el(
            'span',
            {
              class: 'badge mention',
              'data-testid': 'mentions',
              'aria-label': `${mentions} mentioning you`,
            },
            `@${mentions}`
          )
        : null,
      unread > 0 && !current
        ? el(
            'span',
            { class: 'badge', 'data-testid': 'unread', 'aria-label': `${unread} unread` },
            String(unread)
          )
        : null
    )
    button.addEventListener('click', () => options.onOpen(room))
    return el('li', {}, button)
  }

  /** Re-rendering only on change keeps keyboard focus in the list while the chat list reloads. */
  let rendered = ''
  function render(): void {
    const signature = JSON.stringify([
      active,
      cities.map((c) => [c._id, c.unreadCount, c.mentionCount]),
      chats.map((c) => [c._id, chatRoom(c).title, c.unreadCount, c.mentionCount, previewOf(c)]),
    ])
    if (signature === rendered) return
    rendered = signature
    cityList.replaceChildren(
      ...cities.map((city) =>
        item(
          { kind: 'city', id: city._id, title: city.name },
          city.unreadCount ?? 0,
          'city',
          '',
          city.mentionCount ?? 0
        )
      )
    )
    chatList.replaceChildren(
      ...(chats.length
        ? chats.map((chat) =>
            item(chatRoom(chat), chat.unreadCount, 'chat', previewOf(chat), chat.mentionCount)
          )
        : [el('li', { class: 'empty' }, 'No private chats yet')])
    )
  }

  function previewOf(chat: Chat): string {
    const last = chat.lastMessage
    if (!last) return ''
    const text = last.is_deleted ? 'Message deleted' : last.content || last.media_url || ''
    const who = last.sender_id?._id === options.me._id ? 'You' : last.sender_id?.full_name
    return `${who ? `${who}: ` : ''}${text}`.slice(0, 80)
  }

  function chatRoom(chat: Chat): Room {
    return { kind: 'chat', id: chat._id, title: chatTitle(chat, options.me._id) }
  }

  setupNewChat(options)

  return {
    setCities(next: City[]) {
      cities = next
      render()
    },
    setChats(next: Chat[]) {
      chats = next
      render()
    },
    chats: () => chats,
    chat: (chatId: string) => chats.find((c) => c._id === chatId),
    city: (cityId: string) => cities.find((c) => c._id === cityId),
    chatRoom,
    cityRoom(cityId: string): Room | null {
      const city = cities.find((c) => c._id === cityId)
      return city ? { kind: 'city', id: city._id, title: city.name } : null
    },
    setActive(room: Room | null) {
      active = room ? roomKey(room) : null
      if (room?.kind === 'chat') {
        const chat = chats.find((c) => c._id === room.id)
        if (chat) Object.assign(chat, { unreadCount: 0, mentionCount: 0 })
      }
      if (room?.kind === 'city') {
        const city = cities.find((c) => c._id === room.id)
        if (city) Object.assign(city, { unreadCount: 0, mentionCount: 0 })
      }
      render()
    },
    /** A live `notification`: a mention of me in a room not on screen counts on its badge. */
    noteNotification(n: { kind?: string; cityId?: string; chatId?: string }) {
      if (n.kind !== 'mention') return
      const key = n.cityId ? `city:${n.cityId}` : `chat:${n.chatId}`
      if (key === active) return
      const row = n.cityId
        ? cities.find((c) => c._id === n.cityId)
        : chats.find((c) => c._id === n.chatId)
      if (row) row.mentionCount = (row.mentionCount ?? 0) + 1
      render()
    },
    /** A private message arrived (joined chats only): preview it, count it if not on screen. */
    noteMessage(message: Message) {
      const chat = chats.find((c) => c._id === message.chatId)
      if (!chat) return
      if (!chat.lastMessage || !idBefore(message._id, chat.lastMessage._id))
        chat.lastMessage = message
      const fresh = message.sender_id?._id !== options.me._id && active !== `chat:${chat._id}`
      if (fresh) chat.unreadCount++
      render()
    },
  }
}

/** Search users, pick one or more, optionally name the chat, create it (POST /api/chats). */
function setupNewChat(options: SidebarOptions): void {
  const form = byId<HTMLFormElement>('new-chat-form')
  const search = byId<HTMLInputElement>('user-search')
  const results = byId('user-results')
  const selectedText = byId('selected-users')
  const name = byId<HTMLInputElement>('chat-name')
  const selected = new Map<string, PublicUser>()
  let searchTimer: ReturnType<typeof setTimeout> | undefined
  let lastQuery = ''

  const renderSelected = () => {
    const names = [...selected.values()].map((u) => u.full_name || u.username)
    selectedText.textContent = names.length ? `With: ${names.join(', ')}` : ''
  }

  async function runSearch(): Promise<void> {
    const query = search.value.trim()
    lastQuery = query
    if (!query) return results.replaceChildren()
    const found = await searchUsers(query)
    if (query !== lastQuery) return // a newer search is in flight
    if (!found.ok) return options.toast(found.error.message)
    results.replaceChildren(
      ...found.value
        .filter((user) => user._id !== options.me._id)
        .map((user) => {
          const button = el(
            'button',
            {
              type: 'button',
              'data-testid': 'user-result',
              'data-username': user.username,
              'aria-pressed': selected.has(user._id) ? 'true' : 'false',
            },
            `${user.full_name} (@${user.username})`
          )
          button.addEventListener('click', () => {
            if (selected.has(user._id)) selected.delete(user._id)
            else selected.set(user._id, user)
            button.setAttribute('aria-pressed', selected.has(user._id) ? 'true' : 'false')
            renderSelected()
          })
          return el('li', {}, button)
        })
    )
  }

  search.addEventListener('input', () => {
    clearTimeout(searchTimer)
    searchTimer = setTimeout(() => void runSearch(), 200)
  })

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    if (selected.size === 0) return options.toast('Pick at least one person first')
    const chatName = name.value.trim()
    const created = await createChat({
      memberIds: [...selected.keys()],
      ...(chatName ? { name: chatName } : {}),
    })
    if (!created.ok) return options.toast(created.error.message)
    if (!created.value) return options.toast('The server answered without a chat')
    selected.clear()
    renderSelected()
    form.reset()
    results.replaceChildren()
    byId<HTMLDetailsElement>('new-chat').open = false
    options.onChatCreated(created.value)
  })
}
