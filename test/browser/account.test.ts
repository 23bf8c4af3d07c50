/**
 * @module The web client's account pages in Chromium, against a real SMTP server: "Forgot
 * password?" mails a link the server itself serves, the page it opens sets the new password
 * (once: the same link is refused after), and the old password stops working; the settings page
 * shows the email's state and sends the verification link again (which verifies when opened),
 * changes the password keeping this device, lists the devices and signs one out or every other,
 * prepares and downloads a data export, and erases the account (its password confirms it).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { api } from '../helpers/api.ts'
import {
  BROWSER_SKIP_REASON,
  launchBrowser,
  newUser,
  registerThroughUi,
  type ServerProcess,
  screenshot,
  spawnServer,
  watchedPage,
} from '../helpers/browser.ts'
import { type ReceivedMail, startSmtp, type TestSmtp } from '../helpers/smtp.ts'

if (BROWSER_SKIP_REASON) console.warn(`[test/browser] ${BROWSER_SKIP_REASON}`)

const STEP_MS = 60_000
const UI_WAIT_MS = 10_000

/** The mailed link, as the mail says it. */
function linkIn(mail: ReceivedMail, kind: 'verify' | 'reset'): string {
  const match = new RegExp(`https?://\\S+/#${kind}=[A-Za-z0-9_-]+`).exec(mail.text)
  if (!match) throw new Error(`no ${kind} link in: ${mail.text}`)
  return match[0]
}

async function logIn(page: Page, login: string, password: string): Promise<void> {
  const form = page.getByTestId('login-form')
  await form.getByLabel('Username or email').fill(login)
  await form.getByLabel('Password').fill(password)
  await form.getByRole('button', { name: 'Log in' }).click()
}

describe.skipIf(BROWSER_SKIP_REASON !== null)('account pages', () => {
  let server: ServerProcess
  let smtp: TestSmtp
  let browser: Browser

  beforeAll(async () => {
    smtp = await startSmtp()
    server = await spawnServer((port) => ({
      SMTP_URL: smtp.url,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    }))
    browser = await launchBrowser()
  }, STEP_MS)
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await smtp?.stop()
  })

  test(
    'Forgot password? → the mail → the page its link opens sets the password, once',
    async () => {
      const alice = newUser('Alice')
      const { context, page, errors } = await watchedPage(browser, server.url, UI_WAIT_MS)
      await registerThroughUi(page, alice)
      await smtp.next(alice.email, /verify/i)
      await page.getByTestId('logout').click()
      await page.getByTestId('login-form').waitFor()

      await page.getByTestId('forgot-toggle').click()
      const forgot = page.getByTestId('forgot-form')
      await forgot.getByLabel('Email').fill(alice.email)
      await screenshot(page, 'account-forgot-password')
      await forgot.getByRole('button', { name: 'Send the link' }).click()
      await page
        .getByTestId('auth-status')
        .filter({ hasText: 'a link to set a new password is on its way' })
        .waitFor()
      expect(await forgot.isHidden()).toBe(true)

      const mail = await smtp.next(alice.email, /password/i)
      const link = linkIn(mail, 'reset')
      // The link is the server's own page.
      const url = new URL(link)
      expect(`${url.protocol}//${url.host}`).toBe(server.url)
      expect(url.pathname).toBe('/')

      await page.goto(link)
      const reset = page.getByTestId('reset-form')
      await reset.waitFor()
      // The single-use token left the address bar.
      expect(page.url()).not.toContain('#reset=')
      expect(await page.getByTestId('login-form').isVisible()).toBe(false)
      await reset.getByLabel('New password').fill('a-brand-new-password')
      await reset.getByLabel('Repeat it').fill('not the same one')
      await reset.getByRole('button', { name: 'Set the password' }).click()
      await page.getByTestId('auth-error').filter({ hasText: 'differ' }).waitFor()
      await reset.getByLabel('Repeat it').fill('a-brand-new-password')
      await screenshot(page, 'account-reset-password')
      await reset.getByRole('button', { name: 'Set the password' }).click()
      await page.getByText('Your password is changed').waitFor()
      expect(await reset.isHidden()).toBe(true)

      // The old password is refused, the new one works.
      await logIn(page, alice.username, alice.password)
      await page.getByTestId('auth-error').filter({ hasText: /./ }).waitFor()
      expect(await page.getByTestId('app-view').isVisible()).toBe(false)
      await logIn(page, alice.username, 'a-brand-new-password')
      await page.getByTestId('app-view').waitFor()

      // The same link again: refused, and the login form is back.
      await page.getByTestId('logout').click()
      await page.getByTestId('login-form').waitFor()
      await page.goto(link)
      await page.getByTestId('reset-form').waitFor()
      await page.getByTestId('reset-form').getByLabel('New password').fill('yet-another-password')
      await page.getByTestId('reset-form').getByLabel('Repeat it').fill('yet-another-password')
      await page.getByTestId('reset-form').getByRole('button', { name: 'Set the password' }).click()
      await page.getByTestId('auth-error').filter({ hasText: 'Forgot password?' }).waitFor()
      await screenshot(page, 'account-reset-link-used')
      expect(await page.getByTestId('login-form').isVisible()).toBe(true)
      const still = await api(server.url, 'POST', '/api/auth/login', {
        body: { login: alice.username, password: 'a-brand-new-password' },
      })
      expect(still.status).toBe(200)
      expect(errors).toEqual([])
      await context.close()
    },
    STEP_MS
  )

  test(
    'settings: email state and the link again, change password, devices signed out, export',
    async () => {
      const bob = newUser('Bob')
      const { context, page, errors } = await watchedPage(browser, server.url, UI_WAIT_MS)
      await registerThroughUi(page, bob)
      await smtp.next(bob.email, /verify/i)
      // Two more devices of bob's (API logins with their own user agents).
      const other = async (agent: string) =>
        api(server.url, 'POST', '/api/auth/login', {
          body: { login: bob.username, password: bob.password },
          headers: { 'user-agent': agent },
        })
      const phone = await other(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1'
      )
      const laptop = await other(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0'
      )
      expect(phone.status).toBe(200)
      expect(laptop.status).toBe(200)

      await page.getByTestId('open-settings').click()
      const panel = page.getByTestId('settings-panel')
      await panel.waitFor()
      await page.getByTestId('settings-email').filter({ hasText: bob.email }).waitFor()
      expect(await page.getByTestId('settings-email').textContent()).toBe(bob.email)
      await page
        .getByTestId('email-state')
        .filter({ hasText: /^not verified$/ })
        .waitFor()
      await page.getByTestId('device').nth(2).waitFor()
      expect(await page.getByTestId('device').count()).toBe(3)
      expect(await page.getByTestId('this-device').count()).toBe(1)
      await screenshot(page, 'account-settings')

      // The verification link again; opening it verifies the address.
      await page.getByTestId('resend-verification').click()
      await page.getByTestId('settings-status').filter({ hasText: 'is on its way' }).waitFor()
      const verify = await smtp.next(bob.email, /verify/i)
      await page.goto(linkIn(verify, 'verify'))
      await page.getByTestId('toast').filter({ hasText: 'is verified' }).waitFor()
      await page.getByTestId('open-settings').click()
      await page
        .getByTestId('email-state')
        .filter({ hasText: /^verified$/ })
        .waitFor()
      expect(await page.getByTestId('resend-verification').isHidden()).toBe(true)

      // Sign out one device: its refresh token stops working.
      const phoneRow = page.getByTestId('device').filter({ hasText: 'Safari on iOS' })
      await phoneRow.getByTestId('sign-out-device').click()
      await page.getByTestId('settings-status').filter({ hasText: 'is signed out' }).waitFor()
      await phoneRow.waitFor({ state: 'detached' })
      expect(await page.getByTestId('device').count()).toBe(2)
      const phoneRefresh = await api(server.url, 'POST', '/api/auth/refresh', {
        body: { refreshToken: phone.body.refreshToken },
      })
      expect(phoneRefresh.status).toBe(401)

      // A wrong current password is refused; the right one changes it, this device stays.
      const form = page.getByTestId('password-form')
      await form.getByLabel('Current password').fill('not-my-password')
      await form.getByLabel('New password').fill('bobs-new-password')
      await form.getByRole('button', { name: 'Change password' }).click()
      await page.getByTestId('settings-status').filter({ hasText: 'wrong' }).waitFor()
      await form.getByLabel('Current password').fill(bob.password)
      await form.getByLabel('New password').fill('bobs-new-password')
      await form.getByRole('button', { name: 'Change password' }).click()
      await page.getByTestId('settings-status').filter({ hasText: 'password is changed' }).waitFor()
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="device"]').length === 1
      )
      const laptopRefresh = await api(server.url, 'POST', '/api/auth/refresh', {
        body: { refreshToken: laptop.body.refreshToken },
      })
      expect(laptopRefresh.status).toBe(401)
      expect(await page.getByTestId('sign-out-others').isHidden()).toBe(true)
      // This page still works after a reload (its session survived).
      await page.reload()
      await page.getByTestId('app-view').waitFor()

      // "Sign out all other devices".
      const again = await api(server.url, 'POST', '/api/auth/login', {
        body: { login: bob.username, password: 'bobs-new-password' },
      })
      await page.getByTestId('open-settings').click()
      await page.getByTestId('device').nth(1).waitFor()
      await page.getByTestId('sign-out-others').click()
      await page.getByTestId('settings-status').filter({ hasText: 'Every other device' }).waitFor()
      expect(
        (
          await api(server.url, 'POST', '/api/auth/refresh', {
            body: { refreshToken: again.body.refreshToken },
          })
        ).status
      ).toBe(401)

      // Export: prepared in the background, then downloaded as NDJSON with the profile in it.
      await page.getByTestId('request-export').click()
      const download = page.getByTestId('download-export')
      await download.waitFor({ timeout: 30_000 })
      await screenshot(page, 'account-settings-export')
      const [file] = await Promise.all([page.waitForEvent('download'), download.click()])
      const path = await file.path()
      const text = await Bun.file(path).text()
      expect(file.suggestedFilename()).toEndWith('.ndjson')
      expect(text).toContain(bob.username)
      expect(errors).toEqual([])
      await context.close()
    },
    STEP_MS
  )

  test(
    'settings: delete account erases it (a wrong password is refused) and the page is back at the login',
    async () => {
      const carol = newUser('Carol')
      const { context, page, errors } = await watchedPage(browser, server.url, UI_WAIT_MS)
      const asked: string[] = []
      page.on('dialog', (dialog) => {
        asked.push(dialog.message())
        void dialog.accept()
      })
      await registerThroughUi(page, carol)
      await page.getByTestId('open-settings').click()
      const form = page.getByTestId('delete-form')
      await form.getByLabel('Password').fill('not-carols-password')
      await form.getByRole('button', { name: 'Delete my account' }).click()
      await page
        .getByTestId('settings-status')
        .filter({ hasText: /password/i })
        .waitFor()
      expect(await page.getByTestId('app-view').isVisible()).toBe(true)
      await form.getByLabel('Password').fill(carol.password)
      await screenshot(page, 'account-settings-delete')
      await form.getByRole('button', { name: 'Delete my account' }).click()
      await page.getByTestId('login-form').waitFor()
      expect(asked).toHaveLength(2)
      const login = await api(server.url, 'POST', '/api/auth/login', {
        body: { login: carol.username, password: carol.password },
      })
      expect(login.status).toBe(401)
      expect(errors).toEqual([])
      await context.close()
    },
    STEP_MS
  )
})
