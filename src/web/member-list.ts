/**
 * @module A private chat's members in the room header: each with their role (the owner and the
 * admins marked), and for the owner "Make admin" / "Remove admin" beside every other member
 * (PUT /api/chats/:chatId/members/:userId/role). The server's `chat-member-role-changed` keeps it
 * in step; a city hides it.
 */
import { setMemberRole } from './api.ts'
import { el } from './dom.ts'
import type { Member, PublicUser } from './types.ts'

interface MemberListOptions {
  box: HTMLDetailsElement
  summary: HTMLElement
  list: HTMLElement
  me: PublicUser
  toast: (message: string) => void
}

const BADGE: Record<string, string> = { owner: 'Owner', admin: 'Admin' }

/** @example const members = createMemberList({ box, summary, list, me, toast }); members.show(chatId, chat.members) */
export function createMemberList({ box, summary, list, me, toast }: MemberListOptions) {
  let chatId: string | null = null
  let members: Member[] = []

  function render(): void {
    const mine = members.find((m) => m.userId === me._id)?.role
    summary.textContent = `Members (${members.length})`
    list.replaceChildren(
      ...members.map((member) => {
        const badge = BADGE[member.role]
        const name = member.full_name || member.username
        const row = el(
          'li',
          { 'data-testid': 'chat-member', 'data-user-id': member.userId, 'data-role': member.role },
          el('span', {}, member.userId === me._id ? `${name} (you)` : name),
          badge ? el('span', { class: 'role-badge', 'data-testid': 'member-role' }, badge) : null
        )
        if (mine === 'owner' && member.role !== 'owner') {
          const admin = member.role === 'admin'
          const button = el(
            'button',
            { type: 'button', class: 'small', 'data-testid': 'toggle-admin' },
            admin ? 'Remove admin' : 'Make admin'
          )
          button.addEventListener(
            'click',
            () => void change(member.userId, admin ? 'member' : 'admin')
          )
          row.append(button)
        }
        return row
      })
    )
  }

  async function change(userId: string, role: 'admin' | 'member'): Promise<void> {
    if (!chatId) return
    const done = await setMemberRole(chatId, userId, role)
    if (!done.ok) {
      toast(done.error.message)
      return
    }
    if (done.value && done.value._id === chatId) show(chatId, done.value.members)
  }

  function show(id: string, next: Member[]): void {
    chatId = id
    members = next
    box.hidden = false
    render()
  }

  return {
    show,
    /** A city is open: no member list. */
    hide(): void {
      chatId = null
      members = []
      box.hidden = true
      box.open = false
    },
    /** `chat-member-role-changed` for the chat shown. */
    onRoleChanged(event: { chatId: string; userId: string; role: string }): void {
      if (event.chatId !== chatId) return
      members = members.map((m) => (m.userId === event.userId ? { ...m, role: event.role } : m))
      render()
    },
  }
}
