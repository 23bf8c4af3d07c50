/**
 * @module Webhook events of edits, deletes, reactions and membership changes are as durable as
 * those of new messages, and in the room's order: the notifier reads them from the room stream's
 * log after its persisted watermark, in offset order with the new messages. A real node is
 * SIGKILLed the moment the last of a run of changes was acked (each of them answered by the
 * server), restarted on the same data dir, and a receiver of the test's own gets every event at
 * least once, distinct events under distinct ids (a redelivery after the crash repeats its id:
 * receivers de-duplicate by id), and per room in offset order: a message's `message.created`
 * before its `message.edited`, before its `message.deleted`. With two nodes on Redis, an edit made
 * on one node of a message created on the other reaches the receiver after its creation,
 * whichever node holds the notifier lease. A log row whose message is gone before the notifier
 * reached it (retention) neither stops nor skips it.
 */
import { Database } from 'bun:sqlite'
import { afterEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { eventually } from '../helpers/eventually.ts'
import { startWebhookReceiver, type WebhookArrival } from '../helpers/webhook-receiver.ts'
import { clusterEnv, SKIP_REASON, startLeaseNodes, startNode } from './cluster.ts'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** What an event is about, to tell distinct events apart: its type and its data. */
const what = (event: WebhookArrival) => `${event.type} ${JSON.stringify(event.data)}`

/** The message or chat an event is about, and its room. */
const roomOf = (event: WebhookArrival): string => {
  const data = event.data
  const payload = data.message ?? data
  if (event.type === 'notification.created') return `user:${data.userId}`
  return payload.chatId ? `chat:${payload.chatId}` : `city:${payload.cityId}`
}
const subject = (event: WebhookArrival): string =>
  event.data.message?._id ?? event.data.messageId ?? event.data.userIds?.join(',') ?? ''

/** Redelivery repeats an id with the same body; distinct events never share one. */
function expectIdsHonest(arrivals: WebhookArrival[]): void {
  const bodies = new Map<string, Set<string>>()
  for (const arrival of arrivals) {
    const seen = bodies.get(arrival.id) ?? new Set()
    seen.add(what(arrival))
    bodies.set(arrival.id, seen)
  }
  for (const [id, seen] of bodies) expect([id, seen.size]).toEqual([id, 1])
  const distinct = new Set(arrivals.map(what))
  expect(bodies.size).toBe(distinct.size)
}

const call = async (url: string, method: string, path: string, who: RegisteredUser, body?: any) => {
  const res = await api(url, method, path, { token: who.accessToken, body })
  if (res.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(res.body)}`)
  return res.body
}

test('SIGKILL right after edits, deletes, reactions and membership changes were acked: every event after the restart, in order per room', async () => {
  const receiver = startWebhookReceiver()
  cleanups.push(receiver.stop)
  // Recovery off: the log is written for the notifier all the same.
  const cluster = clusterEnv(undefined, {
    MESSAGE_RATE_PER_MINUTE: '0',
    RECOVERY_WINDOW: '0',
    ...receiver.env,
  })
  cleanups.push(cluster.cleanup)
  const first = await startNode(cluster.env, 'solo')
  cleanups.push(() => first.kill())
  const alice = await registerUser(first.url)
  const bob = await registerUser(first.url)
  const carol = await registerUser(first.url)

  // Every change acked by the server (a 2xx answer), one after the other, then killed at once.
  const chat = (await call(first.url, 'POST', '/api/chats', alice, { memberIds: [bob.user._id] }))
    .chat._id as string
  const m1 = (await call(first.url, 'POST', '/api/cities/pune/messages', alice, { content: 'one' }))
    .message._id as string
  await call(first.url, 'PATCH', `/api/messages/${m1}`, alice, { content: 'one, edited' })
  await call(first.url, 'PUT', `/api/messages/${m1}/reactions/${encodeURIComponent('👍')}`, bob)
  const m2 = (await call(first.url, 'POST', '/api/cities/pune/messages', alice, { content: 'two' }))
    .message._id as string
  await call(first.url, 'DELETE', `/api/messages/${m2}`, alice)
  const dm = (
    await call(first.url, 'POST', `/api/chats/${chat}/messages`, alice, { content: 'hi' })
  ).message._id as string
  await call(first.url, 'PATCH', `/api/messages/${dm}`, alice, { content: 'hi, edited' })
  await call(first.url, 'POST', `/api/chats/${chat}/members`, alice, { userIds: [carol.user._id] })
  await call(first.url, 'DELETE', `/api/chats/${chat}/members/${carol.user._id}`, alice)
  await first.kill()

  const second = await startNode(cluster.env, 'solo')
  cleanups.push(() => second.kill())
  const inRoom = (room: string) =>
    receiver
      .events()
      .filter((event) => roomOf(event) === room)
      .map((event) => [event.type, subject(event)])
  const city = [
    ['message.created', m1],
    ['message.edited', m1],
    ['reaction.added', m1],
    ['message.created', m2],
    ['message.deleted', m2],
  ]
  const privateChat = [
    ['member.added', bob.user._id],
    ['message.created', dm],
    ['message.edited', dm],
    ['member.added', carol.user._id],
    ['member.removed', carol.user._id],
  ]
  await eventually(
    () =>
      inRoom('city:pune').length >= city.length &&
      inRoom(`chat:${chat}`).length >= privateChat.length,
    20_000,
    'every event of both rooms'
  )
  // Late redeliveries would come within the delivery loop's next turns: give them time.
  await Bun.sleep(500)
  // Each once (by id), in the room's order.
  expect(inRoom('city:pune')).toEqual(city)
  expect(inRoom(`chat:${chat}`)).toEqual(privateChat)
  expectIdsHonest(receiver.arrivals)
  // The membership events carry who did it, and bob and carol were each told once they were added.
  const added = receiver.events().filter((event) => event.type === 'member.added')
  expect(added.map((event) => event.data)).toEqual([
    { chatId: chat, actorId: alice.user._id, userIds: [bob.user._id] },
    { chatId: chat, actorId: alice.user._id, userIds: [carol.user._id] },
  ])
  const removed = receiver.events().filter((event) => event.type === 'member.removed')
  expect(removed.map((event) => event.data)).toEqual([
    { chatId: chat, actorId: alice.user._id, userIds: [carol.user._id] },
  ])
  for (const who of [bob, carol]) {
    const feed = await call(second.url, 'GET', '/api/notifications?limit=10', who)
    expect(feed.notifications.map((n: { kind: string }) => n.kind)).toEqual(
      who === bob ? ['message', 'added'] : ['added']
    )
  }
}, 60_000)

test.skipIf(!!SKIP_REASON)(
  'two nodes: an edit on one node of a message created on the other arrives after its creation, whichever holds the lease',
  async () => {
    const receiver = startWebhookReceiver()
    cleanups.push(receiver.stop)
    const { holder, other, stop } = await startLeaseNodes({
      MESSAGE_RATE_PER_MINUTE: '0',
      ...receiver.env,
    })
    cleanups.push(stop)
    const alice = await registerUser(holder.url)

    // Created on one node and edited at once on the other, both ways round, several times.
    const expected: string[][] = []
    for (let i = 0; i < 6; i += 1) {
      const [creator, editor] = i % 2 === 0 ? [holder, other] : [other, holder]
      const id = (
        await call(creator.url, 'POST', '/api/cities/pune/messages', alice, { content: `m${i}` })
      ).message._id as string
      await call(editor.url, 'PATCH', `/api/messages/${id}`, alice, { content: `m${i} edited` })
      expected.push(['message.created', id], ['message.edited', id])
    }
    const pune = () =>
      receiver
        .events()
        .filter((event) => roomOf(event) === 'city:pune')
        .map((event) => [event.type, subject(event)])
    await eventually(() => pune().length >= expected.length, 20_000, 'every event')
    await Bun.sleep(500)
    expect(pune()).toEqual(expected)
    expectIdsHonest(receiver.arrivals)
  },
  60_000
)

test('a message purged before the notifier reached its log rows: the rest of the room goes on, in order', async () => {
  const receiver = startWebhookReceiver()
  cleanups.push(receiver.stop)
  const cluster = clusterEnv(undefined, { MESSAGE_RATE_PER_MINUTE: '0', ...receiver.env })
  cleanups.push(cluster.cleanup)
  const node = await startNode(cluster.env, 'solo')
  cleanups.push(() => node.kill())
  const sqlite = new Database(join(cluster.dataDir, 'chat.db'))
  cleanups.push(() => sqlite.close())
  // The lease held elsewhere: this node stops handling at its next renewal (each second).
  sqlite.run(`UPDATE notifier_lease SET node_id = 'elsewhere', until = ${Date.now() + 3_600_000}`)
  await Bun.sleep(2_000)
  const alice = await registerUser(node.url)
  const bob = await registerUser(node.url)
  const m1 = (await call(node.url, 'POST', '/api/cities/pune/messages', alice, { content: 'one' }))
    .message._id as string
  await call(node.url, 'PATCH', `/api/messages/${m1}`, alice, { content: 'one, edited' })
  await call(node.url, 'PUT', `/api/messages/${m1}/reactions/${encodeURIComponent('👍')}`, bob)
  const m2 = (await call(node.url, 'POST', '/api/cities/pune/messages', alice, { content: 'two' }))
    .message._id as string
  await call(node.url, 'DELETE', `/api/messages/${m2}`, alice)
  expect(receiver.events()).toEqual([])
  // m1 purged (its row gone, its log rows left), then the lease let go: this node takes it.
  sqlite.run('DELETE FROM messages WHERE id = ?', [m1])
  sqlite.run('DELETE FROM notifier_lease')
  const m3 = (
    await call(node.url, 'POST', '/api/cities/pune/messages', alice, { content: 'three' })
  ).message._id as string
  const pune = () =>
    receiver
      .events()
      .filter((event) => roomOf(event) === 'city:pune')
      .map((event) => [event.type, subject(event)])
  const expected = [
    // m1 was gone before the notifier read it: no message.created; its logged events as heard.
    ['message.edited', m1],
    ['reaction.added', m1],
    ['message.created', m2],
    ['message.deleted', m2],
    ['message.created', m3],
  ]
  await eventually(() => pune().length >= expected.length, 20_000, 'every event of the room')
  await Bun.sleep(500)
  expect(pune()).toEqual(expected)
  expectIdsHonest(receiver.arrivals)
}, 60_000)
