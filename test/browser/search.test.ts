/**
 * @module The web client's message search in Chromium: the search box lists results newest first
 * with the terms marked (a message's markup shown as text), and a result opens its room at the
 * message, with the messages before and after it loaded. Screenshots go to test/artifacts/.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { api, registerUser } from '../helpers/api.ts'
import {
  BROWSER_SKIP_REASON,
  launchBrowser,
  newUser,
  newUserContext,
  registerThroughUi,
  type ServerProcess,
  screenshot,
  spawnServer,
} from '../helpers/browser.ts'

if (BROWSER_SKIP_REASON) console.warn(`[test/browser] ${BROWSER_SKIP_REASON}`)

describe.skipIf(BROWSER_SKIP_REASON !== null)('message search in Chromium', () => {
  let server: ServerProcess
  let browser: Browser
  let page: Page
  const bob = newUser('Bob')
  const errors: string[] = []

  beforeAll(async () => {
    server = await spawnServer({ MESSAGE_RATE_PER_MINUTE: '0' })
    browser = await launchBrowser()
    const context = await newUserContext(browser, server.url)
    context.setDefaultTimeout(15_000)
    page = await context.newPage()
    page.on('pageerror', (error) => errors.push(error.message))
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  test('search, see the marked snippets, open a result in its room with its context', async () => {
    await registerThroughUi(page, bob)
    const alice = await registerUser(server.url)
    const post = async (path: string, content: string) => {
      const res = await api(server.url, 'POST', path, {
        token: alice.accessToken,
        body: { content },
      })
      expect(res.status).toBe(201)
      return res.body.message._id as string
    }
    // Delhi gets 60 messages; the 20th is the one searched for, far above the newest page.
    let target = ''
    for (let i = 0; i < 60; i++) {
      const content = i === 20 ? 'Meet at Café Leopold <b>tonight</b>' : `delhi line ${i}`
      const id = await post('/api/cities/delhi/messages', content)
      if (i === 20) target = id
    }
    const bobLogin = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: bob.username, password: bob.password },
    })
    const chat = await api(server.url, 'POST', '/api/chats', {
      token: alice.accessToken,
      body: { name: 'Plans', memberIds: [bobLogin.body.user._id] },
    })
    expect(chat.status).toBe(201)
    await post(`/api/chats/${chat.body.chat._id}/messages`, 'the cafe plan is secret')

    await page.getByTestId('search-input').fill('cafe')
    await page.getByTestId('search-input').press('Enter')
    const results = page.getByTestId('search-result')
    await results.nth(1).waitFor()
    expect(await results.count()).toBe(2)
    // Newest first: the private chat's message, then Delhi's.
    expect(await results.nth(0).textContent()).toContain('the cafe plan is secret')
    const delhi = results.nth(1)
    expect(await delhi.textContent()).toContain('Delhi')
    const snippet = delhi.getByTestId('search-snippet')
    // The message's markup is text; only the matched word is marked, by the client.
    expect(await snippet.textContent()).toBe('Meet at Café Leopold <b>tonight</b>')
    expect(await snippet.locator('b').count()).toBe(0)
    expect(await snippet.locator('mark').allTextContents()).toEqual(['Café'])
    await screenshot(page, 'search-results')

    await delhi.click()
    await page.getByTestId('room-title').getByText('Delhi chat').waitFor()
    const focused = page.locator(`.msg.focused[data-id="${target}"]`)
    await focused.waitFor()
    expect(await focused.isVisible()).toBe(true)
    const contents = page.getByTestId('message-content')
    // Context on both sides, and everything after it up to the newest.
    for (const line of ['delhi line 19', 'delhi line 21', 'delhi line 59'])
      await contents.getByText(line, { exact: true }).waitFor()
    expect(await page.getByTestId('search-panel').isHidden()).toBe(true)
    await screenshot(page, 'search-opened')

    // The same search, the other result: the private chat opens at its message.
    await page.getByTestId('search-input').press('Enter')
    await results.nth(0).click()
    await page.getByTestId('room-title').getByText('Plans').waitFor()
    await page.locator('.msg.focused').getByText('the cafe plan is secret').waitFor()
    expect(errors).toEqual([])
  }, 90_000)
})
