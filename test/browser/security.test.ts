/**
 * @module The web client's page in Chromium under its Content-Security-Policy: it works, an
 * injected inline script and inline handler do not run, another origin cannot frame it; and the
 * reload-during-refresh race: a page reloaded while its refresh was in flight keeps its session
 * (the grace for a just-rotated token), and loses it without the grace.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import {
  BROWSER_SKIP_REASON,
  launchBrowser,
  newUser,
  newUserContext,
  registerThroughUi,
  type ServerProcess,
  screenshot,
  spawnServer,
  watchedPage,
} from '../helpers/browser.ts'

if (BROWSER_SKIP_REASON) console.warn(`[test/browser] ${BROWSER_SKIP_REASON}`)

const STEP_MS = 60_000
const UI_WAIT_MS = 10_000

/** CSP violations the page reports, collected from the start of every document. */
async function watchViolations(page: Page): Promise<string[]> {
  const seen: string[] = []
  await page.exposeFunction('reportViolation', (text: string) => seen.push(text))
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      ;(window as unknown as { reportViolation(text: string): void }).reportViolation(
        `${event.violatedDirective} ${event.blockedURI}`
      )
    })
  })
  return seen
}

describe.skipIf(BROWSER_SKIP_REASON !== null)('the page under its CSP', () => {
  let server: ServerProcess
  let browser: Browser

  beforeAll(async () => {
    server = await spawnServer()
    browser = await launchBrowser()
  }, STEP_MS)
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  test(
    '/ and /docs carry the headers; the app works with no violation; injected inline code does not run',
    async () => {
      for (const path of ['/', '/docs']) {
        const res = await fetch(`${server.url}${path}`)
        expect(res.status).toBe(200)
        const csp = res.headers.get('content-security-policy') ?? ''
        for (const directive of [
          "script-src 'self'",
          "style-src 'self'",
          "connect-src 'self'",
          "frame-ancestors 'none'",
        ])
          expect(csp).toContain(directive)
        expect(csp).not.toContain('unsafe-inline')
        expect(res.headers.get('x-frame-options')).toBe('DENY')
        expect(res.headers.get('x-content-type-options')).toBe('nosniff')
        expect(res.headers.get('referrer-policy')).toBe('no-referrer')
        // No inline script or style in the page itself.
        const html = await res.text()
        expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
        expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/)
      }

      const { context, page, errors } = await watchedPage(browser, server.url, UI_WAIT_MS)
      const violations = await watchViolations(page)
      await registerThroughUi(page, newUser('Csp'))
      await page.getByTestId('room-title').getByText(/chat$/).waitFor()
      await page.getByTestId('composer-input').fill('works under a strict CSP')
      await page.getByTestId('send').click()
      await page
        .locator('[data-testid="message"][data-status="sent"]')
        .getByText('works under a strict CSP')
        .waitFor()
      expect(violations).toEqual([])

      // An attacker's markup that got into the page: neither its script nor its handler runs.
      const blocked = page.evaluate(
        () =>
          new Promise<string>((resolve) =>
            document.addEventListener('securitypolicyviolation', (e) =>
              resolve(e.violatedDirective)
            )
          )
      )
      await page.evaluate(() => {
        const script = document.createElement('script')
        script.textContent = 'window.pwned = "script"'
        document.body.append(script)
        const holder = document.createElement('div')
        holder.innerHTML = '<img src="data:," onload="window.pwnedHandler = true">'
        document.body.append(holder)
      })
      expect(await blocked).toMatch(/^script-src/)
      await page.waitForFunction(() => document.querySelectorAll('img[onload]').length === 1)
      expect(
        await page.evaluate(() => [
          (window as { pwned?: string }).pwned ?? null,
          (window as { pwnedHandler?: boolean }).pwnedHandler ?? null,
        ])
      ).toEqual([null, null])
      await screenshot(page, 'csp-page')

      const docs = await context.newPage()
      const docViolations = await watchViolations(docs)
      docs.on('pageerror', (error) => errors.push(error.message))
      await docs.goto('/docs')
      await docs.getByRole('heading', { level: 1 }).first().waitFor()
      expect(docViolations).toEqual([])
      expect(errors).toEqual([])
      await context.close()
    },
    STEP_MS
  )

  test(
    'another origin cannot frame the page',
    async () => {
      const framer = Bun.serve({
        port: 0,
        hostname: '127.0.0.1',
        fetch: () =>
          new Response(`<!doctype html><iframe id="f" src="${server.url}/"></iframe>`, {
            headers: { 'content-type': 'text/html' },
          }),
      })
      try {
        const context = await browser.newContext()
        const page = await context.newPage()
        const refused = page.waitForEvent('console', (message) =>
          /frame-ancestors|Refused to (display|frame)/i.test(message.text())
        )
        await page.goto(`http://127.0.0.1:${framer.port}/`)
        expect((await refused).text()).toMatch(/frame-ancestors|X-Frame-Options/)
        const frame = page.frames().find((f) => f !== page.mainFrame())
        // The framed document never became the app: its login form is not there.
        expect(await frame?.locator('[data-testid="auth-view"]').count()).toBe(0)
        await context.close()
      } finally {
        framer.stop(true)
      }
    },
    STEP_MS
  )
})

/**
 * Reload while a refresh is in flight: the server rotates the token, but the response (with the
 * new cookie) never reaches the page, because the page reloads first. The new document then
 * refreshes with the old cookie.
 */
async function reloadDuringRefresh(server: ServerProcess, browser: Browser, name: string) {
  const context = await newUserContext(browser, server.url)
  context.setDefaultTimeout(UI_WAIT_MS)
  const page = await context.newPage()
  await registerThroughUi(page, newUser(name))

  let held = false
  let rotated!: () => void
  const serverRotated = new Promise<void>((resolve) => {
    rotated = resolve
  })
  let release!: () => void
  const navigated = new Promise<void>((resolve) => {
    release = resolve
  })
  await page.route('**/api/auth/refresh', async (route) => {
    if (held) return route.continue()
    held = true
    // The request reaches the server (it rotates the token); its answer never reaches the page,
    // which is navigating away meanwhile.
    const answer = await fetch(route.request().url(), {
      method: 'POST',
      headers: await route.request().allHeaders(),
    })
    expect(answer.status).toBe(200)
    rotated()
    await navigated
    await route.abort('aborted').catch(() => undefined)
  })
  // A reload: the page's boot asks for a refresh (the access token was in memory only)...
  await page.reload()
  await serverRotated
  // ...and the user reloads again while that refresh is in flight.
  const second = page.reload()
  await page.waitForEvent('framenavigated')
  release()
  await second
  return { page, context }
}

describe.skipIf(BROWSER_SKIP_REASON !== null)('reload during a token refresh', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  }, STEP_MS)
  afterAll(() => browser?.close())

  test(
    'with the grace window the session survives the race',
    async () => {
      const server = await spawnServer({ REFRESH_REUSE_GRACE: '10s' })
      try {
        const { page, context } = await reloadDuringRefresh(server, browser, 'Race')
        await page.getByTestId('app-view').waitFor()
        expect(await page.getByTestId('auth-view').isHidden()).toBe(true)
        await screenshot(page, 'reload-during-refresh')
        await context.close()
      } finally {
        await server.stop()
      }
    },
    STEP_MS
  )

  test(
    'without it (REFRESH_REUSE_GRACE=0) the same race logs the user out: reuse detection is real',
    async () => {
      const server = await spawnServer({ REFRESH_REUSE_GRACE: '0' })
      try {
        const { page, context } = await reloadDuringRefresh(server, browser, 'NoGrace')
        await page.getByTestId('auth-view').waitFor()
        expect(await page.getByTestId('app-view').isHidden()).toBe(true)
        await context.close()
      } finally {
        await server.stop()
      }
    },
    STEP_MS
  )
})
