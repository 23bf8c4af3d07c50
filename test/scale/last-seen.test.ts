/**
 * @module Last seen when a node dies: its users' disconnects are never seen and its unwritten
 * marks die with it, so the node that reaps it writes their last-seen time (the moment presence
 * lost them) to the shared database.
 */
import { Database } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { api, registerUser } from '../helpers/api.ts'
import { ask, connectAs } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { type Node, SKIP_REASON, useTwoNodes } from './cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

describe.skipIf(!!SKIP_REASON)('last seen on two nodes sharing Redis', () => {
  const { nodes, track } = useTwoNodes(['ls1', 'ls2'])

  test('a user whose node is SIGKILLed gets a stored last-seen time from the node that reaps it', async () => {
    const [n1, n2] = nodes as [Node, Node]
    const alice = await registerUser(n1.url)
    const bob = await registerUser(n1.url)
    const watcher = track(await connectAs(n1.url, bob))
    const onDoomed = track(await connectAs(n2.url, alice, { reconnection: false }))
    expect(onDoomed.socket.connected).toBe(true)
    // Killed only once the cluster's presence holds her (the other node heard her come online):
    // a node killed before that has nobody to lose.
    await eventually(
      async () =>
        (await ask(watcher.socket, 'check-user-online', { userId: alice.user._id })).isOnline ===
        true,
      10_000,
      'alice online as the other node sees it'
    )
    const killedAt = Date.now()
    await n2.kill()
    const file = new Database((n1.env.DATABASE_URL ?? '').slice('file:'.length), { readonly: true })
    const stored = () =>
      (
        file.query('SELECT last_seen_at AS at FROM users WHERE id = ?').get(alice.user._id) as {
          at: number | null
        }
      ).at
    // The reap (NODE_TTL 1.5 s, no grace) and then the reaping node's next batch (every 5 s).
    await eventually(() => (stored() ?? 0) >= killedAt, 15_000, 'last_seen_at written')
    file.close()
    // The profile says the same.
    const view = await api(n1.url, 'GET', `/api/users/${alice.user._id}`, {
      token: bob.accessToken,
    })
    expect(view.status).toBe(200)
    expect(Date.parse(view.body.user.last_seen)).toBeGreaterThanOrEqual(killedAt)
  }, 30_000)
})
