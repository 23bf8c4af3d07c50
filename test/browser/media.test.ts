/**
 * @module Uploads in the web client (Chromium): a photo attached in the composer reaches the other
 * user as a thumbnail with its size reserved (loaded through the media cookie), a click target
 * for the full size; a file shows its name and size; the profile panel changes the photo.
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
import { cameraJpeg, pngOf } from '../helpers/media.ts'

const STEP_MS = 60_000

describe.skipIf(BROWSER_SKIP_REASON !== null)('uploads in the web client', () => {
  let server: ServerProcess
  let browser: Browser
  let a: Page
  let b: Page

  beforeAll(async () => {
    server = await spawnServer()
    browser = await launchBrowser()
    a = await (await newUserContext(browser, server.url)).newPage()
    b = await (await newUserContext(browser, server.url)).newPage()
    await registerThroughUi(a, newUser('Ann'))
    await registerThroughUi(b, newUser('Ben'))
  }, STEP_MS)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  test(
    'attach a photo and a file: the other user sees the thumbnail and the file card',
    async () => {
      await a.getByTestId('attach').waitFor()
      await b.getByTestId('composer-input').fill('ready')
      await b.getByTestId('composer-input').press('Enter')
      await a.getByText('ready').waitFor()
      const photo = Buffer.from(await cameraJpeg(1200, 800))
      await a.getByTestId('attach-input').setInputFiles({
        name: 'harbour.jpg',
        mimeType: 'image/jpeg',
        buffer: photo,
      })
      const thumb = b.getByTestId('attachment-image').locator('img')
      await thumb.waitFor()
      // Size reserved before loading: orientation applied (800 x 1200), scaled to the 240 box.
      expect(await thumb.getAttribute('width')).toBe('160')
      expect(await thumb.getAttribute('height')).toBe('240')
      // Loaded through the media cookie (an <img> sends no Authorization header).
      await b.waitForFunction(
        () =>
          (document.querySelector('[data-testid="attachment-image"] img') as HTMLImageElement)
            ?.naturalWidth > 0
      )
      expect(await b.getByTestId('attachment-image').getAttribute('href')).toMatch(
        /^\/api\/media\/[0-9a-f]{24}$/
      )
      await a.getByTestId('attach-input').setInputFiles({
        name: 'notes.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('agenda\n'.repeat(300)),
      })
      const card = b.getByTestId('attachment-file')
      await card.waitFor()
      expect(await card.textContent()).toContain('notes.txt')
      expect(await card.textContent()).toContain('2.1 KB')
      await screenshot(b, 'attachments')
    },
    STEP_MS
  )

  test(
    'the profile panel uploads a photo',
    async () => {
      const before = await a.getByTestId('me-photo').getAttribute('src')
      expect(before).toMatch(/^\/api\/media\/avatars\//)
      await a.getByTestId('profile').locator('summary').click()
      await a.getByTestId('photo-input').setInputFiles({
        name: 'me.png',
        mimeType: 'image/png',
        buffer: Buffer.from(await pngOf(300, 200)),
      })
      await a.getByTestId('photo-status').getByText('Photo updated').waitFor()
      const after = await a.getByTestId('me-photo').getAttribute('src')
      expect(after).toMatch(/^\/api\/media\/[0-9a-f]{24}$/)
      await a.waitForFunction(
        () => (document.getElementById('me-photo') as HTMLImageElement).naturalWidth === 256
      )
      await screenshot(a, 'profile-photo')
    },
    STEP_MS
  )
})
