/**
 * @module Moderation in the web client, in Chromium: a user reports a message from its menu, a
 * moderator resolves the report with a ban on the reports page, and the banned user's page shows
 * the ban (why and until when) and is refused again on re-entry. A moderator of one city (role
 * `user`) gets the moderator actions there only and the reports page; a muted user sees why; a
 * blocked user's city messages are hidden behind "N hidden messages — Show", kept over a reload,
 * and unblocked from the profile panel; slow mode counts down on the send button. Screenshots of
 * each step.
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

const STEP_MS = 90_000

describe.skipIf(BROWSER_SKIP_REASON !== null)('moderation in the web client', () => {
  let server: ServerProcess
  let browser: Browser
  const spammer = newUser('Spammer')
  const reporter = newUser('Reporter')
  const moderator = newUser('Moderator')
  /** An admin who acts over REST only (names the city moderator, sets slow mode). */
  const bossName = `boss_${Date.now().toString(36)}`
  const pageErrors: string[] = []
  const pages: Page[] = []

  beforeAll(async () => {
    server = await spawnServer({ ADMIN_USERNAMES: `${moderator.username},${bossName}` })
    browser = await launchBrowser()
    for (let i = 0; i < 6; i++) {
      const context = await newUserContext(browser, server.url)
      context.setDefaultTimeout(15_000)
      const page = await context.newPage()
      page.on('pageerror', (error) => pageErrors.push(error.message))
      // The report's reason is asked with a prompt; confirmations are accepted.
      page.on('dialog', (dialog) => void dialog.accept('selling spam'))
      pages.push(page)
    }
  }, STEP_MS)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  const openCity = (page: Page, name: string) =>
    page.getByTestId('city').filter({ hasText: name }).click()

  const messageOf = (page: Page, text: string) =>
    page
      .getByTestId('message')
      .filter({ has: page.getByTestId('message-content').getByText(text, { exact: true }) })

  test(
    'report → moderator resolves with a ban → the banned user sees the ban',
    async () => {
      const [s, r, m] = pages as [Page, Page, Page]
      await registerThroughUi(s, spammer)
      await registerThroughUi(r, reporter)
      await registerThroughUi(m, moderator)
      for (const page of [s, r, m]) await openCity(page, 'Pune')
      for (const page of [s, r, m])
        await page.getByTestId('room-title').getByText('Pune chat').waitFor()

      await s.getByTestId('composer-input').fill('Cheap watches, click my link')
      await s.getByTestId('send').click()
      const seen = messageOf(r, 'Cheap watches, click my link')
      await seen.waitFor()
      // The reporter sees Report on others' messages, no moderator actions.
      expect(await seen.getByTestId('mod-ban').count()).toBe(0)
      await seen.getByTestId('report').click()
      await r
        .getByTestId('toast')
        .getByText(/Reported/)
        .waitFor()
      await screenshot(r, 'moderation-1-reported')

      // The admin moderates every city: moderator actions on the message, and the reports page.
      await messageOf(m, 'Cheap watches, click my link').getByTestId('mod-ban').waitFor()
      await m.getByTestId('open-reports').click()
      const report = m.getByTestId('report').filter({ hasText: 'Cheap watches' })
      await report.waitFor()
      expect(await report.textContent()).toContain('selling spam')
      await screenshot(m, 'moderation-2-reports-page')
      await report.getByTestId('resolve-ban').click()
      await m.getByTestId('toast').getByText('Report actioned').waitFor()
      await m.getByTestId('report-list').getByText('No open reports.').waitFor()

      // The banned user's page says why and until when; sending is refused with the same words.
      const notice = s.getByTestId('moderation-notice')
      await notice.getByText(/You are banned from this city until lifted/).waitFor()
      await screenshot(s, 'moderation-3-banned')
      // Reopening the city asks to join again, and the refusal shows the same words.
      await openCity(s, 'Delhi')
      await openCity(s, 'Pune')
      await notice.getByText(/You are banned from this city until lifted/).waitFor()
      expect(pageErrors).toEqual([])
    },
    STEP_MS
  )

  test(
    "a city's own moderator, a mute, a blocked user's hidden messages, slow mode's countdown",
    async () => {
      const [, , , c, t, v] = pages as [Page, Page, Page, Page, Page, Page]
      const cityMod = newUser('CityMod')
      const talker = newUser('Talker')
      const viewer = newUser('Viewer')
      await registerThroughUi(c, cityMod)
      await registerThroughUi(t, talker)
      await registerThroughUi(v, viewer)
      const boss = await registerUser(server.url, { username: bossName })
      const idOf = async (who: { username: string; password: string }) =>
        (
          await api(server.url, 'POST', '/api/auth/login', {
            body: { login: who.username, password: who.password },
          })
        ).body.user._id as string
      // A plain user (role `user`) made moderator of Delhi only.
      const named = await api(
        server.url,
        'PUT',
        `/api/cities/delhi/moderators/${await idOf(cityMod)}`,
        { token: boss.accessToken }
      )
      expect(named.status).toBe(204)
      await c.reload()
      await c.getByTestId('app-view').waitFor()
      await c.getByTestId('open-reports').waitFor()

      await openCity(t, 'Pune')
      await t.getByTestId('room-title').getByText('Pune chat').waitFor()
      await t.getByTestId('composer-input').fill('Hello Pune from the talker')
      await t.getByTestId('send').click()
      await messageOf(t, 'Hello Pune from the talker').getByTestId('receipt').waitFor()
      for (const page of [t, v]) await openCity(page, 'Delhi')
      for (const page of [t, v])
        await page.getByTestId('room-title').getByText('Delhi chat').waitFor()
      await t.getByTestId('composer-input').fill('Hello Delhi from the talker')
      await t.getByTestId('send').click()

      // Pune is not the city moderator's: Report only. Delhi is: the moderator actions.
      await openCity(c, 'Pune')
      const inPune = messageOf(c, 'Hello Pune from the talker')
      await inPune.getByTestId('report').waitFor()
      expect(await inPune.getByTestId('mod-ban').count()).toBe(0)
      await openCity(c, 'Delhi')
      const inDelhi = messageOf(c, 'Hello Delhi from the talker')
      for (const action of ['mod-delete', 'mod-ban', 'mod-mute', 'mod-shadow'])
        await inDelhi.getByTestId(action).waitFor()
      await screenshot(c, 'moderation-4-city-moderator')
      await c.getByTestId('open-reports').click()
      await c.getByTestId('reports-panel').waitFor()
      await c.getByTestId('close-reports').click()

      // The viewer blocks the talker from the message's menu: hidden, with a bar to show them.
      const blocked = messageOf(v, 'Hello Delhi from the talker')
      await blocked.getByTestId('block').click()
      await blocked.waitFor({ state: 'hidden' })
      const bar = v.getByTestId('blocked-bar')
      await bar.getByText('1 hidden message from blocked users').waitFor()
      // Live messages of a blocked user are hidden too.
      await t.getByTestId('composer-input').fill('Are you there?')
      await t.getByTestId('send').click()
      await bar.getByText('2 hidden messages from blocked users').waitFor()
      expect(await messageOf(v, 'Are you there?').isVisible()).toBe(false)
      await screenshot(v, 'moderation-5-blocked-hidden')
      await v.getByTestId('show-blocked').click()
      await blocked.waitFor()
      await blocked.getByTestId('unblock').waitFor()
      await bar.getByText('Showing 2 messages from blocked users').waitFor()
      await screenshot(v, 'moderation-6-blocked-shown')
      await v.getByTestId('show-blocked').click()
      await blocked.waitFor({ state: 'hidden' })
      // The list is the server's: a reload keeps them hidden, and the profile panel lists them.
      await v.reload()
      await v.getByTestId('room-title').getByText('Delhi chat').waitFor()
      await bar.getByText('2 hidden messages from blocked users').waitFor()
      await v.getByTestId('profile').locator('summary').click()
      const listed = v.getByTestId('blocked-user').filter({ hasText: talker.full_name })
      await listed.waitFor()
      await screenshot(v, 'moderation-7-blocked-list')
      await listed.getByTestId('unblock-user').click()
      await messageOf(v, 'Hello Delhi from the talker').waitFor()
      await bar.waitFor({ state: 'hidden' })
      expect(await messageOf(v, 'Hello Delhi from the talker').getByTestId('block').count()).toBe(1)
      await v.getByTestId('profile').locator('summary').click()

      // The city moderator mutes the viewer from their message; the viewer is told why.
      await v.getByTestId('composer-input').fill('Viewer says hi')
      await v.getByTestId('send').click()
      await messageOf(c, 'Viewer says hi').getByTestId('mod-mute').click()
      await c
        .getByTestId('toast')
        .getByText(/mute applied/)
        .waitFor()
      await v.getByTestId('composer-input').fill('Can I still talk?')
      await v.getByTestId('send').click()
      await v
        .getByTestId('moderation-notice')
        .getByText(/You are muted in this city until lifted\. Reason: selling spam\./)
        .waitFor()
      await screenshot(v, 'moderation-8-muted')
      // Coming back to the city, the notice is there on entering, before any send.
      await openCity(v, 'Pune')
      await v.getByTestId('moderation-notice').waitFor({ state: 'hidden' })
      await openCity(v, 'Delhi')
      await v
        .getByTestId('moderation-notice')
        .getByText(/You are muted in this city until lifted\. Reason: selling spam\./)
        .waitFor()

      // Slow mode: joined-city-chat tells it; after a send the button counts down.
      const slow = await api(server.url, 'PATCH', '/api/cities/delhi', {
        token: boss.accessToken,
        body: { slowModeSeconds: 30 },
      })
      expect(slow.status).toBe(200)
      await openCity(t, 'Pune')
      await openCity(t, 'Delhi')
      await t.getByTestId('room-title').getByText('Delhi chat').waitFor()
      await t.getByTestId('composer-input').fill('Slowly now')
      await t.getByTestId('send').click()
      const counting = t.locator('[data-testid="send"][data-slow-mode]')
      await counting.waitFor()
      expect(await counting.textContent()).toMatch(/^Send \((\d|[12]\d|30)s\)$/)
      expect(await counting.isDisabled()).toBe(true)
      // Enter does not get around the countdown either.
      await t.getByTestId('composer-input').fill('Too fast')
      await t.getByTestId('composer-input').press('Enter')
      expect(await t.getByTestId('composer-input').inputValue()).toBe('Too fast')
      await screenshot(t, 'moderation-9-slow-mode')
      // The city's moderator is exempt: no countdown.
      await openCity(c, 'Pune')
      await openCity(c, 'Delhi')
      await c.getByTestId('room-title').getByText('Delhi chat').waitFor()
      await c.getByTestId('composer-input').fill('Moderators may hurry')
      await c.getByTestId('send').click()
      await messageOf(c, 'Moderators may hurry').getByTestId('receipt').waitFor()
      expect(await c.getByTestId('send').getAttribute('data-slow-mode')).toBeNull()
      expect(pageErrors).toEqual([])
    },
    STEP_MS
  )
})
