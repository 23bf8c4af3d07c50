/**
 * @module Faults behind the docs' nginx in plain round robin, three nodes on one database and one
 * Redis: Redis stopped for 10 s, clients upgrading to WebSocket, a forwarded poll retried.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Socket } from 'socket.io-client'
import { ask, barrier, type ChatClient, chatUser, joinCity, once } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { type Node, SKIP_REASON, useNodes } from './cluster.ts'
import { NGINX_SKIP, type Nginx, startNginx } from './nginx.ts'

const ownerOf = (socket: Socket) => socket.io.engine.id?.split('.')[0]

/** Every drop a client suffers, with its reason. */
function watchDrops(clients: ChatClient[]) {
  const drops: string[] = []
  for (const c of clients)
    c.socket.on('disconnect', (reason) => drops.push(`${c.user.username}: ${reason}`))
  return drops
}

/** The city messages a client heard, by content, in order. */
function heardIn(c: ChatClient, cityId: string): string[] {
  return c
    .got<any>('new-city-message')
    .filter((m) => m.cityId === cityId)
    .map((m) => m.content)
}

describe.skipIf(!!SKIP_REASON || !!NGINX_SKIP)('faults behind nginx in round robin', () => {
  const { nodes, clients, track, redis } = useNodes(['n1', 'n2', 'n3'], { PRESENCE_GRACE: '4s' })
  let nginx: Nginx

  /** `perNode` clients with these options on each node: round robin decides, so connect until so. */
  const spread = async (perNode: number, options: Parameters<typeof chatUser>[1]) => {
    const byNode = new Map<string, ChatClient[]>()
    for (let attempt = 0; attempt < perNode * 12; attempt++) {
      const c = await chatUser(nginx.url, options)
      track(c) // an extra one stays connected, so the online count stays put
      const on = byNode.get(ownerOf(c.socket) ?? '') ?? []
      if (on.length >= perNode) continue
      byNode.set(ownerOf(c.socket) ?? '', [...on, c])
      if ([...byNode.values()].flat().length === perNode * nodes.length) break
    }
    const all = [...byNode.values()].flat()
    expect(all.length).toBe(perNode * nodes.length)
    return all
  }

  /** Connected clients of this file: each is its own user, so this is the right online count. */
  const online = () => clients.filter((c) => c.socket.connected).length
  /** Users who left earlier stay online for the grace: wait until every node's count is right. */
  const settled = (probes: ChatClient[]) =>
    eventually(
      async () => {
        const counts = await Promise.all(probes.map((p) => ask(p.socket, 'get-online-count')))
        return counts.every((answer) => answer.count === online())
      },
      20_000,
      'the online count settled'
    )

  beforeAll(async () => {
    nginx = await startNginx(nodes.map((n) => n.url))
  })
  afterAll(() => nginx?.stop())

  test('Redis stopped for 10 s: no client drops, each message arrives once, counts answer and converge', async () => {
    // Two polling and two WebSocket clients owned by each node.
    const polling = await spread(2, { transports: ['polling'] })
    const websocket = await spread(2, { transports: ['websocket'] })
    const everyone = [...polling, ...websocket]
    for (const c of everyone) await joinCity(c, 'berlin')
    const drops = watchDrops(everyone)
    await settled(everyone)
    const count = online()

    await redis().stop()
    await Promise.all(nodes.map((n) => n.waitForLog(/redis link down/)))
    const sent: string[] = []
    for (const [i, sender] of [polling[0], websocket[1], polling[2], websocket[3]].entries()) {
      const content = `outage ${i} from ${ownerOf(sender!.socket)}`
      expect(
        (await ask(sender!.socket, 'send-city-message', { cityId: 'berlin', content })).ok
      ).toBe(true)
      sent.push(content)
    }
    // Every node still answers the count, from what it knows.
    for (const c of everyone) {
      const answer = await ask(c.socket, 'get-online-count')
      expect(answer).toEqual({ ok: true, count })
    }
    await Bun.sleep(10_000) // the outage lasts 10 s; polls and pings go on meanwhile
    for (const c of everyone) await barrier(c.socket)

    await redis().start()
    await Promise.all(nodes.map((n) => n.waitForLog(/redis link up again/)))
    // Redis came back empty: each node re-registers on its next heartbeat, and from then on
    // every node gives the same, right count.
    await Promise.all(
      nodes.map((n) => n.waitForLog(/presence registered.*connections":[1-9]/, 10_000))
    )
    for (const c of everyone) {
      expect((await ask(c.socket, 'get-online-count')).count).toBe(count)
    }

    const last = 'after the outage'
    expect(
      (await ask(websocket[0]!.socket, 'send-city-message', { cityId: 'berlin', content: last })).ok
    ).toBe(true)
    sent.push(last)
    await eventually(
      () => everyone.every((c) => heardIn(c, 'berlin').includes(last)),
      10_000,
      'the last message everywhere'
    )
    for (const c of everyone) await barrier(c.socket)
    for (const c of everyone) expect(heardIn(c, 'berlin')).toEqual(sent)
    expect(drops).toEqual([])
  }, 60_000)

  test('20 clients with the default transports all upgrade to WebSocket, wherever the upgrade lands', async () => {
    const upgraded: Promise<string>[] = []
    const twenty: ChatClient[] = []
    for (let i = 0; i < 20; i++) {
      const c = track(await chatUser(nginx.url, { transports: ['polling', 'websocket'] }))
      twenty.push(c)
      const engine = c.socket.io.engine
      upgraded.push(
        engine.transport.name === 'websocket'
          ? Promise.resolve('websocket')
          : new Promise((resolve, reject) => {
              engine.once('upgrade', (transport: { name: string }) => resolve(transport.name))
              engine.once('upgradeError', reject)
            })
      )
    }
    expect(await Promise.all(upgraded)).toEqual(Array(20).fill('websocket'))
    // Every session began on polling (none could skip it), spread over the three nodes.
    expect(new Set(twenty.map((c) => ownerOf(c.socket))).size).toBe(3)
    // After the upgrade they talk as before: a message from one reaches every other once.
    for (const c of twenty) await joinCity(c, 'madrid')
    const [sender, ...rest] = twenty as [ChatClient, ...ChatClient[]]
    expect(
      (await ask(sender.socket, 'send-city-message', { cityId: 'madrid', content: 'ws' })).ok
    ).toBe(true)
    await eventually(
      () => rest.every((c) => heardIn(c, 'madrid').length === 1),
      10_000,
      'all heard it'
    )
    for (const c of twenty) await barrier(c.socket)
    for (const c of rest) expect(heardIn(c, 'madrid')).toEqual(['ws'])
    for (const c of twenty) expect(c.socket.io.engine.transport.name).toBe('websocket')

    // nginx logs a WebSocket when it ends: most upgrades landed on a node not owning the session.
    const sids = new Set(twenty.map((c) => `sid=${c.socket.io.engine.id}`))
    for (const c of twenty) c.socket.disconnect()
    const nodeAt = new Map(nodes.map((n) => [new URL(n.url).host, n.nodeId]))
    const upgrades = async () =>
      (await nginx.accessLog())
        .map((line) => line.split(' '))
        .filter(
          ([method, , status, , , sid]) =>
            method === 'GET' && status === '101' && sids.has(sid ?? '')
        )
    await eventually(async () => (await upgrades()).length === 20, 10_000, 'the upgrades logged')
    const relayed = (await upgrades()).filter(
      ([, , , upstream, , sid]) => nodeAt.get(upstream ?? '') !== sid?.slice(4).split('.')[0]
    )
    expect(relayed.length).toBeGreaterThan(0)
  })

  test('a user back within PRESENCE_GRACE was never offline to anyone; gone for good, they are', async () => {
    const watchers = await spread(1, { transports: ['websocket'] })
    const ana = track(
      await chatUser(nginx.url, {
        transports: ['polling'],
        reconnection: true,
        reconnectionDelay: 100,
      })
    )
    await eventually(
      async () =>
        (
          await Promise.all(
            watchers.map((w) => ask(w.socket, 'check-user-online', { userId: ana.user._id }))
          )
        ).every((answer) => answer.isOnline),
      8_000,
      'ana online on every node'
    )
    await settled(watchers)
    const before = online()
    const seen: string[] = []
    for (const w of watchers) {
      w.socket.on(
        'user-offline',
        (p: any) => p.userId === ana.user._id && seen.push(`${w.user.username} offline`)
      )
      w.socket.on('online-users', (count: number) => seen.push(`count ${count}`))
    }
    // Her connection drops (the client closes its transport) and the client reconnects.
    const back = once(ana.socket, 'connect')
    ana.socket.io.engine.close()
    await back
    // Gone for good now: once every watcher heard she is offline, her first connection's grace
    // (which started earlier) has run out too.
    const offline = watchers.map((w) => once(w.socket, 'user-offline'))
    ana.socket.disconnect()
    await Promise.all(offline)
    for (const w of watchers) await barrier(w.socket)
    const firstOffline = seen.findIndex((e) => e.endsWith('offline'))
    expect(seen.slice(0, firstOffline).filter((e) => e !== `count ${before}`)).toEqual([])
    expect(seen.filter((e) => e.endsWith('offline'))).toHaveLength(watchers.length)
  })

  // Last: it kills a node.
  test('SIGKILL of one node: its clients resume exactly, no other client notices', async () => {
    const again = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500 }
    const polling = await spread(2, { transports: ['polling'], ...again })
    const websocket = await spread(2, { transports: ['websocket'], ...again })
    const everyone = [...polling, ...websocket]
    for (const c of everyone) await joinCity(c, 'paris')
    await settled(everyone)
    const victim = nodes[2] as Node
    const ofVictim = everyone.filter((c) => ownerOf(c.socket) === victim.nodeId)
    const others = everyone.filter((c) => !ofVictim.includes(c))
    expect(ofVictim).toHaveLength(4)
    const drops = watchDrops(others)
    const offline: string[] = []
    // Clients of earlier tests on the victim do not reconnect: only this test's users count.
    const mine = new Set(everyone.map((c) => c.user._id))
    for (const c of others) {
      c.socket.on('user-offline', (p: any) => mine.has(p.userId) && offline.push(p.username))
    }
    const resumed = ofVictim.map(
      (c) =>
        new Promise<boolean>((resolve) =>
          c.socket.once('disconnect', () =>
            c.socket.once('connect', () => resolve(c.socket.recovered))
          )
        )
    )
    const sender = websocket.find((c) => ownerOf(c.socket) === 'n1') as ChatClient
    const sent: string[] = []
    const send = async (content: string) => {
      expect((await ask(sender.socket, 'send-city-message', { cityId: 'paris', content })).ok).toBe(
        true
      )
      sent.push(content)
    }
    for (let i = 0; i < 3; i++) await send(`before ${i}`)
    await victim.kill()
    for (let i = 0; i < 5; i++) await send(`meanwhile ${i}`)
    expect(await Promise.all(resumed)).toEqual(Array(4).fill(true))
    await send('after')
    await eventually(
      () => everyone.every((c) => heardIn(c, 'paris').includes('after')),
      10_000,
      'the last message everywhere'
    )
    for (const c of everyone) await barrier(c.socket)
    for (const c of everyone) expect(heardIn(c, 'paris')).toEqual(sent)
    expect(drops).toEqual([])
    // Past NODE_TTL and the grace the dead node is reaped; its users were back elsewhere first.
    const reaped = /reaped a stopped node.*"reaped":"n3"/
    await Promise.race([nodes[0]!.waitForLog(reaped, 20_000), nodes[1]!.waitForLog(reaped, 20_000)])
    for (const c of others) await barrier(c.socket)
    expect(offline).toEqual([])
    nodes.splice(2)
  })
})
