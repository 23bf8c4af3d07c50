/**
 * @module The web client's mention badges: a mention made elsewhere shows live on the city in the
 * sidebar (from the `notification` event), opening the city marks it read on the server, and a
 * reload shows what REST counts. Screenshots go to test/artifacts/.
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

describe.skipIf(BROWSER_SKIP_REASON !== null)('mention badges in Chromium', () => {
  const bob = newUser('Bob')
  const ui = useBrowserServer()

  test('a mention shows on the city live, clears when read, and REST agrees after a reload', async () => {
    const { page, server, errors } = ui
    await registerThroughUi(page, bob)
    const alice = await registerUser(server.url)
    const city = page.getByTestId('city').filter({ hasText: 'Berlin' })
    await city.waitFor()
    const sent = await api(server.url, 'POST', '/api/cities/berlin/messages', {
      token: alice.accessToken,
      body: { content: `@${bob.username} are you coming?` },
    })
    expect(sent.status).toBe(201)
    const badge = city.getByTestId('mentions')
    await badge.waitFor()
    expect(await badge.textContent()).toBe('@1')
    await screenshot(page, 'mention-badge')

    await city.click()
    await page
      .getByTestId('message-content')
      .getByText(`@${bob.username} are you coming?`)
      .waitFor()
    const login = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: bob.username, password: bob.password },
    })
    const counted = async () =>
      (
        await api(server.url, 'GET', '/api/cities', { token: login.body.accessToken })
      ).body.cities.find((c: any) => c._id === 'berlin')
    // The open city marks itself read (mark-messages-read { cityId }).
    await eventually(async () => (await counted()).mentionCount === 0, 8_000, 'the city read')
    expect(await counted()).toMatchObject({ unreadCount: 0, mentionCount: 0 })
    await page.reload()
    await page.getByTestId('city').filter({ hasText: 'Berlin' }).waitFor()
    expect(await page.getByTestId('mentions').count()).toBe(0)
    await screenshot(page, 'mention-read')
    expect(errors).toEqual([])
  }, 60_000)
})
