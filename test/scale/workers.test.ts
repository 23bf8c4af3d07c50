/**
 * @module WORKERS=2: one supervisor, two processes on the same port (reusePort), rooms shared
 * through Redis; and the config refusal without REDIS_URL.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { ask, type ChatClient, chatUser, joinCity, once } from '../helpers/chat-client.ts'
import { freePort } from '../helpers/ports.ts'
import { clusterEnv, type Node, type Redis, SKIP_REASON, startNode, startRedis } from './cluster.ts'

test('WORKERS above 1 without REDIS_URL is a configuration error', () => {
  expect(() => loadConfig({ WORKERS: '2' })).toThrow(ConfigError)
  expect(() => loadConfig({ WORKERS: '2' })).toThrow(/WORKERS: more than 1 requires REDIS_URL/)
  expect(loadConfig({ WORKERS: '2', REDIS_URL: 'redis://127.0.0.1:6379' }).WORKERS).toBe(2)
})

/** The node that owns an Engine.IO session is the sid's prefix (`<nodeId>.<random>`). */
const ownerOf = (sid: string | undefined) => sid?.split('.')[0]

describe.skipIf(!!SKIP_REASON)('two workers sharing one port', () => {
  let redis: Redis
  let supervisor: Node
  let url = ''
  let cleanup = () => {}
  const clients: ChatClient[] = []

  beforeAll(async () => {
    redis = await startRedis()
    const port = await freePort()
    const cluster = clusterEnv(redis.url, { WORKERS: '2', PORT: String(port) })
    cleanup = cluster.cleanup
    // The database is migrated by whichever worker gets there first; the other finds it done.
    supervisor = await startNode(cluster.env, 'w', { waitFor: /"node":"w-1".*"msg":"listening"/ })
    await supervisor.waitForLog(/"node":"w-0".*"msg":"listening"/, 15_000)
    url = `http://127.0.0.1:${port}`
  }, 30_000)

  afterAll(async () => {
    for (const c of clients) c.socket.disconnect()
    // SIGTERM: the supervisor stops both workers before it exits.
    supervisor?.proc.kill('SIGTERM')
    await supervisor?.proc.exited
    await redis?.stop()
    cleanup()
  })

  test('connections spread over both workers, and a room spans them', async () => {
    const byWorker = new Map<string, ChatClient>()
    // The kernel picks a worker per connection; a bounded number of tries finds both.
    for (let i = 0; i < 40 && byWorker.size < 2; i++) {
      const c = await chatUser(url)
      clients.push(c)
      const owner = ownerOf(c.socket.io.engine.id)
      if (owner && !byWorker.has(owner)) byWorker.set(owner, c)
    }
    expect([...byWorker.keys()].sort()).toEqual(['w-0', 'w-1'])
    const [a, b] = [...byWorker.values()] as [ChatClient, ChatClient]
    await joinCity(a, 'kolkata')
    await joinCity(b, 'kolkata')
    const got = once(b.socket, 'new-city-message')
    await ask(a.socket, 'send-city-message', { cityId: 'kolkata', content: 'across workers' })
    expect(((await got) as any).content).toBe('across workers')
    const counts = await Promise.all(
      [a, b].map(async (c) => (await ask(c.socket, 'get-online-count')).count)
    )
    expect(counts[0]).toBe(counts[1])
  })

  test('the database file is shared in WAL mode', async () => {
    const wal = join(supervisor.env.DATA_DIR ?? '', 'chat.db-wal')
    expect(await Bun.file(wal).exists()).toBe(true)
  })
})
