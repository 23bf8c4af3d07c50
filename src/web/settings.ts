/**
 * @module Settings page: change password, the email's verification state (and the link again),
 * the devices signed in (sign one out, or every other), a data export, and erasing the account.
 */
import {
  changePassword,
  type Device,
  deleteAccount,
  fetchExport,
  listSessions,
  me,
  requestExport,
  resendVerification,
  revokeOtherSessions,
  revokeSession,
} from './api.ts'
import { byId, el } from './dom.ts'
import type { User } from './types.ts'

interface SettingsOptions {
  user: User
  toast: (text: string) => void
  /** The account is gone (erased): back to the login page. */
  signedOut: () => void
}

const when = (iso: string) => {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleString()
}

/** @example wireSettings({ user, toast, signedOut }) */
export function wireSettings({ user, toast, signedOut }: SettingsOptions): void {
  const panel = byId('settings')
  const status = byId('settings-status')
  let current = user
  const say = (text: string) => {
    status.textContent = text
  }

  function showEmail(): void {
    byId('settings-email').textContent = current.email
    byId('email-state').textContent = current.email_verified ? 'verified' : 'not verified'
    byId('email-state').dataset.verified = String(current.email_verified)
    byId('resend-verification').hidden = current.email_verified
  }

  async function showDevices(): Promise<void> {
    const list = byId('device-list')
    const sessions = await listSessions()
    if (!sessions.ok) {
      list.replaceChildren(el('li', {}, sessions.error.message))
      return
    }
    list.replaceChildren(...sessions.value.map(deviceItem))
    byId('sign-out-others').hidden = !sessions.value.some((session) => !session.current)
  }

  function deviceItem(session: Device): HTMLElement {
    const item = el(
      'li',
      { 'data-testid': 'device', 'data-session-id': session._id },
      el('strong', {}, session.device),
      session.current
        ? el('span', { class: 'pill', 'data-testid': 'this-device' }, 'this device')
        : null,
      el(
        'span',
        { class: 'when' },
        `last used ${when(session.last_used_at)}${session.address ? ` from ${session.address}` : ''}`
      )
    )
    if (!session.current) {
      const button = el('button', { type: 'button', 'data-testid': 'sign-out-device' }, 'Sign out')
      button.addEventListener('click', async () => {
        button.disabled = true
        const revoked = await revokeSession(session._id)
        if (!revoked.ok) {
          button.disabled = false
          return say(revoked.error.message)
        }
        say(`${session.device} is signed out.`)
        await showDevices()
      })
      item.append(button)
    }
    return item
  }

  async function showExportState(): Promise<void> {
    const state = byId('export-state')
    const found = await fetchExport()
    const download = byId('download-export')
    if (!found.ok) {
      // 404: none made yet.
      state.textContent = found.status === 404 ? '' : found.error.message
      download.hidden = true
      return
    }
    state.textContent = found.value.state === 'ready' ? 'Ready.' : `Export ${found.value.state}…`
    download.hidden = found.value.state !== 'ready'
  }

  byId('open-settings').addEventListener('click', async () => {
    panel.hidden = false
    say('')
    const fresh = await me()
    if (fresh.ok) current = fresh.value
    showEmail()
    await Promise.all([showDevices(), showExportState()])
  })
  byId('close-settings').addEventListener('click', () => {
    panel.hidden = true
  })

  byId('resend-verification').addEventListener('click', async () => {
    const sent = await resendVerification()
    say(sent.ok ? `A verification link is on its way to ${current.email}.` : sent.error.message)
  })

  const passwordForm = byId<HTMLFormElement>('password-form')
  passwordForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    const data = new FormData(passwordForm)
    const changed = await changePassword(
      String(data.get('currentPassword') ?? ''),
      String(data.get('newPassword') ?? '')
    )
    if (!changed.ok) return say(changed.error.message)
    passwordForm.reset()
    say('Your password is changed; your other devices are signed out.')
    await showDevices()
  })

  byId('sign-out-others').addEventListener('click', async () => {
    const done = await revokeOtherSessions()
    say(done.ok ? 'Every other device is signed out.' : done.error.message)
    await showDevices()
  })

  byId('request-export').addEventListener('click', async () => {
    const started = await requestExport()
    if (!started.ok && started.status !== 409) return say(started.error.message)
    say('Your export is being prepared; it can be downloaded here once ready.')
    // Made in the background: ask again until it is ready (a few seconds for most accounts).
    for (let tries = 0; tries < 60 && !panel.hidden; tries++) {
      await showExportState()
      if (!byId('download-export').hidden) return
      await new Promise((resolve) => setTimeout(resolve, 1_000))
    }
  })

  byId('download-export').addEventListener('click', async () => {
    const found = await fetchExport()
    if (!found.ok || !found.value.archive) return say('The export is not ready.')
    const link = el('a', {
      href: URL.createObjectURL(found.value.archive),
      download: found.value.name,
    })
    document.body.append(link)
    link.click()
    link.remove()
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000)
  })

  const deleteForm = byId<HTMLFormElement>('delete-form')
  deleteForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    if (!confirm('Delete your account and everything you sent, for good?')) return
    const password = String(new FormData(deleteForm).get('password') ?? '')
    const deleted = await deleteAccount(password)
    if (!deleted.ok) return say(deleted.error.message)
    toast('Your account is deleted.')
    signedOut()
  })
}
