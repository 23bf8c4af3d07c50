/**
 * @module Who I blocked: loaded once at start (GET /api/users/me/blocks), changed from a
 * message's menu or the profile panel's list. City rooms hide a blocked user's messages and
 * re-render when the list changes; the server refuses private chats with them.
 */
import { listBlocks, setBlock } from './api.ts'
import { byId, el } from './dom.ts'
import type { PublicUser } from './types.ts'

export type Blocks = ReturnType<typeof createBlocks>

export function createBlocks(toast: (message: string) => void) {
  const users = new Map<string, PublicUser>()
  const listeners = new Set<() => void>()

  /** The profile panel's list, each with Unblock. */
  function render(): void {
    const list = byId('blocked-users')
    list.replaceChildren(
      ...(users.size === 0
        ? [el('li', { class: 'empty' }, 'Nobody blocked')]
        : [...users.values()].map((user) => {
            const button = el(
              'button',
              { type: 'button', class: 'small', 'data-testid': 'unblock-user' },
              'Unblock'
            )
            button.addEventListener('click', () => void set(user, false))
            return el(
              'li',
              { 'data-testid': 'blocked-user', 'data-user-id': user._id },
              `${user.full_name || user.username} `,
              button
            )
          }))
    )
  }

  function changed(): void {
    render()
    for (const listener of listeners) listener()
  }

  async function load(): Promise<void> {
    const blocks = await listBlocks()
    if (!blocks.ok) return toast(blocks.error.message)
    users.clear()
    for (const { user } of blocks.value) users.set(user._id, user)
    changed()
  }

  /** Blocks or unblocks; the rooms re-render once the server agreed. */
  async function set(user: PublicUser, on: boolean): Promise<void> {
    const done = await setBlock(user._id, on)
    if (!done.ok) return toast(done.error.message)
    if (on) users.set(user._id, user)
    else users.delete(user._id)
    toast(
      on
        ? `Blocked ${user.full_name || user.username}: their city messages are hidden`
        : `Unblocked ${user.full_name || user.username}`
    )
    changed()
  }

  return {
    load,
    set,
    has: (userId: string) => users.has(userId),
    /** Called on every change; returns the unsubscribe. */
    onChange(listener: () => void): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
