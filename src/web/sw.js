/**
 * @module The web client's service worker (served at /sw.js, scope /): shows each Web Push as a
 * notification and opens its room when clicked. A push the server sent again after a crash
 * carries the same id: it is shown under the room's tag, so it replaces rather than adds, and an id
 * already shown is not shown again.
 */

/** Ids of pushes shown lately (the worker may be restarted; the tag still replaces). */
const shown = new Set()

self.addEventListener('install', () => self.skipWaiting())
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()))

/** The notification's title, body, tag and the room it opens, from the push payload. */
function describe(push) {
  const sender = push.sender?.full_name || push.sender?.username || 'Someone'
  const where = push.cityId ? `in ${push.cityId}` : 'in a private chat'
  const room = push.cityId ? `city/${push.cityId}` : `chat/${push.chatId}`
  const what = {
    mention: `${sender} mentioned you ${where}`,
    reply: `${sender} replied to you ${where}`,
    added: `${sender} added you to a chat`,
    message: `${sender} ${where}`,
  }
  const more = push.count > 1 ? ` (+${push.count - 1} more)` : ''
  return {
    title: (what[push.kind] ?? `${sender} ${where}`) + more,
    body: push.preview || '',
    tag: room,
    url: `/#/${room}`,
  }
}

self.addEventListener('push', (event) => {
  let push
  try {
    push = event.data ? event.data.json() : null
  } catch {
    push = null
  }
  if (!push || shown.has(push.id)) return
  shown.add(push.id)
  if (shown.size > 500) shown.clear()
  const { title, body, tag, url } = describe(push)
  event.waitUntil(
    self.registration.showNotification(title, {
      body,
      tag,
      renotify: true,
      data: { url, id: push.id },
    })
  )
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const url = event.notification.data?.url ?? '/'
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => new URL(w.url).origin === self.location.origin)
      if (open) {
        open.navigate(url)
        return open.focus()
      }
      return self.clients.openWindow(url)
    })
  )
})
