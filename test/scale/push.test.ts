/**
 * @module Web Push across processes, to a push service of the test's own: with two nodes on Redis
 * a user with a live socket on node B gets no push for a notification made on node A (and gets one
 * once gone from B); and a node SIGKILLed in the middle of a batch (pushes under way, pushes still
 * queued) and restarted on the same database delivers every push, none lost and none twice.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { ask, chatUser, connectAs } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { type PushSubscriber, startPushService } from '../helpers/push-service.ts'
import { clusterEnv, type Node, SKIP_REASON, startNode, useTwoNodes } from './cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A counter of a node's /metrics (the sum over its labels). */
async function metric(node: Node, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text()
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
}

async function subscribe(url: string, who: RegisteredUser, browser: PushSubscriber) {
  const res = await api(url, 'POST', '/api/push/subscriptions', {
    token: who.accessToken,
    body: browser.subscription,
  })
  if (res.status !== 201) throw new Error(JSON.stringify(res.body))
}

async function mention(url: string, from: RegisteredUser, to: RegisteredUser, cityId = 'pune') {
  const res = await api(url, 'POST', `/api/cities/${cityId}/messages`, {
    token: from.accessToken,
    body: { content: `@${to.user.username} hello` },
  })
  if (res.status !== 201) throw new Error(JSON.stringify(res.body))
  return res.body.message
}

describe.skipIf(!!SKIP_REASON)('Web Push on two nodes with Redis', () => {
  const { nodes, track } = useTwoNodes(['p1', 'p2'])

  test('a user online on n2 gets no push for a mention made on n1; once gone, they do', async () => {
    const [n1, n2] = nodes as [Node, Node]
    const push = await startPushService()
    cleanups.push(() => push.stop())
    const alice = track(await chatUser(n1.url))
    const bob = await registerUser(n1.url)
    const bobOnN2 = await connectAs(n2.url, bob)
    const carol = await registerUser(n1.url)
    const [bobBrowser, carolBrowser] = [await push.subscriber(), await push.subscriber()]
    await subscribe(n1.url, bob, bobBrowser)
    await subscribe(n2.url, carol, carolBrowser)

    const queuedBefore = await metric(n1, 'chat_push_queued_total')
    const res = await api(n1.url, 'POST', '/api/cities/pune/messages', {
      token: alice.accessToken,
      body: { content: `@${bob.user.username} @${carol.user.username} both of you` },
    })
    expect(res.status).toBe(201)
    await eventually(() => carolBrowser.arrived.length === 1, 10_000, "Carol's push")
    // Both were decided in the one pass that queued Carol's: one push, none for Bob.
    expect((await metric(n1, 'chat_push_queued_total')) - queuedBefore).toBe(1)
    expect(bobBrowser.requests).toEqual([])

    bobOnN2.socket.disconnect()
    await eventually(
      async () =>
        (await ask(alice.socket, 'check-user-online', { userId: bob.user._id })).isOnline === false,
      10_000,
      'Bob offline on n1'
    )
    const later = await mention(n1.url, alice, bob, 'delhi')
    await eventually(() => bobBrowser.arrived.length === 1, 10_000, "Bob's push")
    expect(bobBrowser.arrived[0]?.payload).toMatchObject({
      kind: 'mention',
      message_id: later._id,
      cityId: 'delhi',
    })
    expect(push.failures).toEqual([])
  }, 40_000)
})

test('SIGKILL in the middle of a batch and a restart: every push arrives exactly once', async () => {
  const push = await startPushService()
  cleanups.push(() => push.stop())
  const cluster = clusterEnv(undefined, {
    PUSH_TIMEOUT: '3s',
    PUSH_RETRY_BASE: '100ms',
    MESSAGE_RATE_PER_MINUTE: '0',
  })
  cleanups.push(cluster.cleanup)
  const first = await startNode(cluster.env, 'solo')
  cleanups.push(() => first.kill())

  const alice = await registerUser(first.url)
  const users: Array<[RegisteredUser, PushSubscriber]> = []
  for (let i = 0; i < 24; i += 1) {
    const user = await registerUser(first.url)
    const browser = await push.subscriber()
    await subscribe(first.url, user, browser)
    users.push([user, browser])
  }
  const sent: string[] = []
  // Four go through; then the push service answers nothing more.
  for (const [user] of users.slice(0, 4)) sent.push((await mention(first.url, alice, user))._id)
  await eventually(
    async () => (await metric(first, 'chat_push_sent_total')) === 4,
    10_000,
    'four marked sent'
  )
  push.hold()
  for (const [user] of users.slice(4)) sent.push((await mention(first.url, alice, user))._id)
  // All 24 in the outbox; 16 under way (held at the push service), 4 still queued behind them.
  await eventually(
    async () => (await metric(first, 'chat_push_queued_total')) === 24 && push.held() === 16,
    10_000,
    'the batch under way'
  )
  expect(await metric(first, 'chat_push_sent_total')).toBe(4)
  await first.kill()
  // The held requests were cut off with the process: none of them arrived.
  await eventually(() => push.held() === 0, 5_000, 'held requests cut off')
  push.release()

  const second = await startNode(cluster.env, 'solo')
  cleanups.push(() => second.kill())
  // The queued ones go at once; the cut-off ones once their lease (2 x PUSH_TIMEOUT + 1 s) lapsed.
  await eventually(
    () => users.every(([, browser]) => browser.arrived.length >= 1),
    30_000,
    'every push'
  )
  await eventually(
    async () => (await metric(second, 'chat_push_sent_total')) === 20,
    10_000,
    'the rest marked sent'
  )
  users.forEach(([, browser], i) => {
    expect(browser.arrived).toHaveLength(1)
    expect(browser.arrived[0]?.payload.message_id).toBe(sent[i] as string)
  })
  // Every cut-off request was sent again; nothing else was.
  const cut = users.flatMap(([, browser]) => browser.requests).filter((status) => status === 0)
  expect(cut.length).toBeGreaterThanOrEqual(16)
  expect(push.failures).toEqual([])
}, 90_000)
