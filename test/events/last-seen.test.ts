/**
 * last_seen lives in the database (users.last_seen_at, written in batches and on shutdown): a user
 * who connected and left is still "last seen" at that time after the server restarts, with no
 * Redis to remember it, in GET /api/users/:userId and in check-user-online.
 */
import { afterEach, expect, test } from 'bun:test'
import { api } from '../helpers/api.ts'
import { ask, chatUser, connectAs, once } from '../helpers/chat-client.ts'
import { restartableServer } from '../helpers/server.ts'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

test('last_seen survives a restart without Redis: GET /api/users/:userId and check-user-online', async () => {
  const restartable = restartableServer({ PRESENCE_GRACE: '0' })
  cleanups.push(restartable.remove)

  const before = await restartable.boot()
  const bob = await chatUser(before.url)
  const alice = await chatUser(before.url)
  const connectedAt = Date.now()
  const offline = once<any>(bob.socket, 'user-offline')
  alice.socket.disconnect()
  const heard = await offline
  const leftAt = Date.parse(heard.lastSeen)
  expect(heard.userId).toBe(alice.user._id)
  const profile = async (url: string) => {
    const res = await api(url, 'GET', `/api/users/${alice.user._id}`, { token: bob.accessToken })
    expect(res.status).toBe(200)
    return res.body.user
  }
  // Seen at once, from this node's unwritten mark.
  const live = await profile(before.url)
  expect(Date.parse(live.last_seen)).toBeGreaterThanOrEqual(connectedAt - 1_000)
  bob.socket.disconnect()
  await restartable.shutdown(before)

  const after = await restartable.boot()
  cleanups.push(() => restartable.shutdown(after))
  const seen = await profile(after.url)
  expect(seen).toMatchObject({ _id: alice.user._id, username: alice.user.username })
  const lastSeen = Date.parse(seen.last_seen)
  // The disconnect's time (within the same millisecond or so as user-offline's).
  expect(Math.abs(lastSeen - leftAt)).toBeLessThan(1_000)
  expect(lastSeen).toBeGreaterThanOrEqual(connectedAt - 1_000)

  const watcher = await connectAs(after.url, bob)
  cleanups.push(() => watcher.socket.disconnect())
  const status = await ask(watcher.socket, 'check-user-online', { userId: alice.user._id })
  expect(status).toMatchObject({ ok: true, userId: alice.user._id, isOnline: false })
  expect(status.lastSeen).toBe(seen.last_seen)

  // A user who never connected has no last_seen.
  const stranger = await api(after.url, 'POST', '/api/auth/register', {
    body: {
      username: `never_${Date.now().toString(36)}`,
      email: `never_${Date.now().toString(36)}@example.test`,
      full_name: 'Never Seen',
      password: 'correct-horse-battery',
    },
  })
  const never = await api(after.url, 'GET', `/api/users/${stranger.body.user._id}`, {
    token: bob.accessToken,
  })
  expect(never.body.user.last_seen).toBeNull()
})
