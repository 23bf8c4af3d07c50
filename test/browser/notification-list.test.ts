/**
 * @module The web client's notification list: the bell counts unread notifications live (the
 * `notification` event) and after a reload (REST), the list shows room, sender and preview newest
 * first, a click opens the room at the message, and "Mark all read" clears the count on the
 * server too. Screenshots go to test/artifacts/.
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

describe.skipIf(BROWSER_SKIP_REASON !== null)('the notification list in Chromium', () => {
  const bob = newUser('Bob')
  const ui = useBrowserServer()

  test('the bell counts live, lists newest first, opens the message, and marks all read', async () => {
    const { page, server, errors } = ui
    await registerThroughUi(page, bob)
    const alice = await registerUser(server.url, { full_name: 'Alice Sender' })
    const bell = page.getByTestId('open-notifications')
    const count = page.getByTestId('notification-count')
    await page.getByTestId('city').first().waitFor()
    expect(await count.isHidden()).toBe(true)

    const say = async (cityId: string, content: string) => {
      const res = await api(server.url, 'POST', `/api/cities/${cityId}/messages`, {
        token: alice.accessToken,
        body: { content },
      })
      expect(res.status).toBe(201)
      return res.body.message._id as string
    }
    const inLondon = await say('london', `@${bob.username} the London meetup is at six`)
    await eventually(async () => (await count.textContent()) === '1', 10_000, 'the live count')
    await say('berlin', `@${bob.username} and Berlin on Friday`)
    await eventually(async () => (await count.textContent()) === '2', 10_000, 'the second')

    await bell.click()
    const items = page.getByTestId('notification-item')
    await eventually(async () => (await items.count()) === 2, 10_000, 'the list')
    expect(await items.nth(0).getByTestId('notification-room').textContent()).toBe('Berlin')
    expect(await items.nth(1).getByTestId('notification-room').textContent()).toBe('London')
    expect(await items.nth(0).getByTestId('notification-sender').textContent()).toContain(
      'Alice Sender mentioned you'
    )
    expect(await items.nth(1).getByTestId('notification-preview').textContent()).toBe(
      `@${bob.username} the London meetup is at six`
    )
    expect(await items.nth(0).getAttribute('class')).toContain('unread')
    await screenshot(page, 'notification-list')

    // A click opens the room at the message.
    await items.nth(1).click()
    expect(await page.getByTestId('notifications-panel').isHidden()).toBe(true)
    await eventually(
      async () => (await page.getByTestId('room-title').textContent()) === 'London chat',
      10_000,
      'London open'
    )
    await page.locator(`.msg.focused[data-id="${inLondon}"]`).waitFor()

    // After a reload the count comes from REST.
    await page.reload()
    await page.getByTestId('city').first().waitFor()
    await eventually(async () => (await count.textContent()) === '2', 10_000, 'the count again')
    await bell.click()
    await eventually(async () => (await items.count()) === 2, 10_000, 'the list again')
    await page.getByTestId('mark-all-read').click()
    await eventually(async () => await count.isHidden(), 10_000, 'the count cleared')
    expect(await items.nth(0).getAttribute('class')).not.toContain('unread')
    const login = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: bob.username, password: bob.password },
    })
    const feed = await api(server.url, 'GET', '/api/notifications', {
      token: login.body.accessToken,
    })
    expect(feed.body.unreadCount).toBe(0)
    expect(feed.body.notifications.every((n: any) => n.read)).toBe(true)
    await screenshot(page, 'notification-list-read')
    expect(errors).toEqual([])
  }, 90_000)
})
