/**
 * @module The web client's message search in Chromium: the search box lists results newest first
 * with the terms marked (a message's markup shown as text), and a result opens its room at the
 * message, with the messages before and after it loaded. Screenshots go to test/artifacts/.
 */
import { describe, expect, test } from 'bun:test'
import { api, registerUser } from '../helpers/api.ts'
import {
  BROWSER_SKIP_REASON,
  newUser,
  registerThroughUi,
  screenshot,
  useBrowserServer,
} from '../helpers/browser.ts'

if (BROWSER_SKIP_REASON) console.warn(`[test/browser] ${BROWSER_SKIP_REASON}`)

describe.skipIf(BROWSER_SKIP_REASON !== null)('message search in Chromium', () => {
  const bob = newUser('Bob')
  const ui = useBrowserServer({ MESSAGE_RATE_PER_MINUTE: '0' })

  test('search, see the marked snippets, open a result in its room with its context', async () => {
    await registerThroughUi(ui.page, bob)
    const alice = await registerUser(ui.server.url)
    const post = async (path: string, content: string) => {
      const res = await api(ui.server.url, 'POST', path, {
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
    const bobLogin = await api(ui.server.url, 'POST', '/api/auth/login', {
      body: { login: bob.username, password: bob.password },
    })
    const chat = await api(ui.server.url, 'POST', '/api/chats', {
      token: alice.accessToken,
      body: { name: 'Plans', memberIds: [bobLogin.body.user._id] },
    })
    expect(chat.status).toBe(201)
    await post(`/api/chats/${chat.body.chat._id}/messages`, 'the cafe plan is secret')

    await ui.page.getByTestId('search-input').fill('cafe')
    await ui.page.getByTestId('search-input').press('Enter')
    const results = ui.page.getByTestId('search-result')
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
    await screenshot(ui.page, 'search-results')

    await delhi.click()
    await ui.page.getByTestId('room-title').getByText('Delhi chat').waitFor()
    const focused = ui.page.locator(`.msg.focused[data-id="${target}"]`)
    await focused.waitFor()
    expect(await focused.isVisible()).toBe(true)
    const contents = ui.page.getByTestId('message-content')
    // Context on both sides, and everything after it up to the newest.
    for (const line of ['delhi line 19', 'delhi line 21', 'delhi line 59'])
      await contents.getByText(line, { exact: true }).waitFor()
    expect(await ui.page.getByTestId('search-panel').isHidden()).toBe(true)
    await screenshot(ui.page, 'search-opened')

    // The same search, the other result: the private chat opens at its message.
    await ui.page.getByTestId('search-input').press('Enter')
    await results.nth(0).click()
    await ui.page.getByTestId('room-title').getByText('Plans').waitFor()
    await ui.page.locator('.msg.focused').getByText('the cafe plan is secret').waitFor()
    expect(ui.errors).toEqual([])
  }, 90_000)
})
