/**
 * @module Login and registration forms, "Forgot password?" and the page a mailed reset link opens;
 * resolve with the signed-in user.
 */
import { forgotPassword, login, register, resetPassword } from './api.ts'
import { byId } from './dom.ts'
import type { User } from './types.ts'

/**
 * Shows the auth screen until a login or registration succeeds. With `resetToken` (a mailed
 * `#reset=` link) it first asks for the new password; `notice` is shown above the forms.
 */
export function showAuth(options: { resetToken?: string; notice?: string } = {}): Promise<User> {
  const view = byId('auth-view')
  const errorLine = byId('auth-error')
  const statusLine = byId('auth-status')
  view.hidden = false
  byId('app-view').hidden = true
  statusLine.textContent = options.notice ?? ''
  wireForgot(statusLine, errorLine)
  if (options.resetToken) wireReset(options.resetToken, statusLine, errorLine)
  return new Promise((resolve) => {
    const done = (user: User) => {
      view.hidden = true
      resolve(user)
    }
    const wire = (id: string, submit: (data: FormData) => ReturnType<typeof login>) => {
      const form = byId<HTMLFormElement>(id)
      form.addEventListener('submit', async (event) => {
        event.preventDefault()
        const button = form.querySelector('button')
        if (button) button.disabled = true
        errorLine.textContent = ''
        const result = await submit(new FormData(form))
        if (button) button.disabled = false
        if (result.ok) return done(result.value)
        errorLine.textContent = describe(result.error)
      })
    }
    const field = (data: FormData, name: string) => String(data.get(name) ?? '').trim()
    wire('login-form', (data) =>
      login({ login: field(data, 'login'), password: String(data.get('password') ?? '') })
    )
    wire('register-form', (data) =>
      register({
        username: field(data, 'username'),
        email: field(data, 'email'),
        full_name: field(data, 'full_name'),
        password: String(data.get('password') ?? ''),
      })
    )
  })
}

/** "Forgot password?" opens a form that asks for the address; the answer is the same for any. */
function wireForgot(statusLine: HTMLElement, errorLine: HTMLElement): void {
  const toggle = byId<HTMLButtonElement>('forgot-toggle')
  const form = byId<HTMLFormElement>('forgot-form')
  toggle.addEventListener('click', () => {
    form.hidden = !form.hidden
    toggle.setAttribute('aria-expanded', String(!form.hidden))
    if (!form.hidden) form.querySelector('input')?.focus()
  })
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const button = form.querySelector('button')
    if (button) button.disabled = true
    errorLine.textContent = ''
    const email = String(new FormData(form).get('email') ?? '').trim()
    const sent = await forgotPassword(email)
    if (button) button.disabled = false
    if (!sent.ok) {
      errorLine.textContent = describe(sent.error)
      return
    }
    form.hidden = true
    toggle.setAttribute('aria-expanded', 'false')
    statusLine.textContent = `If ${email} belongs to an account, a link to set a new password is on its way. It works once.`
  })
}

/** The page a reset link opens: a new password, twice; then back to the login form. */
function wireReset(token: string, statusLine: HTMLElement, errorLine: HTMLElement): void {
  const form = byId<HTMLFormElement>('reset-form')
  const forms = view()
  form.hidden = false
  forms.hidden = true
  form.querySelector('input')?.focus()
  form.addEventListener('input', () => {
    errorLine.textContent = ''
  })
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const data = new FormData(form)
    const password = String(data.get('password') ?? '')
    errorLine.textContent = ''
    if (password !== String(data.get('repeat') ?? '')) {
      errorLine.textContent = 'The two passwords differ.'
      return
    }
    const button = form.querySelector('button')
    if (button) button.disabled = true
    const reset = await resetPassword(token, password)
    if (button) button.disabled = false
    if (!reset.ok) {
      errorLine.textContent = `That link does not work (${describe(reset.error)}). Ask for a new one with "Forgot password?".`
      form.hidden = true
      forms.hidden = false
      return
    }
    form.hidden = true
    forms.hidden = false
    statusLine.textContent =
      'Your password is changed and every device was signed out. Log in with the new password.'
    byId<HTMLFormElement>('login-form').querySelector<HTMLInputElement>('input')?.focus()
  })
}

const view = () => byId('auth-forms')

/** The server's message plus, for invalid input, which fields were wrong. */
function describe(error: { message: string; details?: unknown }): string {
  // invalid_input carries `details: { issues: [{ path, message }] }` (chat/inputs.ts parseInput).
  const raw = error.details as { issues?: unknown } | unknown[] | undefined
  const details = Array.isArray(raw) ? raw : raw?.issues
  if (Array.isArray(details)) {
    const fields = details
      .map((d: { path?: unknown; message?: unknown } | null) =>
        d?.message ? `${d.path ? `${String(d.path)} ` : ''}${String(d.message)}` : ''
      )
      .filter(Boolean)
    if (fields.length) return `${error.message}: ${fields.join('; ')}`
  }
  return error.message
}
