/**
 * @module Moderation in the web client, in Chromium: a user reports a message from its menu, a
 * moderator resolves the report with a ban on the reports page, and the banned user's page shows
 * the ban (why and until when) and is refused again on re-entry. Screenshots of each step.
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
} from '../helpers/browser.ts'

if (BROWSER_SKIP_REASON) console.warn(`[test/browser] ${BROWSER_SKIP_REASON}`)

const STEP_MS = 90_000

describe.skipIf(BROWSER_SKIP_REASON !== null)('moderation in the web client', () => {
  let server: ServerProcess
  let browser: Browser
  const spammer = newUser('Spammer')
  const reporter = newUser('Reporter')
  const moderator = newUser('Moderator')
  const pageErrors: string[] = []
  const pages: Page[] = []

  beforeAll(async () => {
    server = await spawnServer({ ADMIN_USERNAMES: moderator.username })
    browser = await launchBrowser()
    for (let i = 0; i < 3; i++) {
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
})
