/**
 * @module Three server processes on one database and one Redis: room fan-out, typing, edits,
 * deletes and read receipts across nodes; presence counted across nodes; a node killed with
 * SIGKILL is taken off presence; polling through a balancer with no sticky sessions.
 */
import { describe, expect, test } from 'bun:test'
import { DEBIT_EVERY_MS } from '../../src/chat/rate-limit.ts'
import { api, registerUser } from '../helpers/api.ts'
import {
  ask,
  barrier,
  type ChatClient,
  chatUser,
  cityOnline,
  connectAs,
  createPrivateChat,
  joinCity,
  once,
} from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { expectOffsetOrder, type Node, roundRobin, SKIP_REASON, useNodes } from './cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

describe.skipIf(!!SKIP_REASON)('three nodes sharing Redis and one database', () => {
  const { nodes, clients, track, redis } = useNodes(['n1', 'n2', 'n3'], {
    LOGIN_ATTEMPTS_PER_ACCOUNT: '4',
    MAX_CONNECTIONS_PER_USER: '3',
    // A token a second, 8 at once: above what the other tests send, low enough to run dry.
    MESSAGE_RATE_PER_MINUTE: '60',
    MESSAGE_BURST: '8',
  })

  test('offsets: false and the pushed room list hold across nodes', async () => {
    const [n1, n2, n3] = nodes as [Node, Node, Node]
    const argsOf = (client: ChatClient, event: string) =>
      new Promise<unknown[]>((resolve) => client.socket.once(event, (...args) => resolve(args)))
    const withoutOffsets = async (url: string, transports: string[]) => {
      const user = await registerUser(url)
      return track(
        await connectAs(url, user, {
          transports,
          auth: { token: user.accessToken, offsets: false },
        })
      )
    }
    // No offsets: one on n1 over WebSocket, one on n3 over polling. Bob on n2 keeps them.
    const plain = [
      await withoutOffsets(n1.url, ['websocket']),
      await withoutOffsets(n3.url, ['polling']),
    ]
    const bob = track(await chatUser(n2.url))
    for (const c of plain) await joinCity(c, 'ahmedabad')
    const listed = cityOnline(plain[0] as ChatClient, 'ahmedabad', 3)
    await joinCity(bob, 'ahmedabad')
    await listed // the list pushed by n2 reaches a member on n1
    const heard = plain.map((c) => argsOf(c, 'new-city-message'))
    const atBob = argsOf(bob, 'new-city-message')
    const sent = await ask(bob.socket, 'send-city-message', { cityId: 'ahmedabad', content: 'x' })
    expect(sent.ok).toBe(true)
    for (const args of await Promise.all(heard)) expect(args).toEqual([sent.message])
    expect(await atBob).toEqual([sent.message, expect.any(String)])
  })

  test('messages, typing, edits and deletes in a city reach members on every node', async () => {
    const [n1, n2, n3] = nodes as [Node, Node, Node]
    const alice = track(await chatUser(n1.url))
    const bob = track(await chatUser(n2.url))
    const carol = track(await chatUser(n3.url, { transports: ['polling'] }))
    for (const c of [alice, bob, carol]) await joinCity(c, 'delhi')

    const atBob = once(bob.socket, 'new-city-message')
    const atCarol = once(carol.socket, 'new-city-message')
    const sent = await ask(alice.socket, 'send-city-message', {
      cityId: 'delhi',
      content: 'hello from n1',
    })
    expect(sent.ok).toBe(true)
    const [toBob, toCarol] = (await Promise.all([atBob, atCarol])) as any[]
    expect(toBob.content).toBe('hello from n1')
    expect(toCarol._id).toBe(toBob._id)

    // socket.to(room) excludes only the sender, whichever node the others are on.
    const typingAtCarol = once(carol.socket, 'user-typing-city')
    await ask(bob.socket, 'city-typing', { cityId: 'delhi' })
    expect(((await typingAtCarol) as any).userId).toBe(bob.user._id)
    await barrier(bob.socket)
    expect(bob.got('user-typing-city')).toHaveLength(0)

    const editedAtAlice = once(alice.socket, 'city-message-edited')
    const editedAtCarol = once(carol.socket, 'city-message-edited')
    const edit = await ask(alice.socket, 'edit-city-message', {
      messageId: toBob._id,
      cityId: 'delhi',
      content: 'edited',
    })
    expect(edit.ok).toBe(true)
    expect(((await editedAtAlice) as any).content).toBe('edited')
    expect(((await editedAtCarol) as any).content).toBe('edited')

    const deletedAtBob = once(bob.socket, 'city-message-deleted')
    const del = await ask(alice.socket, 'delete-city-message', {
      messageId: toBob._id,
      cityId: 'delhi',
    })
    expect(del.ok).toBe(true)
    expect(((await deletedAtBob) as any).is_deleted ?? true).toBe(true)
  })

  test('a node delivers in offset order, reading back what another node has not relayed yet', async () => {
    const [n1, n2] = nodes as [Node, Node, Node]
    await expectOffsetOrder(redis(), n1, n2, track)
  })

  test('read receipts and private messages cross nodes', async () => {
    const [n1, , n3] = nodes as [Node, Node, Node]
    const dan = track(await chatUser(n1.url))
    const erin = track(await chatUser(n3.url))
    const chatId = await createPrivateChat(n1.url, dan, [erin])
    for (const c of [dan, erin]) {
      const ack = await ask(c.socket, 'join-private-chat', { chatId })
      expect(ack.ok).toBe(true)
    }
    const atErin = once(erin.socket, 'new-private-message')
    await ask(dan.socket, 'send-private-message', { chatId, content: 'psst' })
    expect(((await atErin) as any).content).toBe('psst')
    const readAtDan = once(dan.socket, 'messages-read')
    const read = await ask(erin.socket, 'mark-messages-read', { chatId })
    expect(read.ok).toBe(true)
    expect(((await readAtDan) as any).userId).toBe(erin.user._id)
  })

  test('presence counts distinct users across nodes and agrees on every node', async () => {
    const [n1, n2] = nodes as [Node, Node, Node]
    const probes = await Promise.all(nodes.map((n) => chatUser(n.url)))
    probes.forEach(track)
    // Every user with a live socket in this file, counted once however many tabs.
    const usersOnline = () =>
      new Set(clients.filter((c) => c.socket.connected).map((c) => c.user._id)).size
    const counts = () =>
      Promise.all(
        probes.map(async (p) => (await ask(p.socket, 'get-online-count')).count as number)
      )
    // A connection reaches Redis just after its CONNECT, so a count is awaited, not read once.
    const everyNodeCounts = (expected: number) =>
      eventually(
        async () => (await counts()).every((count) => count === expected),
        8_000,
        `every node counting ${expected} users online`
      )
    const before = usersOnline()
    await everyNodeCounts(before)

    // Two tabs on two nodes are one user.
    const frank = await registerUser(n1.url)
    const tab1 = track(await connectAs(n1.url, frank))
    const tab2 = track(await connectAs(n2.url, frank))
    await everyNodeCounts(before + 1)
    const frankOnline = async () =>
      (await ask(probes[2]!.socket, 'check-user-online', { userId: frank.user._id }))
        .isOnline as boolean
    expect(await frankOnline()).toBe(true)

    // One tab closing changes nothing; the user stays online on every node...
    tab2.socket.disconnect()
    await barrier(probes[1]!.socket)
    expect(await frankOnline()).toBe(true)
    // ...until the last one closes.
    tab1.socket.disconnect()
    await eventually(async () => !(await frankOnline()), 8_000, 'frank offline')
    await everyNodeCounts(before)

    const cityUsers = async (p: ChatClient) =>
      ((await ask(p.socket, 'get-city-online-users', { cityId: 'delhi' })).users as any[]).length
    const perNode = await Promise.all(probes.map(cityUsers))
    expect(new Set(perNode).size).toBe(1)
  })

  test('a polling client behind a round-robin balancer stays connected', async () => {
    const [n1, n2] = nodes as [Node, Node, Node]
    const balancer = roundRobin([n1.url, n2.url])
    try {
      const polly = track(await chatUser(balancer.url, { transports: ['polling'] }))
      await joinCity(polly, 'pune')
      const sender = track(await chatUser(n1.url))
      await joinCity(sender, 'pune')
      for (let i = 0; i < 6; i++) {
        const got = once(polly.socket, 'new-city-message')
        await ask(sender.socket, 'send-city-message', { cityId: 'pune', content: `m${i}` })
        expect(((await got) as any).content).toBe(`m${i}`)
        expect((await ask(polly.socket, 'heartbeat')).serverTime).toBeNumber()
      }
      expect(polly.socket.connected).toBe(true)
      expect(balancer.hits[0]).toBeGreaterThan(2)
      expect(balancer.hits[1]).toBeGreaterThan(2)
      const metrics = await (await fetch(`${n1.url}/metrics`)).text()
      const metrics2 = await (await fetch(`${n2.url}/metrics`)).text()
      expect(`${metrics}${metrics2}`).toMatch(/chat_polling_forwards_total\{result="ok"\} \d+/)
      // Messages sent on n1 reached n2 through Redis; both links are up.
      expect(metrics2).toMatch(/chat_broadcast_seconds_count\{origin="remote"\} [1-9]/)
      expect(metrics).toMatch(/^chat_redis_up 1$/m)
    } finally {
      await balancer.stop()
    }
  })

  test('login attempts on any node count against one limit', async () => {
    const victim = await registerUser((nodes[0] as Node).url)
    const answers = []
    for (let attempt = 0; attempt < 6; attempt++) {
      const node = nodes[attempt % nodes.length] as Node
      answers.push(
        await api(node.url, 'POST', '/api/auth/login', {
          body: { login: victim.user.username, password: 'not-the-password' },
        })
      )
    }
    // LOGIN_ATTEMPTS_PER_ACCOUNT is 4 for the whole cluster, not 4 on each of the three nodes.
    expect(answers.map((res) => res.status)).toEqual([401, 401, 401, 401, 429, 429])
    // One attempt refills in a quarter of the 15-minute window.
    const { retryAfterMs } = answers[5]?.body.error.details
    expect(retryAfterMs).toBeGreaterThan(200_000)
    expect(retryAfterMs).toBeLessThanOrEqual(225_000)
  })

  test('the message rate counts sends on every node', async () => {
    const [n1, n2] = nodes as [Node, Node, Node]
    const hana = await registerUser(n1.url)
    const onN1 = track(await connectAs(n1.url, hana))
    const onN2 = track(await connectAs(n2.url, hana))
    for (const c of [onN1, onN2]) await joinCity(c, 'kolkata')
    const send = (c: ChatClient, content: string) =>
      ask(c.socket, 'send-city-message', { cityId: 'kolkata', content })
    // MESSAGE_BURST is 8: n1's own bucket lets all of them through at once.
    for (let i = 0; i < 8; i++) expect((await send(onN1, `n1 ${i}`)).ok).toBe(true)
    // n2's own bucket is full, but n1 settles its sends with Redis within DEBIT_EVERY_MS, and n2
    // learns from settling its own first send that the user's shared bucket is dry.
    const answers = []
    for (let i = 0; i < 6; i++) {
      await Bun.sleep(2 * DEBIT_EVERY_MS)
      answers.push(await send(onN2, `n2 ${i}`))
    }
    expect(answers.filter((answer) => answer.ok).length).toBeLessThanOrEqual(1)
    const refused = answers.find((answer) => !answer.ok)
    expect(refused?.error.code).toBe('rate_limited')
    // The bucket is a token short or more, at a token a second.
    expect(refused?.error.details.retryAfterMs).toBeGreaterThan(0)
    expect(refused?.error.details.retryAfterMs).toBeLessThanOrEqual(2_000)
  })

  test('the connection limit counts the sockets of a user on every node', async () => {
    const [n1, n2, n3] = nodes as [Node, Node, Node]
    const gina = await registerUser(n1.url)
    for (const node of [n1, n2, n3]) track(await connectAs(node.url, gina))
    // Each node holds one of gina's three sockets; a fourth anywhere is refused once Redis has
    // counted them (just after each CONNECT). An attempt let in before that is closed again.
    let refusal: (Error & { data?: unknown }) | undefined
    await eventually(
      async () => {
        const attempt = await connectAs(n1.url, gina, { reconnection: false }).then(
          (extra) => {
            extra.socket.disconnect()
            return undefined
          },
          (error: Error & { data?: unknown }) => error
        )
        refusal = attempt
        return attempt !== undefined
      },
      3_000,
      'a fourth socket refused'
    )
    expect(refusal?.message).toBe('Too many connections')
    expect(refusal?.data).toEqual({ code: 'rate_limited', limit: 3 })
  })

  // The last two tests change the shared cluster (n3 killed, the Redis link dropped): they stay last.
  test('a killed node is taken off presence and the others announce it', async () => {
    const [n1, n2, n3] = nodes as [Node, Node, Node]
    const watcher = track(await chatUser(n1.url))
    const peer = track(await chatUser(n2.url))
    const doomed = await chatUser(n3.url)
    await joinCity(watcher, 'chennai')
    await joinCity(peer, 'chennai')
    await joinCity(doomed, 'chennai')
    // Presence reaches Redis just after CONNECT: the doomed user is known online before the kill.
    await eventually(
      async () =>
        (await ask(watcher.socket, 'check-user-online', { userId: doomed.user._id })).isOnline,
      8_000,
      'the doomed user online'
    )
    const before = (await ask(watcher.socket, 'get-online-count')).count as number

    const heard = (user: ChatClient, event: string) =>
      new Promise<any>((resolve) => {
        user.socket.on(event, (payload: any) => {
          if (payload.userId === doomed.user._id) resolve(payload)
        })
      })
    const offline = heard(watcher, 'user-offline')
    // The room hears the doomed user stop typing and leave on both surviving nodes, as from a leave.
    const typing = heard(watcher, 'user-typing-city')
    await ask(doomed.socket, 'city-typing', { cityId: 'chennai' })
    await typing
    const stopped = heard(peer, 'user-stopped-typing-city')
    const leftCity = [heard(watcher, 'user-left-city-chat'), heard(peer, 'user-left-city-chat')]
    const started = Date.now()
    await n3.kill()
    const gone = await offline
    expect(await stopped).toMatchObject({ userId: doomed.user._id, cityId: 'chennai' })
    expect(await Promise.all(leftCity)).toEqual(
      Array(2).fill({
        userId: doomed.user._id,
        username: doomed.user.username,
        full_name: doomed.user.full_name,
        cityId: 'chennai',
      })
    )
    // NODE_TTL is 1.5 s, heartbeat every 0.5 s: the bound is about 2 s.
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(gone.username).toBe(doomed.user.username)
    const after = (await ask(watcher.socket, 'get-online-count')).count as number
    expect(after).toBeLessThan(before)
    expect((await ask(peer.socket, 'get-online-count')).count).toBe(after)
    const cityUsers = (await ask(peer.socket, 'get-city-online-users', { cityId: 'chennai' }))
      .users as any[]
    expect(cityUsers.map((u) => u.userId)).not.toContain(doomed.user._id)

    // Delivery between the survivors goes on.
    const got = once(peer.socket, 'new-city-message')
    await ask(watcher.socket, 'send-city-message', { cityId: 'chennai', content: 'still here' })
    expect(((await got) as any).content).toBe('still here')
    doomed.socket.disconnect()
    nodes.splice(2)
  })

  test('readyz reports the database and Redis; the Redis link dropping is survived', async () => {
    const [n1, n2] = nodes as [Node, Node]
    const ready = await api(n1.url, 'GET', '/readyz')
    expect(ready.status).toBe(200)
    expect(ready.body.checks).toEqual({ database: 'ok', redis: 'ok' })
    const a = track(await chatUser(n1.url))
    const b = track(await chatUser(n2.url))
    await joinCity(a, 'jaipur')
    await joinCity(b, 'jaipur')

    await redis().stop()
    await n1.waitForLog(/redis link down/)
    const down = await api(n1.url, 'GET', '/readyz')
    expect(down.status).toBe(503)
    expect(down.body.checks.redis).toBe('down')
    expect((await api(n1.url, 'GET', '/healthz')).status).toBe(200)
    // Login limits fall back to this node's own buckets: a login is still answered.
    const login = await api(n1.url, 'POST', '/api/auth/login', {
      body: { login: a.user.username, password: a.password },
    })
    expect(login.status).toBe(200)
    // The connection limit falls back to this node's count: a handshake still connects.
    track(await connectAs(n1.url, a))
    // The message rate falls back to this node's buckets: sends are acknowledged, and settling
    // them with Redis fails quietly. Their relay to n2 is lost with the link.
    const atB: string[] = []
    b.socket.on('new-city-message', (message: any) => atB.push(message.content))
    for (const content of ['during the outage', 'and again']) {
      expect((await ask(a.socket, 'send-city-message', { cityId: 'jaipur', content })).ok).toBe(
        true
      )
      await Bun.sleep(2 * DEBIT_EVERY_MS)
    }

    await redis().start()
    await Promise.all([n1.waitForLog(/redis link up again/), n2.waitForLog(/redis link up again/)])
    await eventually(
      async () => (await api(n1.url, 'GET', '/readyz')).status === 200,
      8_000,
      'ready'
    )
    // Redis came back empty: each node re-registers its connections on its next heartbeat.
    await Promise.all([n1.waitForLog(/presence registered/), n2.waitForLog(/presence registered/)])
    await eventually(
      async () => ((await ask(a.socket, 'get-online-count')).count as number) >= 2,
      8_000,
      'presence resync'
    )
    // The first relay after the outage shows n2 the gap: it reads back what it missed, in order.
    await ask(a.socket, 'send-city-message', { cityId: 'jaipur', content: 'after the outage' })
    await eventually(() => atB.length >= 3, 5_000, 'three messages at b')
    expect(atB).toEqual(['during the outage', 'and again', 'after the outage'])
    expect(n1.proc.exitCode).toBeNull()
  }, 30_000)
})
