/**
 * @module End-to-end: two users in two browser contexts chat through the real server and the web
 * client — city and private chat, typing, presence, edit, delete, read receipts, reload, and a
 * server crash + restart with missed messages recovered. Screenshots go to test/artifacts/.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { api, registerUser } from '../helpers/api.ts'
import {
  BROWSER_SKIP_REASON,
  type BrowserUser,
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

/** A failing step that involves server restarts reports the server's last log lines too. */
async function withServerLogs(server: ServerProcess, step: () => Promise<void>): Promise<void> {
  try {
    await step()
  } catch (error) {
    const tail = server.logs.slice(-20).join('\n')
    throw new Error(`${(error as Error).message}\n--- server log tail ---\n${tail}`)
  }
}

/** One step of the story may wait on several round trips through two browsers. */
const STEP_MS = 60_000
/** How long one UI expectation may take before the step fails. */
const UI_WAIT_MS = 10_000

describe.skipIf(BROWSER_SKIP_REASON !== null)('web client in Chromium', () => {
  let server: ServerProcess
  let browser: Browser
  let contextA: BrowserContext
  let contextB: BrowserContext
  let a: Page
  let b: Page
  const alice: BrowserUser = newUser('Alice')
  const bob: BrowserUser = newUser('Bob')
  const pageErrors: string[] = []

  beforeAll(async () => {
    server = await spawnServer()
    browser = await launchBrowser()
    contextA = await newUserContext(browser, server.url)
    // Bob uses a phone-sized screen: the layout must work at 360 px.
    contextB = await newUserContext(browser, server.url, { width: 360, height: 740 })
    for (const context of [contextA, contextB]) context.setDefaultTimeout(UI_WAIT_MS)
    a = await contextA.newPage()
    b = await contextB.newPage()
    for (const page of [a, b]) {
      page.on('pageerror', (error) => pageErrors.push(error.message))
      page.on('dialog', (dialog) => void dialog.accept())
    }
  }, STEP_MS)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  /** Rooms are in the sidebar; on a phone it opens from the "Rooms" button. */
  async function openRoom(page: Page, testId: 'city' | 'chat', name: string | RegExp) {
    const toggle = page.locator('#menu-toggle')
    if (await toggle.isVisible()) await toggle.click()
    await page.getByTestId(testId).filter({ hasText: name }).click()
  }

  const message = (page: Page, text: string) =>
    page
      .getByTestId('message')
      .filter({ has: page.getByTestId('message-content').getByText(text, { exact: true }) })

  test(
    'register, land in a city, screenshots of the login and chat screens',
    async () => {
      await a.goto('/')
      await a.getByTestId('login-form').waitFor()
      await screenshot(a, 'login')
      await registerThroughUi(a, alice)
      await registerThroughUi(b, bob)
      await openRoom(a, 'city', 'Mumbai')
      await openRoom(b, 'city', 'Mumbai')
      await a.getByTestId('room-title').getByText('Mumbai chat').waitFor()
      await b.getByTestId('room-title').getByText('Mumbai chat').waitFor()
      expect(await a.getByTestId('me-name').textContent()).toBe(alice.full_name)
    },
    STEP_MS
  )

  test(
    'city chat: send, live delivery, text-only rendering, presence, typing',
    async () => {
      await a.getByTestId('composer-input').fill('Hello Mumbai from Alice')
      await a.getByTestId('send').click()
      await message(b, 'Hello Mumbai from Alice').waitFor()
      // The sender's optimistic copy is reconciled into one confirmed message.
      await message(a, 'Hello Mumbai from Alice').and(a.locator('[data-status="sent"]')).waitFor()
      expect(await message(a, 'Hello Mumbai from Alice').count()).toBe(1)

      const attack = '<img src=x onerror="window.__xss=1"><b>bold?</b>'
      await b.getByTestId('composer-input').fill(attack)
      await b.getByTestId('composer-input').press('Enter')
      await message(a, attack).waitFor()
      expect(await a.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined()
      expect(await a.getByTestId('messages').locator('img, b').count()).toBe(0)

      await a.getByTestId('room-online-count').getByText('2 online').waitFor()
      await a.getByTestId('room-online-count').click()
      await a.getByTestId('online-user').filter({ hasText: bob.full_name }).waitFor()

      await b.getByTestId('composer-input').pressSequentially('typing…', { delay: 20 })
      await a.getByTestId('typing').getByText(`${bob.full_name} is typing…`).waitFor()
      await b.getByTestId('composer-input').fill('')
      await screenshot(a, 'city-chat')
      await screenshot(b, 'city-chat-phone')
    },
    STEP_MS
  )

  test(
    'city chat: edit and delete show up for the other user',
    async () => {
      const mine = message(a, 'Hello Mumbai from Alice')
      await mine.getByTestId('edit').click()
      await a.getByTestId('edit-input').fill('Hello Mumbai (edited by Alice)')
      await a.getByTestId('edit-input').press('Enter')
      const edited = message(b, 'Hello Mumbai (edited by Alice)')
      await edited.waitFor()
      await edited.getByTestId('edited').waitFor()

      await message(a, 'Hello Mumbai (edited by Alice)').getByTestId('delete').click()
      await b
        .locator('[data-testid="message"][data-deleted="true"]')
        .getByText('Message deleted')
        .waitFor()
      expect(await message(b, 'Hello Mumbai (edited by Alice)').count()).toBe(0)
    },
    STEP_MS
  )

  test(
    'private chat: create, unread count, read receipts (✓ then ✓✓)',
    async () => {
      await a.getByTestId('new-chat-toggle').click()
      await a.getByTestId('user-search').fill(bob.username)
      await a.locator(`[data-testid="user-result"][data-username="${bob.username}"]`).click()
      await a.getByTestId('create-chat').click()
      await a.getByTestId('room-title').getByText(bob.full_name).waitFor()

      // Bob's list shows the new chat by itself (added-to-chat), no refresh.
      await b.locator('#menu-toggle').click()
      await b.getByTestId('chat').filter({ hasText: alice.full_name }).waitFor()
      await b.locator('#menu-toggle').click()

      await a.getByTestId('composer-input').fill('Private hello, Bob')
      await a.getByTestId('send').click()
      await message(a, 'Private hello, Bob').and(a.locator('[data-status="sent"]')).waitFor()
      await b.locator('#menu-toggle').click()
      await b
        .getByTestId('chat')
        .filter({ hasText: alice.full_name })
        .getByTestId('unread')
        .getByText('1')
        .waitFor()
      await screenshot(b, 'rooms-phone-unread')
      await b.getByTestId('chat').filter({ hasText: alice.full_name }).click()

      await message(b, 'Private hello, Bob').waitFor()
      await message(a, 'Private hello, Bob').and(a.locator('[data-status="read"]')).waitFor()
      expect(await message(a, 'Private hello, Bob').getByTestId('receipt').textContent()).toBe('✓✓')

      await b.getByTestId('composer-input').fill('Hi Alice, got it')
      await b.getByTestId('composer-input').press('Enter')
      await message(a, 'Hi Alice, got it').waitFor()
      await message(b, 'Hi Alice, got it').and(b.locator('[data-status="read"]')).waitFor()
      await screenshot(a, 'private-chat')
    },
    STEP_MS
  )

  test(
    'history scrolls back through REST pages',
    async () => {
      // Two senders, 20 each: one user's burst allowance is 20 messages (MESSAGE_BURST).
      const senders = [await registerUser(server.url), await registerUser(server.url)]
      for (let i = 1; i <= 40; i++) {
        const res = await api(server.url, 'POST', '/api/cities/pune/messages', {
          token: senders[i <= 20 ? 0 : 1]?.accessToken,
          body: { content: `History ${i}` },
        })
        expect(res.status).toBe(201)
      }
      await openRoom(a, 'city', 'Pune')
      await message(a, 'History 40').waitFor()
      const firstPage = await a.getByTestId('message').count()
      expect(firstPage).toBeLessThan(40)
      await a.getByTestId('load-older').click()
      await message(a, 'History 1').waitFor()
      expect(await a.getByTestId('message').count()).toBe(40)
      expect(await a.getByTestId('load-older').isHidden()).toBe(true)
      // Oldest first, in id order.
      expect(await a.getByTestId('message-content').first().textContent()).toBe('History 1')
      expect(await a.getByTestId('message-content').last().textContent()).toBe('History 40')
      await openRoom(a, 'chat', bob.full_name)
      await message(a, 'Hi Alice, got it').waitFor()
      // Reopened later, the chat still shows what Bob has read.
      await message(a, 'Private hello, Bob').and(a.locator('[data-status="read"]')).waitFor()
    },
    STEP_MS
  )

  test(
    'a page reload keeps the session and the open room',
    async () => {
      await b.reload()
      await b.getByTestId('app-view').waitFor()
      await b.getByTestId('room-title').getByText(alice.full_name).waitFor()
      await message(b, 'Private hello, Bob').waitFor()
      expect(await b.getByTestId('auth-view').isHidden()).toBe(true)
    },
    STEP_MS
  )

  test(
    'killing and restarting the server shows the reconnecting state, then the missed messages',
    () =>
      withServerLogs(server, async () => {
        const banner = a.getByTestId('connection-banner')
        await server.kill()
        await banner.getByText('Reconnecting').waitFor()
        await screenshot(a, 'reconnecting')
        // Keep Alice offline after the restart, so Bob's next messages are ones she misses.
        await contextA.route('**/socket.io/**', (route) => route.abort())
        await server.restart()

        await b.getByTestId('connection-banner').waitFor({ state: 'hidden' })
        for (const text of ['Missed one', 'Missed two']) {
          await b.getByTestId('composer-input').fill(text)
          await b.getByTestId('composer-input').press('Enter')
          await message(b, text).and(b.locator('[data-status="sent"]')).waitFor()
        }
        expect(await message(a, 'Missed one').count()).toBe(0)

        await contextA.unroute('**/socket.io/**')
        await banner.waitFor({ state: 'hidden', timeout: 20_000 })
        await message(a, 'Missed one').waitFor()
        await message(a, 'Missed two').waitFor()
        // Nothing is shown twice: replay and the history fetch are deduplicated by _id.
        expect(await message(a, 'Missed one').count()).toBe(1)
        expect(await message(a, 'Private hello, Bob').count()).toBe(1)

        // And the live path works again after the restart.
        await a.getByTestId('composer-input').fill('Back online')
        await a.getByTestId('send').click()
        await message(b, 'Back online').waitFor()
        await screenshot(a, 'recovered')
      }),
    STEP_MS
  )

  test(
    'the docs page renders the OpenAPI document and the socket events',
    async () => {
      const docs = await contextA.newPage()
      await docs.goto('/docs')
      await docs.getByTestId('event-row').first().waitFor()
      expect(
        await docs.getByTestId('event-row').filter({ hasText: 'send-city-message' }).count()
      ).toBe(1)
      await docs.getByTestId('operation').first().waitFor()
      expect(await docs.getByTestId('docs-status').textContent()).toMatch(/^OpenAPI 3\.1/)
      await screenshot(docs, 'docs')
      await docs.close()
    },
    STEP_MS
  )

  test('no uncaught errors in either page', () => {
    expect(pageErrors).toEqual([])
  })
})

describe.skipIf(BROWSER_SKIP_REASON !== null)('web client token refresh', () => {
  let server: ServerProcess
  let browser: Browser

  beforeAll(async () => {
    // Access tokens live 2 s, so the page must refresh them for REST and for the socket.
    server = await spawnServer({ ACCESS_TOKEN_TTL: '2s' })
    browser = await launchBrowser()
  }, STEP_MS)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  test(
    'an expired access token is refreshed for REST and for the socket handshake',
    () =>
      withServerLogs(server, async () => {
        const { context, page, errors } = await watchedPage(browser, server.url, UI_WAIT_MS)
        await registerThroughUi(page, newUser('Dana'))
        const refreshCookie = async () =>
          (await context.cookies()).find((cookie) => cookie.name === 'mc_refresh')
        const before = await refreshCookie()
        // The refresh token is an HttpOnly cookie for the refresh route only; no script sees it.
        expect(before).toMatchObject({
          httpOnly: true,
          sameSite: 'Strict',
          secure: true,
          path: '/api/auth/refresh',
        })
        expect(await page.evaluate(() => document.cookie)).toBe('')
        expect(await page.evaluate(() => Object.keys(localStorage).sort())).toEqual([
          'signedIn',
          'user',
        ])
        await page.getByTestId('room-title').getByText(/chat$/).waitFor()

        // Token expiry is wall-clock time; there is no event to wait for.
        await Bun.sleep(2_500)
        // The socket reconnects after a restart with its expired token: the server refuses the
        // CONNECT ("Authentication error"), the page refreshes and connects again.
        await server.kill()
        await page.getByTestId('connection-banner').getByText('Reconnecting').waitFor()
        await server.restart()
        await page.getByTestId('connection-banner').waitFor({ state: 'hidden', timeout: 20_000 })
        await page.getByTestId('composer-input').fill('Sent after a socket token refresh')
        await page.getByTestId('send').click()
        await page
          .locator('[data-testid="message"][data-status="sent"]')
          .getByText('Sent after a socket token refresh')
          .waitFor()

        await Bun.sleep(2_500)
        // Reload: GET /api/auth/me answers 401, the page refreshes the token and carries on.
        await page.reload()
        await page.getByTestId('app-view').waitFor()
        await page.getByText('Sent after a socket token refresh').waitFor()
        expect((await refreshCookie())?.value).not.toBe(before?.value)
        expect(await page.getByTestId('auth-view').isHidden()).toBe(true)
        expect(errors).toEqual([])
        await context.close()
      }),
    STEP_MS
  )
})
