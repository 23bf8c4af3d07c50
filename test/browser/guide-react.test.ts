/**
 * @module The guide's "Complete React Example" as written: `SocketContext` and `CityChatWindow`
 * are cut out of the guide's own text (only the server URL changed), bundled with React, served
 * from another origin, and run in Chromium against the real server. Its "N online" badge must
 * follow the room (pushed `city-online-users`), and messages sent by another client show up.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { registerUser } from '../helpers/api.ts'
import { BROWSER_SKIP_REASON, launchBrowser, screenshot } from '../helpers/browser.ts'
import { ask, type ChatClient, connectAs, joinCity } from '../helpers/chat-client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const ROOT = resolve(import.meta.dir, '..', '..')
const GUIDE = resolve(ROOT, '..', 'shared', 'seed', 'websocket-chat-guide.md')
const UI_WAIT_MS = 10_000
/** The guide sits in shared/ beside the repository (as CI lays it out). */
const SKIP =
  BROWSER_SKIP_REASON ?? (existsSync(GUIDE) ? null : `${GUIDE} is absent; guide example skipped`)
if (SKIP) console.warn(`[test/browser/guide-react] ${SKIP}`)

/** The guide's code block that starts with the comment `// <file>`. */
function guideFile(guide: string, file: string): string {
  const start = guide.indexOf(`// ${file}\n`)
  if (start === -1) throw new Error(`the guide has no ${file}`)
  return guide.slice(start, guide.indexOf('\n```', start))
}

/** Bundles the guide's components (server URL changed) with an entry that renders them. */
async function buildGuideApp(serverUrl: string): Promise<string> {
  const guide = readFileSync(GUIDE, 'utf8')
  // Inside the repository, so the bundler finds react and socket.io-client in node_modules.
  const dir = join(ROOT, 'test', 'artifacts', 'guide-react-src')
  rmSync(dir, { recursive: true, force: true })
  for (const file of ['context/SocketContext.jsx', 'components/CityChatWindow.jsx']) {
    mkdirSync(join(dir, file, '..'), { recursive: true })
    const text = guideFile(guide, file).replaceAll('http://localhost:3000', serverUrl)
    writeFileSync(join(dir, file), text)
  }
  writeFileSync(
    join(dir, 'main.jsx'),
    [
      "import React from 'react'",
      "import { createRoot } from 'react-dom/client'",
      "import { SocketProvider } from './context/SocketContext'",
      "import CityChatWindow from './components/CityChatWindow'",
      "createRoot(document.getElementById('root')).render(",
      '  <SocketProvider><CityChatWindow cityId="mumbai" cityName="Mumbai" /></SocketProvider>',
      ')',
    ].join('\n')
  )
  const built = await Bun.build({
    entrypoints: [join(dir, 'main.jsx')],
    target: 'browser',
    define: { 'process.env.NODE_ENV': '"production"' },
  })
  if (!built.success) throw new Error(built.logs.map(String).join('\n'))
  return (await built.outputs[0]?.text()) ?? ''
}

describe.skipIf(SKIP !== null)("the guide's React example in Chromium", () => {
  let server: TestServer
  let site: ReturnType<typeof Bun.serve>
  let browser: Browser
  let page: Page
  let bob: ChatClient | undefined
  const pageErrors: string[] = []

  beforeAll(async () => {
    server = await startServer()
    const bundle = await buildGuideApp(server.url)
    // Another origin (another port): the guide's client runs cross-origin, as an app would.
    site = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (req) =>
        new URL(req.url).pathname === '/app.js'
          ? new Response(bundle, { headers: { 'Content-Type': 'text/javascript' } })
          : new Response('<!doctype html><div id="root"></div><script src="/app.js"></script>', {
              headers: { 'Content-Type': 'text/html' },
            }),
    })
    browser = await launchBrowser()
  }, 60_000)

  afterAll(async () => {
    bob?.socket.disconnect()
    await browser?.close()
    await site?.stop(true)
    await server?.stop()
  })

  test('the badge follows the room and messages arrive', async () => {
    const alice = await registerUser(server.url)
    const context = await browser.newContext({ viewport: { width: 700, height: 500 } })
    await context.addInitScript((token: string) => {
      localStorage.setItem('accessToken', token)
    }, alice.accessToken)
    page = await context.newPage()
    page.on('pageerror', (error) => pageErrors.push(error.message))
    await page.goto(`http://127.0.0.1:${site.port}/`)
    const badge = page.locator('.online-badge')
    // The first user in the room: the guide's component asks once, and is told 1.
    await badge.filter({ hasText: '1 online' }).waitFor({ timeout: UI_WAIT_MS })

    // Another user joins: the component never asks again, the pushed list moves its badge.
    bob = await connectAs(server.url, await registerUser(server.url))
    await joinCity(bob)
    await badge.filter({ hasText: '2 online' }).waitFor({ timeout: UI_WAIT_MS })

    const sent = await ask(bob.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'hi React',
    })
    expect(sent.ok).toBe(true)
    await page.locator('.message', { hasText: 'hi React' }).waitFor({ timeout: UI_WAIT_MS })

    // Bob goes: back to 1.
    bob.socket.disconnect()
    await badge.filter({ hasText: '1 online' }).waitFor({ timeout: UI_WAIT_MS })
    await screenshot(page, 'guide-react-example')
    expect(pageErrors).toEqual([])
  }, 60_000)
})
