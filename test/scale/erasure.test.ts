/**
 * Erasure across nodes and restarts: an erasure asked on node A closes the user's socket on node
 * B, and members on both nodes hear a delete for every message; a node SIGKILLed in the middle of
 * erasing 40,000 messages, or of exporting them, finishes the job after it restarts (the state is
 * in the database).
 */
import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { openDatabase } from '../../src/store/db.ts'
import { newId } from '../../src/store/ids.ts'
import { api, registerUser } from '../helpers/api.ts'
import { ask, chatUser, connectAs, joinCity, once } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { clusterEnv, type Node, SKIP_REASON, startNode, useTwoNodes } from './cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

describe.skipIf(!!SKIP_REASON)('erasure on two nodes sharing Redis', () => {
  const { nodes, track } = useTwoNodes(['x1', 'x2'], { MESSAGE_RATE_PER_MINUTE: '0' })

  test('erased on node A: the socket on node B closes, members on both nodes hear every delete', async () => {
    const [a, b] = nodes as [Node, Node]
    const alice = await registerUser(a.url)
    const aliceOnB = track(await connectAs(b.url, alice))
    const bobOnB = track(await chatUser(b.url))
    const carolOnA = track(await chatUser(a.url))
    for (const c of [aliceOnB, bobOnB, carolOnA]) await joinCity(c, 'kolkata')
    const sent: string[] = []
    for (let i = 0; i < 40; i++) {
      const ack = await ask(aliceOnB.socket, 'send-city-message', {
        cityId: 'kolkata',
        content: `to be erased ${i}`,
      })
      expect(ack.ok).toBe(true)
      sent.push(ack.message._id)
    }
    const heard = { bob: new Set<string>(), carol: new Set<string>() }
    bobOnB.socket.on('city-message-deleted', (p: any) => heard.bob.add(p.messageId))
    carolOnA.socket.on('city-message-deleted', (p: any) => heard.carol.add(p.messageId))
    const gone = once<string>(aliceOnB.socket, 'disconnect')

    const res = await api(a.url, 'DELETE', '/api/users/me', {
      token: alice.accessToken,
      body: { password: alice.password, erase: true },
    })
    expect(res.status).toBe(202)
    expect(await gone).toBe('io server disconnect')
    await eventually(
      () => heard.bob.size === sent.length && heard.carol.size === sent.length,
      20_000,
      'every delete on both nodes'
    )
    expect([...heard.bob].sort()).toEqual([...sent].sort())
    // A reconnect with the old token is refused on either node.
    const again = await connectAs(b.url, alice).then(
      (c) => {
        c.socket.disconnect()
        return 'connected'
      },
      (error: Error) => error.message
    )
    expect(again).not.toBe('connected')
  })
})

describe('export and erasure survive a SIGKILL in the middle', () => {
  const cluster = clusterEnv(undefined, { MESSAGE_RATE_PER_MINUTE: '0' })
  const dbPath = join(cluster.dataDir, 'chat.db')
  let node: Node | undefined
  afterAll(async () => {
    await node?.kill()
    cluster.cleanup()
  })

  /** `count` city messages by `authorId`, written straight into the shared database file. */
  async function storeMessages(authorId: string, count: number, cityId: string) {
    const database = await openDatabase({ url: `file:${dbPath}` })
    for (let from = 0; from < count; from += 5_000) {
      const chunk: Promise<unknown>[] = []
      for (let i = from; i < Math.min(count, from + 5_000); i++) {
        const now = Date.now()
        chunk.push(
          database.writer.insertMessage({
            id: newId(now),
            cityId,
            authorId,
            content: `secret ${i}`,
            createdAt: now,
          })
        )
      }
      await Promise.all(chunk)
    }
    await database.close()
  }

  test('40,000 messages: killed while erasing, the restarted node finishes it', async () => {
    node = await startNode(cluster.env, 'k1')
    const alice = await registerUser(node.url)
    const bob = await registerUser(node.url)
    const COUNT = 40_000
    await storeMessages(alice.user._id, COUNT, 'chennai')
    const reader = new Database(dbPath, { readonly: true })
    const progress = () =>
      reader.query('SELECT phase, cursor FROM erasures WHERE user_id = ?').get(alice.user._id) as {
        phase: string
        cursor: number
      } | null
    const left = () =>
      (
        reader
          .query("SELECT count(*) AS n FROM messages WHERE author_id = ? AND content != ''")
          .get(alice.user._id) as { n: number }
      ).n

    const res = await api(node.url, 'DELETE', '/api/users/me', {
      token: alice.accessToken,
      body: { password: alice.password, erase: true },
    })
    expect(res.status).toBe(202)
    await eventually(() => (progress()?.cursor ?? 0) > 0, 20_000, 'the first slice')
    await node.kill()
    const atKill = progress()
    expect(atKill?.phase).toBe('messages')
    const unerased = left()
    expect(unerased).toBeGreaterThan(0)
    expect(unerased).toBeLessThan(COUNT)

    node = await startNode(cluster.env, 'k1')
    await eventually(() => progress()?.phase === 'done', 60_000, 'the erasure to finish')
    expect(left()).toBe(0)
    const tombstones = reader
      .query('SELECT count(*) AS n FROM messages WHERE author_id = ? AND is_deleted = 1')
      .get(alice.user._id) as { n: number }
    expect(tombstones.n).toBe(COUNT)
    const announced = reader
      .query("SELECT count(*) AS n FROM room_events WHERE room = 'city:chennai'")
      .get() as { n: number }
    // Every message's delete went through the room stream (a slice cut by the kill goes twice).
    expect(announced.n).toBeGreaterThanOrEqual(COUNT)
    reader.close()
    const history = await api(node.url, 'GET', '/api/cities/chennai/messages?limit=5', {
      token: bob.accessToken,
    })
    for (const m of history.body.messages)
      expect(m).toMatchObject({ is_deleted: true, content: '' })
  }, 120_000)

  test('40,000 messages: an export killed while it is made is finished by the restarted node', async () => {
    node ??= await startNode(cluster.env, 'k1')
    const carol = await registerUser(node.url)
    const COUNT = 40_000
    await storeMessages(carol.user._id, COUNT, 'hyderabad')
    const reader = new Database(dbPath, { readonly: true })
    const progress = () =>
      reader
        .query('SELECT state, cursor, messages FROM account_exports WHERE user_id = ?')
        .get(carol.user._id) as { state: string; cursor: number; messages: number } | null
    const res = await api(node.url, 'POST', '/api/users/me/export', { token: carol.accessToken })
    expect(res.status).toBe(202)
    await eventually(() => (progress()?.messages ?? 0) > 0, 20_000, 'the first slice')
    await node.kill()
    expect(progress()?.state).toBe('running')
    expect(progress()?.messages).toBeLessThan(COUNT)

    node = await startNode(cluster.env, 'k1')
    await eventually(() => progress()?.state === 'ready', 60_000, 'the export to be ready')
    reader.close()
    const archive = await fetch(`${node.url}/api/users/me/export`, {
      headers: { authorization: `Bearer ${carol.accessToken}` },
    })
    expect(archive.status).toBe(200)
    const lines = (await archive.text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    const messages = lines.filter((l) => l.type === 'message')
    expect(messages).toHaveLength(COUNT)
    expect(new Set(messages.map((m) => m._id)).size).toBe(COUNT)
    expect(lines.filter((l) => l.type === 'profile')).toHaveLength(1)
    expect(lines.at(-1)).toEqual({ type: 'end', messages: COUNT })
  }, 120_000)
})
