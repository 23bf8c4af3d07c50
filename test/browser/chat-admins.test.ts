/**
 * @module Chat admins in Chromium: the member list in a private chat's header marks the owner and
 * the admins; the owner makes a member an admin from it and takes it back; the member's own page
 * hears each change live (the badge, and the pin action that comes and goes with it), and the
 * server agrees. Screenshots go to test/artifacts/.
 */
import { describe, expect, test } from 'bun:test'
import { api, registerUser } from '../helpers/api.ts'
import {
  BROWSER_SKIP_REASON,
  newUser,
  registerThroughUi,
  screenshot,
  useBrowserServer,
  watchedPage,
} from '../helpers/browser.ts'
import { eventually } from '../helpers/eventually.ts'

if (BROWSER_SKIP_REASON) console.warn(`[test/browser] ${BROWSER_SKIP_REASON}`)

describe.skipIf(BROWSER_SKIP_REASON !== null)('chat admins in Chromium', () => {
  const owner = newUser('Owner')
  const bob = newUser('Bob')
  const ui = useBrowserServer()

  test('the owner promotes and demotes from the member list; the member hears it live', async () => {
    await registerThroughUi(ui.page, owner)
    const second = await watchedPage(ui.browser, ui.server.url, 15_000)
    await registerThroughUi(second.page, bob)
    const carol = await registerUser(ui.server.url)
    const login = await api(ui.server.url, 'POST', '/api/auth/login', {
      body: { login: owner.username, password: owner.password },
    })
    const token = login.body.accessToken as string
    const bobId = (await api(ui.server.url, 'GET', `/api/users?search=${bob.username}`, { token }))
      .body.users[0]._id as string
    const made = await api(ui.server.url, 'POST', '/api/chats', {
      token,
      body: { name: 'Crew', memberIds: [bobId, carol.user._id] },
    })
    expect(made.status).toBe(201)
    const chatId = made.body.chat._id as string
    await api(ui.server.url, 'POST', `/api/chats/${chatId}/messages`, {
      token,
      body: { content: 'Pin the plan' },
    })

    for (const page of [ui.page, second.page]) {
      await page.getByTestId('chat').filter({ hasText: 'Crew' }).click()
      await page.getByTestId('messages').getByText('Pin the plan').waitFor()
      await page.getByTestId('chat-members-count').click()
    }
    const row = (page: typeof ui.page, userId: string, role = '') =>
      page.locator(
        `[data-testid="chat-member"][data-user-id="${userId}"]${role && `[data-role="${role}"]`}`
      )
    const ownerRows = ui.page.getByTestId('chat-member')
    await eventually(async () => (await ownerRows.count()) === 3, 8_000, 'three members')
    expect(await ui.page.getByTestId('chat-members-count').textContent()).toBe('Members (3)')
    const ownerId = made.body.chat.created_by as string
    expect(await row(ui.page, ownerId).getByTestId('member-role').textContent()).toBe('Owner')
    // The owner may change the two others; a member sees no such buttons, and may not pin.
    expect(await ui.page.getByTestId('toggle-admin').count()).toBe(2)
    expect(await second.page.getByTestId('toggle-admin').count()).toBe(0)
    const pinOn = (page: typeof ui.page) =>
      page.locator('[data-testid="messages"] [data-testid="pin"]').count()
    expect(await pinOn(second.page)).toBe(0)

    // Make Bob an admin: both pages show it, and Bob's page offers the pin action now.
    await row(ui.page, bobId).getByTestId('toggle-admin').click()
    await row(ui.page, bobId, 'admin').waitFor()
    expect(await row(ui.page, bobId).getByTestId('member-role').textContent()).toBe('Admin')
    expect(await row(ui.page, bobId).getByTestId('toggle-admin').textContent()).toBe('Remove admin')
    await row(second.page, bobId, 'admin').waitFor()
    expect(await row(second.page, bobId).getByTestId('member-role').textContent()).toBe('Admin')
    await eventually(async () => (await pinOn(second.page)) > 0, 8_000, "Bob's pin action")
    const chat = await api(ui.server.url, 'GET', `/api/chats/${chatId}`, { token })
    const roles = Object.fromEntries(chat.body.chat.members.map((m: any) => [m.user._id, m.role]))
    expect(roles).toEqual({ [ownerId]: 'owner', [bobId]: 'admin', [carol.user._id]: 'member' })
    await second.page.getByTestId('chat-members-count').click()
    await second.page.locator('[data-testid="messages"] [data-testid="pin"]').first().click()
    await second.page.getByTestId('pinned-bar').waitFor()
    await ui.page.getByTestId('pinned-bar').waitFor()
    await screenshot(ui.page, 'chat-admins-owner')
    await second.page.getByTestId('chat-members-count').click()
    await screenshot(second.page, 'chat-admins-member')

    // Take it back: the badge goes on both pages, and Bob's pin action with it.
    await row(ui.page, bobId).getByTestId('toggle-admin').click()
    await eventually(
      async () => (await row(second.page, bobId).getAttribute('data-role')) === 'member',
      8_000,
      "Bob's badge gone"
    )
    expect(await row(second.page, bobId).getByTestId('member-role').count()).toBe(0)
    expect(await row(ui.page, bobId).getByTestId('toggle-admin').textContent()).toBe('Make admin')
    await eventually(async () => (await pinOn(second.page)) === 0, 8_000, "Bob's pin action gone")
    const after = await api(ui.server.url, 'GET', `/api/chats/${chatId}`, { token })
    expect(after.body.chat.members.find((m: any) => m.user._id === bobId).role).toBe('member')
    expect([...ui.errors, ...second.errors]).toEqual([])
    await second.context.close()
  }, 60_000)
})
