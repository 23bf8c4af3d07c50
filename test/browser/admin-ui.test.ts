/**
 * @module The Socket.IO Admin UI dashboard in Chromium: the package's own build, served by our
 * server at /admin-ui/ (ADMIN_UI=true), logs in to our /admin namespace and lists our chat
 * sockets and rooms; a wrong password is refused; its CSP stays on its path.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import {
  BROWSER_SKIP_REASON,
  launchBrowser,
  newUserContext,
  type ServerProcess,
  screenshot,
  spawnServer,
} from '../helpers/browser.ts'
import { ask, type ChatClient, chatUser } from '../helpers/chat-client.ts'

if (BROWSER_SKIP_REASON) console.warn(`[test/browser] ${BROWSER_SKIP_REASON}`)

const STEP_MS = 60_000
const UI_WAIT_MS = 15_000
const PASSWORD = 'dashboard-secret'

async function logIn(page: Page, url: string, password: string): Promise<void> {
  await page.goto('/admin-ui/')
  await page.getByLabel('Server URL').fill(url)
  await page.getByLabel('Username').fill('ops')
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Connect' }).click()
}

describe.skipIf(BROWSER_SKIP_REASON !== null)('the admin dashboard', () => {
  let server: ServerProcess
  let browser: Browser
  let chatter: ChatClient

  beforeAll(async () => {
    const hash = await Bun.password.hash(PASSWORD, { algorithm: 'bcrypt', cost: 4 })
    server = await spawnServer({
      ADMIN_UI: 'true',
      ADMIN_UI_USERNAME: 'ops',
      ADMIN_UI_PASSWORD_HASH: hash,
    })
    browser = await launchBrowser()
    chatter = await chatUser(server.url)
    expect(await ask(chatter.socket, 'join-city-chat', { cityId: 'mumbai' })).toMatchObject({
      ok: true,
    })
  }, STEP_MS)
  afterAll(async () => {
    chatter?.socket.disconnect()
    await browser?.close()
    await server?.stop()
  })

  test(
    'served with its own CSP; the web client keeps the strict one',
    async () => {
      const dashboard = await fetch(`${server.url}/admin-ui/`)
      expect(dashboard.status).toBe(200)
      expect(await dashboard.text()).toContain('Socket.IO Admin UI')
      const relaxed = dashboard.headers.get('content-security-policy') ?? ''
      expect(relaxed).toContain("style-src 'self' 'unsafe-inline'")
      expect(relaxed).toContain("script-src 'self'")
      const page = await fetch(`${server.url}/`)
      expect(page.headers.get('content-security-policy')).toContain("style-src 'self';")
      expect((await fetch(`${server.url}/admin-ui/js/nothing.js`)).status).toBe(404)
      const post = await fetch(`${server.url}/admin-ui/`, { method: 'POST' })
      expect(post.status).toBe(405)
      expect(await post.json()).toMatchObject({ error: { code: 'method_not_allowed' } })
    },
    STEP_MS
  )

  test(
    'a wrong password is refused in the dashboard',
    async () => {
      const context = await newUserContext(browser, server.url)
      const page = await context.newPage()
      try {
        await logIn(page, server.url, 'not-the-password')
        await page.getByText('Invalid credentials').waitFor({ timeout: UI_WAIT_MS })
      } finally {
        await context.close()
      }
    },
    STEP_MS
  )

  test(
    'it logs in and shows our chat socket and its room',
    async () => {
      const context = await newUserContext(browser, server.url)
      const page = await context.newPage()
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      try {
        await logIn(page, server.url, PASSWORD)
        await page.getByRole('button', { name: 'Connect' }).waitFor({
          state: 'hidden',
          timeout: UI_WAIT_MS,
        })
        await page.goto('/admin-ui/#/sockets')
        await page
          .getByText(chatter.socket.id ?? '?')
          .first()
          .waitFor({ timeout: UI_WAIT_MS })
        await screenshot(page, 'admin-ui-sockets')
        await page.goto('/admin-ui/#/rooms')
        await page.getByText('city:mumbai').first().waitFor({ timeout: UI_WAIT_MS })
        // The page slides in; the screenshot waits for it to settle.
        await page.waitForTimeout(600)
        await screenshot(page, 'admin-ui-rooms')
        expect(errors).toEqual([])
      } finally {
        await context.close()
      }
    },
    STEP_MS
  )
})
