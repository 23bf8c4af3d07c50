/** @module Login and registration forms; resolve with the signed-in user. */
import { login, register } from './api.ts'
import { byId } from './dom.ts'
import type { User } from './types.ts'

/** Shows the auth screen until a login or registration succeeds. */
export function showAuth(): Promise<User> {
  const view = byId('auth-view')
  const errorLine = byId('auth-error')
  view.hidden = false
  byId('app-view').hidden = true
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
