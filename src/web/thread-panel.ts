/** @module Thread side panel: a message and its replies (GET …/replies), kept live, with its own composer. */
import { replies } from './api.ts'
import { byId } from './dom.ts'
import { createMessageList, type MessageList } from './message-list.ts'
import type { Message, PublicUser } from './types.ts'

export interface ThreadPanelOptions {
  me: PublicUser
  /** Sends a reply to `parent` (the room's send, with reply_to). */
  send: (parent: Message, content: string) => void
  /** Reactions inside the panel go the room's way. */
  onReact: (message: Message, emoji: string, add: boolean) => void
  toast: (message: string) => void
}

export type ThreadPanel = ReturnType<typeof createThreadPanel>

/**
 * @example const thread = createThreadPanel({ me, send, onReact, toast }); thread.open(message)
 */
export function createThreadPanel(options: ThreadPanelOptions) {
  const panel = byId('thread')
  const parentBox = byId('thread-parent')
  const log = byId('thread-log')
  const form = byId<HTMLFormElement>('thread-composer')
  const input = byId<HTMLTextAreaElement>('thread-input')
  let parent: Message | null = null
  let list: MessageList | null = null

  const newList = (container: HTMLElement) =>
    createMessageList({
      container,
      me: options.me,
      isRead: () => false,
      onEdit: () => {},
      onDelete: () => {},
      onReact: options.onReact,
    })

  let parentList: MessageList | null = null

  async function open(message: Message): Promise<void> {
    close()
    parent = message
    panel.hidden = false
    parentList = newList(parentBox)
    parentList.upsert(message)
    list = newList(log)
    const opened = list
    const page = await replies(message._id)
    if (opened !== list) return
    if (!page.ok) return options.toast(page.error.message)
    list.prepend(page.value.messages)
    list.scrollToEnd()
    input.focus()
  }

  function close(): void {
    parent = null
    list?.destroy()
    parentList?.destroy()
    list = null
    parentList = null
    log.replaceChildren()
    parentBox.replaceChildren()
    panel.hidden = true
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const content = input.value.trim()
    if (!content || !parent) return
    options.send(parent, content)
    input.value = ''
  })
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      form.requestSubmit()
    }
  })
  byId('thread-close').addEventListener('click', close)

  return {
    open,
    close,
    /** A message of the room: shown here when it replies to the open thread (or is its parent). */
    onMessage(message: Message): void {
      if (!parent) return
      if (message.reply_to === parent._id) list?.upsert(message)
      else if (message._id === parent._id) parentList?.upsert(message)
    },
    lists: (): MessageList[] => [parentList, list].filter((l): l is MessageList => l !== null),
  }
}
