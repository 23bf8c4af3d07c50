/**
 * @module Nodes sharing a REDIS_URL share a database: a node started on another database refuses
 * to start, with the reason, and the cluster it would have joined goes on.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { api, registerUser } from '../helpers/api.ts'
import { clusterEnv, type Node, SKIP_REASON, startNode, startRedis } from './cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

describe.skipIf(!!SKIP_REASON)('one cluster id in the database and in Redis', () => {
  const stops: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop()
  })

  test('a node on another database than its Redis peers refuses to start', async () => {
    const redis = await startRedis()
    stops.push(() => redis.stop())
    const right = clusterEnv(redis.url)
    const wrong = clusterEnv(redis.url)
    stops.push(right.cleanup, wrong.cleanup)
    const n1 = await startNode(right.env, 'n1')
    stops.push(() => n1.kill())
    const user = await registerUser(n1.url)

    const refused = await startNode(wrong.env, 'stray').then(
      (node: Node) => node.kill().then(() => 'started'),
      (error: Error) => error.message
    )
    expect(refused).toMatch(/exited with 1 before listening/)
    expect(refused).toContain('startup failed')
    expect(refused).toContain('REDIS_URL is used by nodes on another database')

    // A node on the same database joins; the user registered on n1 logs in on it.
    const n2 = await startNode(right.env, 'n2')
    stops.push(() => n2.kill())
    const login = await api(n2.url, 'POST', '/api/auth/login', {
      body: { login: user.user.username, password: user.password },
    })
    expect(login.status).toBe(200)
  })
})
