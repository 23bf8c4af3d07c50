/**
 * Data export over HTTP: POST /api/users/me/export starts it, GET fetches its state and then the
 * NDJSON archive; refusals (unauthenticated, twice at once, someone else's, bad id); the user's own
 * reactions and pins, others' reactions on their messages as counts only. A user with
 * 100,000 messages (stored straight through the store's writer) is exported while a city's
 * delivery latency is measured: the p99 idle and during the export are logged, and the archive
 * must hold every message.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { newId } from '../../src/store/ids.ts'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { ask, type ChatClient, chatUser, joinCity, trackClients } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { pngOf, upload } from '../helpers/media.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
const clients = trackClients()

beforeAll(async () => {
  server = await startServer({ MESSAGE_RATE_PER_MINUTE: 0 })
})
afterAll(async () => {
  clients.disconnectAll()
  await server.stop()
})

/** Waits for the newest export to be ready, and answers the archive's lines. */
async function fetchArchive(user: RegisteredUser): Promise<{ lines: any[]; headers: Headers }> {
  let res: Response | undefined
  await eventually(
    async () => {
      res = await fetch(`${server.url}/api/users/me/export`, {
        headers: { authorization: `Bearer ${user.accessToken}` },
      })
      if (res.status === 200 && res.headers.get('content-type')?.includes('ndjson')) return true
      expect((await res.json()).export.state).toBe('running')
      return false
    },
    120_000,
    'the export to be ready'
  )
  const done = res as Response
  const text = await done.text()
  return {
    lines: text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l)),
    headers: done.headers,
  }
}

/** Stores `count` city messages by `authorId` through the store's group writer, in chunks. */
async function storeMessages(authorId: string, count: number, content: (i: number) => string) {
  const writer = server.app.database.writer
  for (let from = 0; from < count; from += 5_000) {
    const chunk: Promise<unknown>[] = []
    for (let i = from; i < Math.min(count, from + 5_000); i++) {
      const now = Date.now()
      chunk.push(
        writer.insertMessage({
          id: newId(now),
          cityId: 'delhi',
          authorId,
          content: content(i),
          createdAt: now,
        })
      )
    }
    await Promise.all(chunk)
  }
}

const p99 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Number.NaN
}

describe('data export', () => {
  test('refusals: unauthenticated, none yet, another user’s, a bad id, a second while one runs', async () => {
    const alice = await registerUser(server.url)
    const bob = await registerUser(server.url)
    expect((await api(server.url, 'POST', '/api/users/me/export')).status).toBe(401)
    expect((await api(server.url, 'GET', '/api/users/me/export')).status).toBe(401)
    const none = await api(server.url, 'GET', '/api/users/me/export', { token: bob.accessToken })
    expect(none.status).toBe(404)
    expect(none.body.error.code).toBe('not_found')

    await storeMessages(alice.user._id, 20_000, (i) => `alice ${i}`)
    const first = await api(server.url, 'POST', '/api/users/me/export', {
      token: alice.accessToken,
    })
    expect(first.status).toBe(202)
    expect(first.body.export).toMatchObject({ state: 'running', messages: 0 })
    const second = await api(server.url, 'POST', '/api/users/me/export', {
      token: alice.accessToken,
    })
    expect(second.status).toBe(409)
    expect(second.body.error.code).toBe('conflict')
    expect(second.body.error.details.export._id).toBe(first.body.export._id)

    const theirs = await api(server.url, 'GET', `/api/users/me/export/${first.body.export._id}`, {
      token: bob.accessToken,
    })
    expect(theirs.status).toBe(404)
    const bad = await api(server.url, 'GET', '/api/users/me/export/not-an-id', {
      token: alice.accessToken,
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('invalid_input')

    const { lines } = await fetchArchive(alice)
    expect(lines.filter((l) => l.type === 'message')).toHaveLength(20_000)
    // Ready: a new one may start.
    const again = await api(server.url, 'POST', '/api/users/me/export', {
      token: alice.accessToken,
    })
    expect(again.status).toBe(202)
  }, 120_000)

  test('the archive holds the profile, chats and memberships, city reads, blocks, uploads and messages with their edits', async () => {
    const alice = clients.track(await chatUser(server.url))
    const bob = await registerUser(server.url)
    await joinCity(alice, 'mumbai')
    const sent = await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'one' })
    expect(sent.ok).toBe(true)
    const edit = await api(server.url, 'PATCH', `/api/messages/${sent.message._id}`, {
      token: alice.accessToken,
      body: { content: 'one, edited' },
    })
    expect(edit.status).toBe(200)
    const chat = await api(server.url, 'POST', '/api/chats', {
      token: alice.accessToken,
      body: { name: 'Plans', memberIds: [bob.user._id] },
    })
    const chatId = chat.body.chat._id
    await api(server.url, 'POST', `/api/chats/${chatId}/messages`, {
      token: alice.accessToken,
      body: { content: 'in the chat' },
    })
    await api(server.url, 'POST', `/api/chats/${chatId}/messages`, {
      token: bob.accessToken,
      body: { content: 'bob, not exported' },
    })
    await api(server.url, 'PUT', `/api/users/me/blocks/${bob.user._id}`, {
      token: alice.accessToken,
    })
    await api(server.url, 'POST', '/api/cities/mumbai/read', { token: alice.accessToken })
    const uploaded = await upload(server.url, alice.accessToken, await pngOf(40, 30), 'map.png')
    expect(uploaded.status).toBe(201)

    const started = await api(server.url, 'POST', '/api/users/me/export', {
      token: alice.accessToken,
    })
    expect(started.status).toBe(202)
    const { lines, headers } = await fetchArchive(alice)
    expect(headers.get('content-disposition')).toContain('attachment')
    expect(headers.get('cache-control')).toContain('no-store')
    expect(lines[0]).toMatchObject({ type: 'export', version: 1, _id: started.body.export._id })
    expect(lines.find((l) => l.type === 'profile')).toMatchObject({
      _id: alice.user._id,
      username: alice.user.username,
      email: alice.user.email,
    })
    expect(lines.find((l) => l.type === 'chat')).toMatchObject({
      _id: chatId,
      name: 'Plans',
      role: 'owner',
    })
    expect(lines.find((l) => l.type === 'block')).toMatchObject({ user_id: bob.user._id })
    expect(lines.find((l) => l.type === 'city_read')).toMatchObject({ cityId: 'mumbai' })
    expect(lines.find((l) => l.type === 'media')).toMatchObject({
      _id: uploaded.body.media._id,
      name: 'map.png',
      purpose: 'message',
    })
    const messages = lines.filter((l) => l.type === 'message')
    expect(messages.map((m) => m.content)).toEqual(['one, edited', 'in the chat'])
    expect(messages[0]).toMatchObject({ is_edited: true, cityId: 'mumbai' })
    expect(messages[0].edited_at).not.toBeNull()
    expect(messages[1]).toMatchObject({ chatId })
    expect(lines.at(-1)).toEqual({ type: 'end', messages: 2 })
  })

  test('reactions: the user’s own on anyone’s message, counts only on theirs; pins they made', async () => {
    const alice = clients.track(await chatUser(server.url))
    const bob = await registerUser(server.url)
    const asAlice = { token: alice.accessToken }
    const asBob = { token: bob.accessToken }
    await joinCity(alice, 'chennai')
    const inCity = await ask(alice.socket, 'send-city-message', {
      cityId: 'chennai',
      content: 'in the city',
    })
    expect(inCity.ok).toBe(true)
    const chat = await api(server.url, 'POST', '/api/chats', {
      token: alice.accessToken,
      body: { name: 'Reactions', memberIds: [bob.user._id] },
    })
    const chatId = chat.body.chat._id
    const send = async (as: { token: string }, content: string) => {
      const sent = await api(server.url, 'POST', `/api/chats/${chatId}/messages`, {
        ...as,
        body: { content },
      })
      expect(sent.status).toBe(201)
      return sent.body.message._id as string
    }
    const mine = await send(asAlice, 'alice’s')
    const bobs = await send(asBob, 'bob’s')
    const react = async (as: { token: string }, messageId: string, emoji: string) => {
      const done = await api(server.url, 'PUT', `/api/messages/${messageId}/reactions/${emoji}`, as)
      expect(done.status).toBe(200)
      return done.body.emoji as string
    }
    const thumbs = await react(asAlice, mine, 'thumbsup')
    const heart = await react(asAlice, bobs, 'heart')
    const fire = await react(asAlice, inCity.message._id, 'fire')
    await react(asBob, mine, 'thumbsup')
    const tada = await react(asBob, mine, 'tada')
    const joy = await react(asBob, bobs, 'joy')
    const pinned = await api(server.url, 'PUT', `/api/messages/${bobs}/pin`, asAlice)
    expect(pinned.status).toBe(200)

    await api(server.url, 'POST', '/api/users/me/export', asAlice)
    await api(server.url, 'POST', '/api/users/me/export', asBob)
    const { lines } = await fetchArchive(alice)
    const reactions = lines.filter((l) => l.type === 'reaction')
    expect(reactions.map(({ message_id, emoji, room }) => ({ message_id, emoji, room }))).toEqual([
      { message_id: inCity.message._id, emoji: fire, room: { kind: 'city', id: 'chennai' } },
      { message_id: mine, emoji: thumbs, room: { kind: 'chat', id: chatId } },
      { message_id: bobs, emoji: heart, room: { kind: 'chat', id: chatId } },
    ])
    for (const reaction of reactions) expect(Date.parse(reaction.created_at)).toBeGreaterThan(0)
    // Bob's reactions on Alice's message are counted, never named.
    const own = lines.find((l) => l.type === 'message' && l._id === mine)
    expect(own.reactions).toEqual([
      { emoji: thumbs, count: 2 },
      { emoji: tada, count: 1 },
    ])
    expect(
      lines.find((l) => l.type === 'message' && l._id === inCity.message._id).reactions
    ).toEqual([{ emoji: fire, count: 1 }])
    expect(lines.filter((l) => l.type === 'pin')).toEqual([
      {
        type: 'pin',
        message_id: bobs,
        room: { kind: 'chat', id: chatId },
        pinned_at: pinned.body.pin.pinned_at,
      },
    ])
    expect(JSON.stringify(lines)).not.toContain(bob.user._id)

    const theirs = (await fetchArchive(bob)).lines
    expect(
      theirs
        .filter((l) => l.type === 'reaction')
        .map(({ message_id, emoji }) => ({ message_id, emoji }))
    ).toEqual([
      { message_id: mine, emoji: thumbs },
      { message_id: mine, emoji: tada },
      { message_id: bobs, emoji: joy },
    ])
    expect(theirs.filter((l) => l.type === 'pin')).toEqual([])
    expect(theirs.find((l) => l.type === 'message' && l._id === bobs).reactions).toEqual([
      { emoji: heart, count: 1 },
      { emoji: joy, count: 1 },
    ])
  })

  test('100,000 messages: the export completes while a city’s delivery is measured', async () => {
    const exporter = await registerUser(server.url)
    await storeMessages(exporter.user._id, 100_000, (i) => `message number ${i} of the export`)
    const sender = clients.track(await chatUser(server.url))
    const receiver = clients.track(await chatUser(server.url))
    await joinCity(sender, 'pune')
    await joinCity(receiver, 'pune')

    const sentAt = new Map<string, number>()
    const latencies: number[] = []
    receiver.socket.on('new-city-message', (message: { content: string }) => {
      const at = sentAt.get(message.content)
      if (at !== undefined) latencies.push(performance.now() - at)
    })
    let n = 0
    /** Sends one message every 10 ms until `until` says stop; answers the latencies measured. */
    async function measure(sender: ChatClient, until: () => boolean | Promise<boolean>) {
      latencies.length = 0
      while (!(await until())) {
        const content = `probe ${n++}`
        sentAt.set(content, performance.now())
        void ask(sender.socket, 'send-city-message', { cityId: 'pune', content })
        await Bun.sleep(10)
      }
      await Bun.sleep(200)
      return [...latencies]
    }
    let idleCount = 0
    const idle = await measure(sender, () => ++idleCount > 200)

    const started = await api(server.url, 'POST', '/api/users/me/export', {
      token: exporter.accessToken,
    })
    expect(started.status).toBe(202)
    const t0 = performance.now()
    let state = 'running'
    let polls = 0
    const during = await measure(sender, async () => {
      if (++polls % 10 !== 0) return false
      const res = await api(server.url, 'GET', `/api/users/me/export/${started.body.export._id}`, {
        token: exporter.accessToken,
      }).catch(() => undefined)
      state = res?.status === 202 ? 'running' : 'done'
      return state === 'done'
    })
    const exportMs = performance.now() - t0
    console.log(
      `export of 100k messages: ${Math.round(exportMs)} ms; delivery p99 idle ${p99(idle).toFixed(1)} ms (${idle.length} samples), during the export ${p99(during).toFixed(1)} ms (${during.length} samples)`
    )
    const { lines } = await fetchArchive(exporter)
    const messages = lines.filter((l) => l.type === 'message')
    expect(messages).toHaveLength(100_000)
    expect(new Set(messages.map((m) => m._id)).size).toBe(100_000)
    expect(messages.at(-1).content).toBe('message number 99999 of the export')
    expect(lines.at(-1)).toEqual({ type: 'end', messages: 100_000 })
    expect(idle.length).toBeGreaterThan(0)
    expect(during.length).toBeGreaterThan(0)
  }, 240_000)
})
