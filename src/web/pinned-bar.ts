/** @module The pinned bar at the top of a room: how many are pinned, the newest, and the list (unpin where allowed). */
import { listPins, type Pin, setPinned } from './api.ts'
import { byId, el } from './dom.ts'
import type { Room } from './types.ts'

export interface PinnedBarOptions {
  room: Room
  /** City moderators, chat owners and admins may unpin. */
  canPin: boolean
  toast: (message: string) => void
}

/** @example const bar = createPinnedBar({ room, canPin: true, toast }); bar.onPinned(pin) */
export function createPinnedBar({ room, canPin, toast }: PinnedBarOptions) {
  const bar = byId('pinned-bar')
  const toggle = byId<HTMLButtonElement>('pinned-toggle')
  const list = byId('pinned-list')
  let pins: Pin[] = []
  let closed = false

  function render(): void {
    bar.hidden = pins.length === 0
    const newest = pins[0]
    toggle.textContent = newest
      ? `📌 ${pins.length} pinned · ${newest.message.content || 'attachment'}`
      : ''
    toggle.setAttribute('aria-expanded', String(!list.hidden))
    list.replaceChildren(
      ...pins.map((pin) =>
        el(
          'li',
          { 'data-testid': 'pinned-item', 'data-id': pin.messageId },
          el(
            'span',
            { class: 'pinned-author' },
            pin.message.sender_id.full_name || pin.message.sender_id.username
          ),
          ' ',
          el('span', { class: 'pinned-content' }, pin.message.content),
          canPin
            ? el(
                'button',
                {
                  type: 'button',
                  class: 'small',
                  'data-testid': 'unpin',
                  'data-id': pin.messageId,
                },
                'Unpin'
              )
            : null
        )
      )
    )
  }

  const onToggle = () => {
    list.hidden = !list.hidden
    render()
  }
  const onList = (event: Event) => {
    const id = (event.target as HTMLElement).closest<HTMLElement>('[data-testid="unpin"]')?.dataset
      .id
    if (id) void setPinned(id, false).then((res) => res.ok || toast(res.error.message))
  }
  toggle.addEventListener('click', onToggle)
  list.addEventListener('click', onList)
  list.hidden = true
  pins = []
  render()

  /** Loads the room's pins (joined-* said how many there are). */
  async function load(): Promise<void> {
    const found = await listPins(room.kind, room.id)
    if (closed) return
    if (!found.ok) return toast(found.error.message)
    pins = found.value
    render()
  }

  return {
    load,
    /** Pins or unpins a message here (the broadcast updates the bar). */
    pin(messageId: string): void {
      const pinned = pins.some((p) => p.messageId === messageId)
      void setPinned(messageId, !pinned).then((res) => res.ok || toast(res.error.message))
    },
    onPinned(pin: Pin): void {
      pins = [pin, ...pins.filter((p) => p.messageId !== pin.messageId)]
      render()
    },
    onUnpinned(messageId: string): void {
      pins = pins.filter((p) => p.messageId !== messageId)
      render()
    },
    close(): void {
      closed = true
      toggle.removeEventListener('click', onToggle)
      list.removeEventListener('click', onList)
      pins = []
      render()
    },
  }
}
