/**
 * @module Who chose `all` in a city is held in memory on every node: a choice made on n2 reaches
 * n1 through the change feed, so a plain message sent on n1 notifies a user with no live socket
 * there, and once they go back to `mentions` on n2, plain messages sent on n1 stop notifying.
 */
import { describe, expect, test } from 'bun:test'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { eventually } from '../helpers/eventually.ts'
import { type Node, SKIP_REASON, useTwoNodes } from './cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

describe.skipIf(!!SKIP_REASON)('the city level `all` across two nodes', () => {
  const { nodes } = useTwoNodes(['a1', 'a2'], { MESSAGE_RATE_PER_MINUTE: '0' })

  const send = async (url: string, who: RegisteredUser, content: string) => {
    const res = await api(url, 'POST', '/api/cities/kolkata/messages', {
      token: who.accessToken,
      body: { content },
    })
    if (res.status !== 201) throw new Error(JSON.stringify(res.body))
    return res.body.message._id as string
  }
  const feedOf = async (url: string, who: RegisteredUser) =>
    (await api(url, 'GET', '/api/notifications?limit=100', { token: who.accessToken })).body
      .notifications as any[]
  const level = (url: string, who: RegisteredUser, value: string) =>
    api(url, 'PUT', '/api/notification-settings/city/kolkata', {
      token: who.accessToken,
      body: { level: value },
    })

  test('set on n2, used by sends on n1, in both directions', async () => {
    const [a1, a2] = nodes as [Node, Node]
    const alice = await registerUser(a1.url)
    // Carol has no socket anywhere: a plain message in a city where she chose `all` notifies her.
    const carol = await registerUser(a2.url)
    const dave = await registerUser(a2.url)

    // Before any choice: a plain message and a mention of dave (a marker: the queue is in order).
    const before = await send(a1.url, alice, 'before any choice')
    await send(a1.url, alice, `@${dave.user.username} marker 0`)
    await eventually(async () => (await feedOf(a1.url, dave)).length === 1, 10_000, 'marker 0')
    expect((await feedOf(a1.url, carol)).some((n) => n.message?._id === before)).toBe(false)

    expect((await level(a2.url, carol, 'all')).status).toBe(200)
    const plain: string[] = []
    await eventually(
      async () => {
        plain.push(await send(a1.url, alice, `plain ${plain.length}`))
        const feed = await feedOf(a1.url, carol)
        return feed.some((n) => n.kind === 'message' && plain.includes(n.message?._id))
      },
      15_000,
      'a plain message on a1 notifying carol, who chose all on a2'
    )
    const mine = (await feedOf(a2.url, carol)).find((n) => plain.includes(n.message?._id))
    expect(mine).toMatchObject({ kind: 'message', cityId: 'kolkata', read: false })

    // Back to mentions on a2: plain messages on a1 stop notifying her.
    expect((await level(a2.url, carol, 'mentions')).status).toBe(200)
    let markers = 0
    await eventually(
      async () => {
        const quiet = await send(a1.url, alice, `quiet ${markers}`)
        markers += 1
        await send(a1.url, alice, `@${dave.user.username} marker ${markers}`)
        await eventually(
          async () => (await feedOf(a1.url, dave)).length === markers + 1,
          10_000,
          `marker ${markers}`
        )
        return !(await feedOf(a1.url, carol)).some((n) => n.message?._id === quiet)
      },
      15_000,
      'plain messages on a1 no longer notifying carol'
    )
  })
})
