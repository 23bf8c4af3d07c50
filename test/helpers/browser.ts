/**
 * @module Browser test helpers: Debian's Chromium driven by playwright-core, and the real server
 * (`bun src/main.ts`, as `npm start` runs it) in a child process that can be killed and restarted.
 */
import { afterAll, beforeAll } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { freePort } from './ports.ts'

const CHROMIUM_PATH = '/usr/bin/chromium'
/** Why the browser suites skip; null when they can run. */
export const BROWSER_SKIP_REASON = existsSync(CHROMIUM_PATH)
  ? null
  : `${CHROMIUM_PATH} is absent (apt-get install -y chromium); browser tests skipped`

const ROOT = resolve(import.meta.dir, '..', '..')
/** The server entry the suite runs; BROWSER_TEST_ENTRY points it at another build of the server. */
const ENTRY = process.env.BROWSER_TEST_ENTRY ?? 'src/main.ts'
const ARTIFACTS_DIR = join(ROOT, 'test', 'artifacts')

/** Headless Chromium with the flags a container without a GPU, sandbox or network needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/** A phone-sized or desktop context; each context is a separate user (own localStorage). */
export function newUserContext(
  browser: Browser,
  url: string,
  viewport = { width: 1100, height: 760 }
): Promise<BrowserContext> {
  return browser.newContext({ baseURL: url, viewport })
}

/** A new user's context and page, the page's uncaught errors collected in `errors`. */
export async function watchedPage(
  browser: Browser,
  url: string,
  timeoutMs: number
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await newUserContext(browser, url)
  context.setDefaultTimeout(timeoutMs)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  return { context, page, errors }
}

export interface BrowserSuite {
  server: ServerProcess
  browser: Browser
  context: BrowserContext
  page: Page
  /** The page's uncaught errors: a suite ends expecting none. */
  errors: string[]
}

/**
 * The spawned server and Chromium of one describe block, started in beforeAll and closed in
 * afterAll: one user context (15 s default timeout) with one page. `beforePage` readies the
 * context before the page opens (permissions, init scripts). Read the fields inside tests.
 * @example const ui = useBrowserServer({ ADMIN_USERNAMES: mod.username }); test(…, () => ui.page)
 */
export function useBrowserServer(
  env: Record<string, string> = {},
  beforePage?: (context: BrowserContext, server: ServerProcess) => Promise<void>
): BrowserSuite {
  const suite = { errors: [] as string[] } as BrowserSuite
  beforeAll(async () => {
    suite.server = await spawnServer(env)
    suite.browser = await launchBrowser()
    suite.context = await newUserContext(suite.browser, suite.server.url)
    suite.context.setDefaultTimeout(15_000)
    await beforePage?.(suite.context, suite.server)
    suite.page = await suite.context.newPage()
    suite.page.on('pageerror', (error) => suite.errors.push(error.message))
  }, 60_000)
  afterAll(async () => {
    await suite.browser?.close()
    await suite.server?.stop()
  })
  return suite
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  const path = join(ARTIFACTS_DIR, `${name}.png`)
  await page.screenshot({ path })
  return path
}

export interface ServerProcess {
  url: string
  port: number
  dataDir: string
  /** SIGKILL: the server dies without closing anything, as in a crash. */
  kill(): Promise<void>
  /** Starts it again on the same port and database. */
  restart(): Promise<void>
  /** Kills it and removes its data directory. */
  stop(): Promise<void>
  /** stderr lines so far (JSON logs), for failure messages. */
  logs: string[]
}

/** How long a fresh process may take to migrate, seed and listen. */
const START_TIMEOUT_MS = 20_000

/**
 * Runs `bun src/main.ts` with a temp data directory on a fixed free port and resolves once
 * it logs `listening` (it logs JSON lines to stderr). `overrides` may be a function of the port.
 * @example const server = await spawnServer(); afterAll(() => server.stop())
 */
export async function spawnServer(
  overrides: Record<string, string> | ((port: number) => Record<string, string>) = {}
): Promise<ServerProcess> {
  const port = await freePort()
  // A function gets the port first (for PUBLIC_URL, which mailed links point to).
  const env = typeof overrides === 'function' ? overrides(port) : overrides
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-browser-'))
  const logs: string[] = []
  let child: ReturnType<typeof Bun.spawn> | null = null

  async function start(): Promise<void> {
    const proc = Bun.spawn([process.execPath, ENTRY], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        // As deployed: Bun.serve bundles the HTML once. In development mode Bun's HMR client
        // would reload the page when the restarted server comes back, hiding the reconnect path.
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        DATABASE_URL: `file:${join(dataDir, 'chat.db')}`,
        JWT_SECRET: 'browser-test-secret-0123456789-abcdefghij',
        ARGON2_MEMORY_KIB: '1024',
        // Tests register many users from 127.0.0.1; the register limit has its own test.
        REGISTER_ATTEMPTS_PER_ADDRESS: '100000',
        ...env,
      },
      stdout: 'ignore',
      stderr: 'pipe',
    })
    child = proc
    const listening = readLines(proc.stderr as ReadableStream<Uint8Array>, logs, (line) =>
      line.includes('"listening"')
    )
    const timeout = new Promise<never>((_, fail) =>
      setTimeout(
        () => fail(new Error(`server did not start:\n${logs.join('\n')}`)),
        START_TIMEOUT_MS
      )
    )
    const exited = proc.exited.then((code) => {
      throw new Error(`server exited with ${code} before listening:\n${logs.join('\n')}`)
    })
    await Promise.race([listening, timeout, exited])
  }

  async function kill(): Promise<void> {
    const proc = child
    child = null
    if (!proc) return
    proc.kill('SIGKILL')
    await proc.exited
  }

  await start()
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    logs,
    kill,
    restart: start,
    async stop() {
      await kill()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Collects lines into `sink` for the life of the stream; resolves when `until` matches one. */
function readLines(
  stream: ReadableStream<Uint8Array>,
  sink: string[],
  until: (line: string) => boolean
): Promise<void> {
  return new Promise((done) => {
    const decoder = new TextDecoder()
    let buffer = ''
    let matched = false
    void (async () => {
      for await (const chunk of stream) {
        buffer += decoder.decode(chunk, { stream: true })
        const lines = buffer.split('\n')
        buffer = lines.pop() ?? ''
        for (const line of lines) {
          sink.push(line)
          if (!matched && until(line)) {
            matched = true
            done()
          }
        }
      }
    })()
  })
}

export interface BrowserUser {
  username: string
  full_name: string
  email: string
  password: string
}

let counter = 0

export function newUser(name: string): BrowserUser {
  counter += 1
  const tag = `${Date.now().toString(36)}${counter}`
  return {
    username: `${name.toLowerCase()}_${tag}`,
    full_name: `${name} Tester`,
    email: `${name.toLowerCase()}_${tag}@example.test`,
    password: 'correct-horse-battery',
  }
}

/** Registers through the page's own form and waits for the chat screen. */
export async function registerThroughUi(page: Page, user: BrowserUser): Promise<void> {
  await page.goto('/')
  const form = page.getByTestId('register-form')
  await form.getByLabel('Username').fill(user.username)
  await form.getByLabel('Full name').fill(user.full_name)
  await form.getByLabel('Email').fill(user.email)
  await form.getByLabel('Password').fill(user.password)
  await form.getByRole('button', { name: 'Register' }).click()
  await page.getByTestId('app-view').waitFor()
}
