/**
 * @module Web Push in Chromium: the page registers the service worker (/sw.js, under the strict
 * CSP), "Turn on notifications" asks for the permission and subscribes with the server's VAPID key,
 * the subscription reaches the server, a mention while the user is away reaches the test's push
 * service encrypted for the subscription's keys, and the worker shows that payload as a
 * notification when the push is delivered to it (DevTools `ServiceWorker.deliverPushMessage`).
 *
 * Headless Chromium has no push service of its own (PushManager.subscribe refuses in a profile like
 * the test's, and crashes the browser trying to reach one in a persistent profile), so the page's
 * `PushManager.subscribe` hands back what a browser would: a subscription whose endpoint and keys
 * the test's push service holds. Everything of ours runs as it does for users.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, registerUser } from '../helpers/api.ts'
import {
  BROWSER_SKIP_REASON,
  newUser,
  registerThroughUi,
  screenshot,
  useBrowserServer,
} from '../helpers/browser.ts'
import { ask, connectAs } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { type PushService, type PushSubscriber, startPushService } from '../helpers/push-service.ts'

if (BROWSER_SKIP_REASON) console.warn(`[test/browser] ${BROWSER_SKIP_REASON}`)

describe.skipIf(BROWSER_SKIP_REASON !== null)('Web Push in Chromium', () => {
  let push: PushService
  let device: PushSubscriber
  const bob = newUser('Bob')

  beforeAll(async () => {
    push = await startPushService()
    device = await push.subscriber()
  })
  afterAll(() => push?.stop())

  // NODE_ENV=test: http:// push endpoints (the test's push service) are accepted.
  const ui = useBrowserServer(
    { NODE_ENV: 'test', PRESENCE_GRACE: '0' },
    async (context, server) => {
      await context.grantPermissions(['notifications'], { origin: server.url })
      await context.addInitScript((subscription) => {
        let current: unknown = null
        const keys: string[] = []
        ;(window as unknown as { pushKeys: string[] }).pushKeys = keys
        PushManager.prototype.subscribe = async function (options) {
          const key = new Uint8Array(options?.applicationServerKey as ArrayBuffer)
          keys.push(btoa(String.fromCharCode(...key)))
          current = {
            endpoint: subscription.endpoint,
            toJSON: () => subscription,
            unsubscribe: async () => {
              current = null
              return true
            },
          }
          return current as PushSubscription
        }
        PushManager.prototype.getSubscription = async () => current as PushSubscription | null
      }, device.subscription)
    }
  )

  test('turn on notifications, get a push while away, and the worker shows it', async () => {
    await registerThroughUi(ui.page, bob)
    const worker = await ui.page.evaluate(async () => {
      const ready = await navigator.serviceWorker.ready
      return { script: ready.active?.scriptURL, scope: ready.scope }
    })
    expect(worker).toEqual({ script: `${ui.server.url}/sw.js`, scope: `${ui.server.url}/` })

    await ui.page.getByTestId('profile').locator('summary').click()
    const toggle = ui.page.getByTestId('push-toggle')
    await toggle.waitFor()
    expect(await toggle.textContent()).toBe('Turn on notifications')
    await toggle.click()
    await ui.page.getByText('Turn off notifications').waitFor()
    await screenshot(ui.page, 'push-turned-on')
    const key = (await api(ui.server.url, 'GET', '/api/push/vapid-public-key')).body.publicKey
    const given = await ui.page.evaluate(
      () => (window as unknown as { pushKeys: string[] }).pushKeys
    )
    expect(given.map((b64) => Buffer.from(b64, 'base64').toString('base64url'))).toEqual([key])

    // Bob leaves (no live socket); Alice mentions him.
    const login = await api(ui.server.url, 'POST', '/api/auth/login', {
      body: { login: bob.username, password: bob.password },
    })
    const bobId = login.body.user._id as string
    const alice = await registerUser(ui.server.url)
    const watcher = await connectAs(ui.server.url, alice)
    await ui.page.goto('about:blank')
    await eventually(
      async () =>
        (await ask(watcher.socket, 'check-user-online', { userId: bobId })).isOnline === false,
      10_000,
      'Bob offline'
    )
    watcher.socket.disconnect()
    const sent = await api(ui.server.url, 'POST', '/api/cities/berlin/messages', {
      token: alice.accessToken,
      body: { content: `@${bob.username} dinner at eight?` },
    })
    expect(sent.status).toBe(201)
    await eventually(() => device.arrived.length === 1, 10_000, 'the push')
    expect(push.failures).toEqual([])
    const payload = device.arrived[0]?.payload
    expect(payload).toMatchObject({
      kind: 'mention',
      cityId: 'berlin',
      preview: `@${bob.username} dinner at eight?`,
    })

    // The push service hands the decrypted payload to the worker, as Chromium would.
    await ui.page.goto('/')
    await ui.page.getByTestId('app-view').waitFor()
    const cdp = await ui.context.newCDPSession(ui.page)
    const registration = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const found = registrations.find((r) => r.scopeURL === `${ui.server.url}/` && !r.isDeleted)
        if (found) resolve(found.registrationId)
      })
    })
    await cdp.send('ServiceWorker.enable')
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: ui.server.url,
      registrationId: await registration,
      data: JSON.stringify(payload),
    })
    const [sw] = ui.context.serviceWorkers()
    expect(sw).toBeDefined()
    let shown: Array<{ title: string; body: string; tag: string }> = []
    await eventually(
      async () => {
        shown = await (sw as NonNullable<typeof sw>).evaluate(async () =>
          (await (self as any).registration.getNotifications()).map((n: Notification) => ({
            title: n.title,
            body: n.body,
            tag: n.tag,
          }))
        )
        return shown.length === 1
      },
      10_000,
      'the notification'
    )
    expect(shown).toEqual([
      {
        title: `${payload.sender.full_name} mentioned you in berlin`,
        body: `@${bob.username} dinner at eight?`,
        tag: 'city/berlin',
      },
    ])
    // The same push again (a redelivery after a crash): not shown twice.
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: ui.server.url,
      registrationId: await registration,
      data: JSON.stringify(payload),
    })
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: ui.server.url,
      registrationId: await registration,
      data: JSON.stringify({ ...payload, id: 'another', preview: 'later' }),
    })
    await eventually(
      async () => {
        shown = await (sw as NonNullable<typeof sw>).evaluate(async () =>
          (await (self as any).registration.getNotifications()).map((n: Notification) => ({
            body: n.body,
          }))
        )
        return shown.length === 1 && shown[0]?.body === 'later'
      },
      10_000,
      'the later push replacing it under the same tag'
    )
    await screenshot(ui.page, 'push-delivered')
    expect(ui.errors).toEqual([])
  }, 90_000)
})
