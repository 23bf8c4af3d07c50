/**
 * @module "Turn on notifications": registers the service worker (/sw.js), asks for the
 * notification permission when the user clicks, subscribes with the server's VAPID key and saves
 * the subscription; "Turn off" unsubscribes and removes it. The worker shows the pushes.
 */
import { removePushSubscription, savePushSubscription, vapidPublicKey } from './api.ts'
import { byId } from './dom.ts'

/** The VAPID key as PushManager wants it: the raw bytes of the base64url text. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/')
  const raw = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))
  return Uint8Array.from(raw, (c) => c.charCodeAt(0))
}

/** Wires the toggle in the profile panel; hidden where the browser has no Web Push. */
export async function wirePushToggle(toast: (message: string) => void): Promise<void> {
  const button = byId<HTMLButtonElement>('push-toggle')
  if (
    !('serviceWorker' in navigator) ||
    !('PushManager' in window) ||
    !('Notification' in window)
  ) {
    return
  }
  let registration: ServiceWorkerRegistration
  try {
    registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' })
  } catch {
    return
  }
  const show = (on: boolean) => {
    button.textContent = on ? 'Turn off notifications' : 'Turn on notifications'
    button.dataset.state = on ? 'on' : 'off'
    button.hidden = false
  }
  const current = await registration.pushManager.getSubscription()
  // Signed in again (perhaps as someone else): the browser's subscription is this user's now.
  if (current) await savePushSubscription(current.toJSON())
  show(current !== null && Notification.permission === 'granted')

  button.addEventListener('click', async () => {
    button.disabled = true
    try {
      const existing = await registration.pushManager.getSubscription()
      if (button.dataset.state === 'on' && existing) {
        await removePushSubscription(existing.endpoint)
        await existing.unsubscribe()
        show(false)
        return
      }
      if ((await Notification.requestPermission()) !== 'granted') {
        toast('Notifications are blocked for this site in the browser settings')
        return
      }
      const key = await vapidPublicKey()
      if (!key.ok) {
        toast(key.error.message)
        return
      }
      const subscription =
        existing ??
        (await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(key.value),
        }))
      const saved = await savePushSubscription(subscription.toJSON())
      if (!saved.ok) {
        toast(saved.error.message)
        return
      }
      show(true)
    } catch (error) {
      toast(`Could not turn on notifications: ${(error as Error).message}`)
    } finally {
      button.disabled = false
    }
  })
}

/** Removes this browser's subscription from the account (before logging out); keeps the browser's. */
export async function forgetPushSubscription(): Promise<void> {
  if (!('serviceWorker' in navigator)) return
  const registration = await navigator.serviceWorker.getRegistration('/')
  const subscription = await registration?.pushManager.getSubscription()
  if (subscription) await removePushSubscription(subscription.endpoint)
}
