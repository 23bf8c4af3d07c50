/**
 * @module Reactions, threads and pins in Chromium: a moderator reacts from the picker (own
 * reaction highlighted, another user's adds to the count live), replies in the thread side panel
 * (the room's message shows the reply count; another user's reply arrives live in the panel), and
 * pins a message (the pinned bar appears for another user live, and unpinning clears it).
 * Screenshots go to test/artifacts/.
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
import { eventually } from '../helpers/eventually.ts'

if (BROWSER_SKIP_REASON) console.warn(`[test/browser] ${BROWSER_SKIP_REASON}`)

describe.skipIf(BROWSER_SKIP_REASON !== null)('reactions, threads and pins in Chromium', () => {
  const mod = newUser('Mod')
  const ui = useBrowserServer({ ADMIN_USERNAMES: mod.username })

  test('react, reply in a thread, pin and unpin', async () => {
    await registerThroughUi(ui.page, mod)
    const other = await registerUser(ui.server.url)
    const as = { token: other.accessToken }
    await ui.page.getByTestId('city').filter({ hasText: 'Berlin' }).click()
    const sent = await api(ui.server.url, 'POST', '/api/cities/berlin/messages', {
      ...as,
      body: { content: 'Who is up for the museum?' },
    })
    expect(sent.status).toBe(201)
    const id = sent.body.message._id
    const message = ui.page.locator(`[data-testid="message"][data-id="${id}"]`)
    await message.getByText('Who is up for the museum?').waitFor()

    // React from the picker: my reaction is highlighted; another user's adds to the count live.
    await message.getByTestId('react').click()
    await message.getByTestId('reaction-picker').getByText('🎉').click()
    const tada = message.locator('[data-testid="reaction"][data-emoji="🎉"]')
    await tada.waitFor()
    expect(await tada.getAttribute('aria-pressed')).toBe('true')
    expect(await tada.getByTestId('reaction-count').textContent()).toBe('1')
    await api(ui.server.url, 'PUT', `/api/messages/${id}/reactions/tada`, as)
    await api(ui.server.url, 'PUT', `/api/messages/${id}/reactions/thumbsup`, as)
    await eventually(
      async () =>
        (await message
          .locator('[data-testid="reaction"][data-emoji="🎉"] [data-testid="reaction-count"]')
          .textContent()) === '2',
      8_000,
      'the count of 2'
    )
    const thumbs = message.locator('[data-testid="reaction"][data-emoji="👍"]')
    expect(await thumbs.getAttribute('aria-pressed')).toBe('false')
    await screenshot(ui.page, 'reactions')
    // Clicking my highlighted reaction takes it back.
    await message.locator('[data-testid="reaction"][data-emoji="🎉"]').click()
    await eventually(
      async () =>
        (await message
          .locator('[data-testid="reaction"][data-emoji="🎉"]')
          .getAttribute('aria-pressed')) === 'false',
      8_000,
      'my reaction taken back'
    )
    const history = await api(ui.server.url, 'GET', '/api/cities/berlin/messages', as)
    const stored = history.body.messages.find((m: any) => m._id === id)
    expect(stored.reactions).toEqual([
      { emoji: '🎉', count: 1, userIds: [other.user._id] },
      { emoji: '👍', count: 1, userIds: [other.user._id] },
    ])

    // A thread: the side panel, its composer, the count on the room's message, a live reply.
    await message.getByTestId('thread').click()
    const panel = ui.page.getByTestId('thread-panel')
    await panel.getByTestId('thread-parent').getByText('Who is up for the museum?').waitFor()
    await panel.getByTestId('thread-input').fill('Count me in')
    await panel.getByTestId('thread-send').click()
    await panel.getByTestId('thread-log').getByText('Count me in').waitFor()
    await api(ui.server.url, 'POST', '/api/cities/berlin/messages', {
      ...as,
      body: { content: 'Great, 3 pm?', reply_to: id },
    })
    await panel.getByTestId('thread-log').getByText('Great, 3 pm?').waitFor()
    await eventually(
      async () =>
        (await ui.page
          .locator(`[data-testid="messages"] [data-id="${id}"] [data-testid="thread"]`)
          .textContent()) === '2 replies',
      8_000,
      'the reply count'
    )
    const replies = await api(ui.server.url, 'GET', `/api/messages/${id}/replies`, as)
    expect(replies.body.messages.map((m: any) => m.content)).toEqual([
      'Count me in',
      'Great, 3 pm?',
    ])
    await screenshot(ui.page, 'thread-panel')
    await panel.getByTestId('thread-close').click()

    // Pin: the pinned bar shows it (here and for the other user), unpinning clears it.
    await ui.page.locator(`[data-testid="messages"] [data-id="${id}"] [data-testid="pin"]`).click()
    const bar = ui.page.getByTestId('pinned-bar')
    await bar.waitFor()
    expect(await ui.page.getByTestId('pinned-toggle').textContent()).toContain('1 pinned')
    const pins = await api(ui.server.url, 'GET', '/api/cities/berlin/pins', as)
    expect(pins.body.pins.map((p: any) => p.messageId)).toEqual([id])
    await ui.page.getByTestId('pinned-toggle').click()
    await ui.page.getByTestId('pinned-item').getByText('Who is up for the museum?').waitFor()
    await screenshot(ui.page, 'pinned-bar')

    // A reload: the pinned bar comes back from joined-city-chat's pinnedCount.
    await ui.page.reload()
    await ui.page.getByTestId('pinned-bar').waitFor()
    await ui.page.getByTestId('pinned-toggle').click()
    await ui.page.getByTestId('unpin').click()
    await ui.page.getByTestId('pinned-bar').waitFor({ state: 'hidden' })
    expect((await api(ui.server.url, 'GET', '/api/cities/berlin/pins', as)).body.pins).toEqual([])
    expect(ui.errors).toEqual([])
  }, 90_000)
})
