/**
 * @module Message search in the web client: the top bar's search box, the results panel (each
 * snippet built as text with <mark> elements around the ranges the server gives, never HTML), and
 * "open": the result's room, loaded around the message (docs/search.md).
 */
import { searchMessages } from './api.ts'
import { byId, el, timeOf } from './dom.ts'
import type { SearchResult } from './types.ts'

export interface SearchPanelOptions {
  /** The room's title for a result (a city's name, a chat's title), or null if unknown here. */
  roomTitle(result: SearchResult): string
  open(result: SearchResult): void
  toast(text: string): void
}

/** The snippet's text with its highlight ranges as <mark> elements; text nodes only. */
function snippetElement(snippet: SearchResult['snippet']): HTMLElement {
  const parts: Array<Node | string> = []
  let at = 0
  for (const [start, end] of snippet.highlights) {
    if (start < at || end <= start || end > snippet.text.length) continue
    parts.push(snippet.text.slice(at, start), el('mark', {}, snippet.text.slice(start, end)))
    at = end
  }
  parts.push(snippet.text.slice(at))
  return el('span', { class: 'snippet', 'data-testid': 'search-snippet' }, ...parts)
}

/** @example createSearchPanel({ roomTitle, open, toast }) */
export function createSearchPanel(options: SearchPanelOptions): void {
  const form = byId<HTMLFormElement>('search-form')
  const input = byId<HTMLInputElement>('search-input')
  const panel = byId('search-panel')
  const list = byId('search-results')
  const status = byId('search-status')
  const more = byId<HTMLButtonElement>('search-more')
  let query = ''
  let next: string | null = null

  function item(result: SearchResult): HTMLElement {
    const author = result.message.sender_id.full_name || result.message.sender_id.username
    const button = el(
      'button',
      { type: 'button', class: 'search-hit', 'data-testid': 'search-result' },
      el('span', { class: 'search-room' }, options.roomTitle(result)),
      el('span', { class: 'search-meta' }, ` ${author} · ${timeOf(result.message.created_at)}`),
      snippetElement(result.snippet)
    )
    button.addEventListener('click', () => {
      panel.hidden = true
      options.open(result)
    })
    return el('li', {}, button)
  }

  async function load(before?: string): Promise<void> {
    const page = await searchMessages(query, before)
    if (!page.ok) {
      status.textContent = page.error.message
      more.hidden = true
      return
    }
    if (!before) list.replaceChildren()
    list.append(...page.value.results.map(item))
    next = page.value.next
    more.hidden = next === null
    const count = list.children.length
    status.textContent = count === 0 ? 'No messages found.' : `${count}${next ? '+' : ''} found`
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    query = input.value.trim()
    if (!query) return
    panel.hidden = false
    status.textContent = 'Searching…'
    void load()
  })
  more.addEventListener('click', () => {
    if (next) void load(next)
  })
  byId('close-search').addEventListener('click', () => {
    panel.hidden = true
    input.focus()
  })
}
