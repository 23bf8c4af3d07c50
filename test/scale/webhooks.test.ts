/**
 * @module Registered webhooks across two nodes on one database and one Redis: a hook registered on
 * one node receives the events of messages and reports made on the other, signed with its secret,
 * retried through a receiver that fails the first three times and in order; its deliveries are
 * listed on either node (the first with its four attempts), and once removed on one node the
 * other sends it no more; reactions made on either node reach a hook registered on one.
 */
import { describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { api, registerUser } from '../helpers/api.ts'
import { eventually } from '../helpers/eventually.ts'
import { type Node, SKIP_REASON, useTwoNodes } from './cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

describe.skipIf(!!SKIP_REASON)('registered webhooks across two nodes', () => {
  const { nodes } = useTwoNodes(['w1', 'w2'], {
    ADMIN_USERNAMES: 'hooks_admin,hooks_admin2',
    WEBHOOK_RETRY_BASE: '20ms',
    MESSAGE_RATE_PER_MINUTE: '0',
  })

  test('registered on one node, fed by the other, retried in order, removed on both', async () => {
    const [w1, w2] = nodes as [Node, Node]
    const received: Array<{ headers: Headers; body: string; json: any }> = []
    const receiver = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(req) {
        const body = await req.text()
        received.push({ headers: req.headers, body, json: JSON.parse(body) })
        // The first three attempts fail: the outbox retries them from whichever node claims them.
        return new Response('', { status: received.length <= 3 ? 500 : 200 })
      },
    })
    try {
      const admin = await registerUser(w1.url, { username: 'hooks_admin' })
      const alice = await registerUser(w2.url)
      const bob = await registerUser(w2.url)
      const made = await api(w1.url, 'POST', '/api/admin/webhooks', {
        token: admin.accessToken,
        body: {
          url: `http://127.0.0.1:${receiver.port}/in`,
          events: ['message.created', 'report.created'],
        },
      })
      expect(made.status).toBe(201)
      const hookId = made.body.webhook._id as string
      const secret = made.body.secret as string

      const send = async (content: string) =>
        (
          await api(w2.url, 'POST', '/api/cities/chennai/messages', {
            token: alice.accessToken,
            body: { content },
          })
        ).body.message._id as string
      // w2 reads the hook list again within seconds: probe until a message sent there arrives.
      const probes: string[] = []
      await eventually(
        async () => {
          probes.push(await send(`probe ${probes.length}`))
          return received.some((r) => r.json.data.message?.content.startsWith('probe'))
        },
        20_000,
        'a message sent on w2 reaching the hook registered on w1'
      )
      const sent: string[] = []
      for (let i = 0; i < 4; i++) sent.push(await send(`ordered ${i}`))
      const accepted = () => received.slice(3)
      // message.created is written after the notifier's queue reaches it; the report's event is
      // written by the request: wait for the last message so the report's event follows it.
      await eventually(
        () => accepted().some((r) => r.json.data.message?._id === sent[3]),
        15_000,
        'the ordered messages'
      )
      const reported = await api(w2.url, 'POST', `/api/messages/${sent[3]}/reports`, {
        token: bob.accessToken,
        body: { reason: 'a report made on w2' },
      })
      expect(reported.status).toBe(201)
      await eventually(
        () => accepted().some((r) => r.json.type === 'report.created'),
        15_000,
        'the report'
      )
      expect(received.length).toBeGreaterThan(3)
      // The refused attempts came again, same id and body, and were accepted once.
      for (const refused of received.slice(0, 3)) {
        const again = accepted().filter((r) => r.json.id === refused.json.id)
        expect(again.map((r) => r.body)).toEqual([refused.body])
      }
      for (const r of received) {
        const timestamp = r.headers.get('x-webhook-timestamp') ?? ''
        const expected = createHmac('sha256', secret).update(`${timestamp}.${r.body}`).digest('hex')
        expect(r.headers.get('x-webhook-signature')).toBe(`v1=${expected}`)
      }
      // In order, each once: the probes that made it, the ordered ones, then the report.
      const ids = accepted().map((r) => r.json.data.message?._id ?? r.json.data.report.messageId)
      expect(ids.slice(-5)).toEqual([...sent, sent[3]])
      expect(accepted().at(-1)?.json.data.report.reason).toBe('a report made on w2')
      expect(new Set(accepted().map((r) => r.json.id)).size).toBe(accepted().length)

      // The deliveries, read on the node that did not register the hook (an answer is recorded
      // just after the receiver saw the request: wait until the last one is).
      const rowsOf = async () => {
        const deliveries = await api(w2.url, 'GET', `/api/admin/webhooks/${hookId}/deliveries`, {
          token: admin.accessToken,
        })
        expect(deliveries.status).toBe(200)
        return new Map((deliveries.body.deliveries as any[]).map((d) => [d.event_id, d]))
      }
      const lastId = accepted().at(-1)?.json.id
      await eventually(
        async () => (await rowsOf()).get(lastId)?.state === 'delivered',
        10_000,
        'the last delivery recorded'
      )
      const byEvent = await rowsOf()
      for (const r of accepted().slice(-5))
        expect(byEvent.get(r.json.id)).toMatchObject({ type: r.json.type, state: 'delivered' })
      // The first event took four attempts: three refusals, then accepted.
      expect(byEvent.get(received[0]?.json.id)).toMatchObject({
        state: 'delivered',
        attempts: 4,
        last_status: 200,
      })

      // Removed on w1: nothing more reaches it from w2.
      expect(
        (await api(w1.url, 'DELETE', `/api/admin/webhooks/${hookId}`, { token: admin.accessToken }))
          .status
      ).toBe(204)
      const listed = await api(w2.url, 'GET', '/api/admin/webhooks', { token: admin.accessToken })
      expect(listed.body.webhooks).toEqual([])
      const count = received.length
      await send('after removal')
      const gone = await api(w2.url, 'GET', `/api/admin/webhooks/${hookId}/deliveries`, {
        token: admin.accessToken,
      })
      expect(gone.status).toBe(404)
      expect(received.length).toBe(count)
    } finally {
      receiver.stop(true)
    }
  })

  test('reaction.added / reaction.removed made on either node reach a hook registered on one, each once', async () => {
    const [w1, w2] = nodes as [Node, Node]
    const received: any[] = []
    const receiver = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(req) {
        received.push(JSON.parse(await req.text()))
        return new Response('', { status: 200 })
      },
    })
    try {
      const admin = await registerUser(w1.url, { username: 'hooks_admin2' })
      const [alice, bob] = [await registerUser(w1.url), await registerUser(w2.url)]
      const made = await api(w1.url, 'POST', '/api/admin/webhooks', {
        token: admin.accessToken,
        body: {
          url: `http://127.0.0.1:${receiver.port}/in`,
          events: ['message.created', 'reaction.added', 'reaction.removed'],
        },
      })
      expect(made.status).toBe(201)
      const cityId = 'delhi'
      // w2 hears of the hook on the change feed: probe with messages sent there until one arrives.
      await eventually(
        async () => {
          await api(w2.url, 'POST', `/api/cities/${cityId}/messages`, {
            token: bob.accessToken,
            body: { content: 'probe' },
          })
          return received.some((r) => r.data.message?.content === 'probe')
        },
        20_000,
        'a message sent on w2 reaching the hook registered on w1'
      )
      const sent = await api(w1.url, 'POST', `/api/cities/${cityId}/messages`, {
        token: alice.accessToken,
        body: { content: 'react across nodes' },
      })
      const id = sent.body.message._id as string
      const react = (url: string, token: string, method: 'PUT' | 'DELETE') =>
        api(url, method, `/api/messages/${id}/reactions/fire`, { token })
      expect((await react(w2.url, bob.accessToken, 'PUT')).body.count).toBe(1)
      expect((await react(w1.url, alice.accessToken, 'PUT')).body.count).toBe(2)
      expect((await react(w2.url, bob.accessToken, 'DELETE')).body.count).toBe(1)
      const ofMessage = () =>
        received.filter((r) => (r.data.message?._id ?? r.data.messageId) === id)
      await eventually(() => ofMessage().length === 4, 15_000, 'the message and its reactions')
      const fire = '🔥'
      expect(ofMessage().filter((r) => r.type === 'message.created')).toHaveLength(1)
      // Each once, with the count the room heard. (Across nodes the outbox orders by time, to the
      // millisecond: two nodes' events of the same millisecond may go in either order.)
      const reactions = ofMessage().filter((r) => r.type !== 'message.created')
      const byCount = (x: any[], y: any[]) => x[1].count - y[1].count || (x[0] < y[0] ? -1 : 1)
      expect(reactions.map((r) => [r.type, r.data]).sort(byCount)).toEqual([
        [
          'reaction.added',
          { messageId: id, emoji: fire, userId: bob.user._id, action: 'add', count: 1, cityId },
        ],
        [
          'reaction.removed',
          { messageId: id, emoji: fire, userId: bob.user._id, action: 'remove', count: 1, cityId },
        ],
        [
          'reaction.added',
          { messageId: id, emoji: fire, userId: alice.user._id, action: 'add', count: 2, cityId },
        ],
      ])
    } finally {
      receiver.stop(true)
    }
  })
})
