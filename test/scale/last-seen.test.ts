/**
 * @module Last seen when a node dies: its users' disconnects are never seen and its unwritten
 * marks die with it. Its batches left a heartbeat and the list of who was online on it, so the
 * node's next process (same NODE_ID: at once; a new one: once the heartbeat is older than
 * NODE_TTL) or any other node gives those users the heartbeat's time as last seen: after they
 * connected, no later than the kill, and at most a heartbeat before it. Real processes, a real
 * SQLite file; without Redis, and on two nodes sharing Redis and the database.
 */
import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, test } from 'bun:test'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { ask, type ChatClient, connectAs } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { clusterEnv, type Node, SKIP_REASON, startNode, useTwoNodes } from './cluster.ts'

/** clusterEnv's NODE_TTL: batches (and heartbeats) go every third of it. */
const NODE_TTL_MS = 1_500

function reader(env: Record<string, string>) {
  const path = (env.DATABASE_URL ?? '').slice('file:'.length)
  const read = <T>(query: string, ...params: string[]): T[] => {
    const file = new Database(path, { readonly: true })
    try {
      return file.query(query).all(...params) as T[]
    } finally {
      file.close()
    }
  }
  return {
    storedLastSeen: (userId: string) =>
      read<{ at: number | null }>('SELECT last_seen_at AS at FROM users WHERE id = ?', userId)[0]
        ?.at ?? null,
    heartbeats: () => read<{ node: string }>('SELECT node_id AS node FROM node_heartbeats'),
    listed: (nodeId: string) =>
      read<{ user: string }>('SELECT user_id AS user FROM node_users WHERE node_id = ?', nodeId),
  }
}

async function profileLastSeen(url: string, viewer: RegisteredUser, userId: string) {
  const view = await api(url, 'GET', `/api/users/${userId}`, { token: viewer.accessToken })
  expect(view.status).toBe(200)
  const seen = view.body.user.last_seen as string | null
  return seen === null ? null : Date.parse(seen)
}

/** After they connected, no later than the kill, and within a heartbeat (plus a late timer) of it. */
function expectSettled(lastSeen: number | null, connectedAt: number, killedAt: number): void {
  expect(lastSeen).not.toBeNull()
  expect(lastSeen as number).toBeGreaterThanOrEqual(connectedAt)
  expect(lastSeen as number).toBeLessThanOrEqual(killedAt)
  expect(lastSeen as number).toBeGreaterThanOrEqual(killedAt - NODE_TTL_MS)
}

describe('last seen after a SIGKILL, one node without Redis', () => {
  const running: Node[] = []
  const clients: ChatClient[] = []
  const cleanups: Array<() => void> = []
  afterAll(async () => {
    for (const c of clients) c.socket.disconnect()
    await Promise.all(running.map((n) => n.kill()))
    for (const cleanup of cleanups) cleanup()
  })

  for (const [name, firstId, nextId] of [
    ['the next process under the same NODE_ID settles it at start', 'solo', 'solo'],
    ['a next process under a new node id settles it once its heartbeat is stale', 'run1', 'run2'],
  ] as const) {
    test(name, async () => {
      const cluster = clusterEnv(undefined)
      cleanups.push(cluster.cleanup)
      const db = reader(cluster.env)
      const first = await startNode(cluster.env, firstId)
      running.push(first)
      const alice = await registerUser(first.url)
      const bob = await registerUser(first.url)
      const connectedAt = Date.now()
      const online = await connectAs(first.url, alice, { reconnection: false })
      clients.push(online)
      expect(online.socket.connected).toBe(true)
      // She stays online for two NODE_TTLs: her connect mark is written, later batches only beat.
      await eventually(() => db.listed(firstId).length === 1, 5_000, 'alice on the online list')
      await Bun.sleep(2 * NODE_TTL_MS)
      await first.kill()
      const killedAt = Date.now()
      // What the crash left: her connect time at best, no later time.
      expect(db.storedLastSeen(alice.user._id) ?? 0).toBeLessThan(killedAt - NODE_TTL_MS)

      const next = await startNode(cluster.env, nextId)
      running.push(next)
      await eventually(
        async () =>
          (await profileLastSeen(next.url, bob, alice.user._id)) !== null &&
          (db.storedLastSeen(alice.user._id) ?? 0) >= killedAt - NODE_TTL_MS,
        10_000,
        'alice settled'
      )
      expectSettled(await profileLastSeen(next.url, bob, alice.user._id), connectedAt, killedAt)
      // The dead process's rows are gone; the live one beats.
      expect(db.listed(firstId)).toEqual([])
      await eventually(
        () => JSON.stringify(db.heartbeats()) === JSON.stringify([{ node: nextId }]),
        5_000,
        'only the live process beats'
      )
    }, 40_000)
  }
})

if (SKIP_REASON) console.warn(SKIP_REASON)

describe.skipIf(!!SKIP_REASON)('last seen on two nodes sharing Redis', () => {
  const { nodes, track } = useTwoNodes(['ls1', 'ls2'])

  test('a user whose node is SIGKILLed gets the dead node heartbeat as last seen from the other node', async () => {
    const [n1, n2] = nodes as [Node, Node]
    const db = reader(n1.env)
    const alice = await registerUser(n1.url)
    const bob = await registerUser(n1.url)
    const watcher = track(await connectAs(n1.url, bob))
    const connectedAt = Date.now()
    const onDoomed = track(await connectAs(n2.url, alice, { reconnection: false }))
    expect(onDoomed.socket.connected).toBe(true)
    // Killed only once the cluster's presence holds her (the other node heard her come online)
    // and the doomed node's batches list her: a node killed before that has nobody to lose.
    await eventually(
      async () =>
        (await ask(watcher.socket, 'check-user-online', { userId: alice.user._id })).isOnline ===
        true,
      10_000,
      'alice online as the other node sees it'
    )
    await eventually(() => db.listed('ls2').length === 1, 5_000, 'alice on ls2 online list')
    await Bun.sleep(2 * NODE_TTL_MS)
    await n2.kill()
    const killedAt = Date.now()
    // The survivor settles ls2 once its heartbeat is older than NODE_TTL (within a heartbeat).
    await eventually(
      () => (db.storedLastSeen(alice.user._id) ?? 0) >= killedAt - NODE_TTL_MS,
      10_000,
      'last_seen_at written'
    )
    expectSettled(await profileLastSeen(n1.url, bob, alice.user._id), connectedAt, killedAt)
    // Only the dead node was settled: the live one keeps its heartbeat and bob on its list.
    expect(db.heartbeats()).toEqual([{ node: 'ls1' }])
    expect(db.listed('ls1')).toEqual([{ user: bob.user._id }])
    expect(db.listed('ls2')).toEqual([])
  }, 30_000)
})
