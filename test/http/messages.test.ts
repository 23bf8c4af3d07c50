/** @module REST messages: send (idempotent), history pagination, reply_to, edit, delete, limits, broadcast hooks. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import type { ChatNotices } from '../../src/chat/notices.ts'
import type { RoomPublisher } from '../../src/chat/room-stream.ts'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
let alice: RegisteredUser
let bob: RegisteredUser
let carol: RegisteredUser
const seen: Array<[string, unknown]> = []

beforeEach(async () => {
  seen.length = 0
  // A recording publisher and notices: what the realtime layer will receive from REST writes.
  const publisher: RoomPublisher = {
    publish(_topic, json) {
      const [event, view] = JSON.parse(json) as [string, { _id?: string; messageId?: string }]
      const kind = event.startsWith('new-')
        ? 'created'
        : event.endsWith('-edited')
          ? 'edited'
          : 'deleted'
      seen.push([kind, view._id ?? view.messageId])
    },
  }
  const notices: ChatNotices = {
    messagesRead: (r) => seen.push(['read', r.room.id]),
    chatMembersAdded() {},
    chatMembersRemoved() {},
    userDeactivated() {},
    sessionsEnded() {},
  }
  server = await startServer({}, { publisher, notices })
  ;[alice, bob, carol] = (await Promise.all([1, 2, 3].map(() => registerUser(server.url)))) as [
    RegisteredUser,
    RegisteredUser,
    RegisteredUser,
  ]
})
afterEach(() => server.stop())

const send = (user: RegisteredUser, path: string, body: unknown) =>
  api(server.url, 'POST', path, { token: user.accessToken, body })

describe('send', () => {
  test('city message: 201 with the contract shape, broadcast once', async () => {
    const res = await send(alice, '/api/cities/mumbai/messages', {
      content: 'Hello 👋\u0007\r\nline two\t!',
    })
    expect(res.status).toBe(201)
    expect(res.body.message).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      sender_id: {
        _id: alice.user._id,
        username: alice.user.username,
        full_name: alice.user.full_name,
        profile_photo_url: `/api/media/avatars/${alice.user._id}`,
      },
      content: 'Hello 👋\nline two\t!',
      message_type: 'text',
      media_url: null,
      reply_to: null,
      is_edited: false,
      is_deleted: false,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      edited_at: null,
      mentions: [],
      reactions: [],
      reply_count: 0,
      last_reply_at: null,
      cityId: 'mumbai',
    })
    expect(seen).toEqual([['created', res.body.message._id]])
  })

  test('content is stored as sent (no HTML escaping)', async () => {
    const res = await send(alice, '/api/cities/mumbai/messages', { content: '<b>hi</b> & "you"' })
    expect(res.body.message.content).toBe('<b>hi</b> & "you"')
  })

  test('same clientId twice: one message, the second answer is 200 duplicate and not broadcast', async () => {
    const first = await send(alice, '/api/cities/mumbai/messages', {
      content: 'once',
      clientId: 'c-1',
    })
    const second = await send(alice, '/api/cities/mumbai/messages', {
      content: 'once',
      clientId: 'c-1',
    })
    expect(first.status).toBe(201)
    expect(second.status).toBe(200)
    expect(second.body.duplicate).toBe(true)
    expect(second.body.message._id).toBe(first.body.message._id)
    expect(first.body.message.clientId).toBe('c-1')
    // Another author may use the same clientId.
    expect(
      (await send(bob, '/api/cities/mumbai/messages', { content: 'x', clientId: 'c-1' })).status
    ).toBe(201)
    const history = await api(server.url, 'GET', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
    })
    expect(history.body.messages).toHaveLength(2)
    expect(seen.filter(([kind]) => kind === 'created')).toHaveLength(2)
  })

  test('concurrent sends with one clientId store one message', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map(() =>
        send(alice, '/api/cities/mumbai/messages', { content: 'race', clientId: 'c-race' })
      )
    )
    expect(new Set(results.map((r) => r.body.message._id)).size).toBe(1)
    expect(results.filter((r) => r.status === 201)).toHaveLength(1)
  })

  test('refusals: unknown city 404, empty text 400, image without url 400, non-http url 400, too long 413', async () => {
    expect((await send(alice, '/api/cities/atlantis/messages', { content: 'hi' })).status).toBe(404)
    expect((await send(alice, '/api/cities/Not A Slug/messages', { content: 'hi' })).status).toBe(
      400
    )
    expect((await send(alice, '/api/cities/mumbai/messages', { content: '  ' })).status).toBe(400)
    expect(
      (await send(alice, '/api/cities/mumbai/messages', { content: '', message_type: 'image' }))
        .status
    ).toBe(400)
    const js = await send(alice, '/api/cities/mumbai/messages', {
      content: 'x',
      message_type: 'image',
      media_url: 'javascript:alert(1)',
    })
    expect(js.status).toBe(400)
    const image = await send(alice, '/api/cities/mumbai/messages', {
      content: '',
      message_type: 'image',
      media_url: 'https://cdn.example.test/a.png',
    })
    expect(image.status).toBe(201)
    expect(image.body.message.media_url).toBe('https://cdn.example.test/a.png')
    const long = await send(alice, '/api/cities/mumbai/messages', { content: 'x'.repeat(4001) })
    expect(long.status).toBe(413)
    expect(long.body.error.code).toBe('payload_too_large')
    expect(
      (await send(alice, '/api/cities/mumbai/messages', { content: 'x'.repeat(4000) })).status
    ).toBe(201)
  })

  test('a body over the limit is 413 before it is parsed', async () => {
    const res = await api(server.url, 'POST', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
      rawBody: JSON.stringify({ content: 'x'.repeat(70_000) }),
    })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('payload_too_large')
  })

  test('reply_to must be a message of the same room', async () => {
    const parent = await send(alice, '/api/cities/mumbai/messages', { content: 'parent' })
    const reply = await send(bob, '/api/cities/mumbai/messages', {
      content: 'child',
      reply_to: parent.body.message._id,
    })
    expect(reply.status).toBe(201)
    expect(reply.body.message.reply_to).toBe(parent.body.message._id)
    const elsewhere = await send(bob, '/api/cities/delhi/messages', {
      content: 'x',
      reply_to: parent.body.message._id,
    })
    expect(elsewhere.status).toBe(400)
    const missing = await send(bob, '/api/cities/mumbai/messages', {
      content: 'x',
      reply_to: '0123456789abcdef01234567',
    })
    expect(missing.status).toBe(400)
  })

  test('unauthenticated send is 401', async () => {
    const res = await api(server.url, 'POST', '/api/cities/mumbai/messages', {
      body: { content: 'hi' },
    })
    expect(res.status).toBe(401)
  })
})

describe('history pagination', () => {
  async function seed(n: number): Promise<string[]> {
    const ids: string[] = []
    for (let i = 0; i < n; i++) {
      const res = await send(i % 2 ? bob : alice, '/api/cities/pune/messages', { content: `m${i}` })
      ids.push(res.body.message._id)
    }
    return ids
  }
  const page = async (query: string) =>
    (
      await api(server.url, 'GET', `/api/cities/pune/messages${query}`, {
        token: alice.accessToken,
      })
    ).body

  test('newest page first, oldest first inside; before walks back without gaps or repeats', async () => {
    const ids = await seed(12)
    expect([...ids].sort()).toEqual(ids)
    const first = await page('?limit=5')
    expect(first.messages.map((m: any) => m.content)).toEqual(['m7', 'm8', 'm9', 'm10', 'm11'])
    expect(first.hasMore).toBe(true)
    const second = await page(`?limit=5&before=${first.messages[0]._id}`)
    expect(second.messages.map((m: any) => m.content)).toEqual(['m2', 'm3', 'm4', 'm5', 'm6'])
    const third = await page(`?limit=5&before=${second.messages[0]._id}`)
    expect(third.messages.map((m: any) => m.content)).toEqual(['m0', 'm1'])
    expect(third.hasMore).toBe(false)
  })

  test('after walks forward; before+after bounds both ends', async () => {
    const ids = await seed(6)
    const forward = await page(`?limit=2&after=${ids[1]}`)
    expect(forward.messages.map((m: any) => m.content)).toEqual(['m2', 'm3'])
    expect(forward.hasMore).toBe(true)
    const between = await page(`?after=${ids[0]}&before=${ids[3]}`)
    expect(between.messages.map((m: any) => m.content)).toEqual(['m1', 'm2'])
    expect(between.hasMore).toBe(false)
  })

  test('pages are stable: new messages do not shift an older page', async () => {
    const ids = await seed(4)
    const before = await page(`?limit=2&before=${ids[3]}`)
    await seed(3)
    const again = await page(`?limit=2&before=${ids[3]}`)
    expect(again).toEqual(before)
  })

  test('limit is capped at 100; bad cursors and limits are 400', async () => {
    await seed(3)
    expect((await page('?limit=1000')).messages).toHaveLength(3)
    for (const query of ['?limit=0', '?limit=abc', '?before=nope', '?after=123']) {
      const res = await api(server.url, 'GET', `/api/cities/pune/messages${query}`, {
        token: alice.accessToken,
      })
      expect(res.status).toBe(400)
    }
  })

  test('a cursor must be a message of this room: 400 otherwise', async () => {
    await seed(1)
    const elsewhere = await send(alice, '/api/cities/delhi/messages', { content: 'in delhi' })
    for (const cursor of [elsewhere.body.message._id, '0123456789abcdef01234567']) {
      for (const side of ['before', 'after']) {
        const res = await api(server.url, 'GET', `/api/cities/pune/messages?${side}=${cursor}`, {
          token: alice.accessToken,
        })
        expect(res.status).toBe(400)
        expect(res.body.error.message).toBe(`${side} is not a message in this room`)
      }
    }
  })

  test('rooms are separate: a city page never shows another room', async () => {
    await seed(2)
    await send(alice, '/api/cities/delhi/messages', { content: 'delhi only' })
    const pune = await page('')
    expect(pune.messages.every((m: any) => m.cityId === 'pune')).toBe(true)
  })
})

describe('edit and delete', () => {
  test('author edits: content and edited flags change, broadcast', async () => {
    const sent = await send(alice, '/api/cities/mumbai/messages', { content: 'typo' })
    const id = sent.body.message._id
    const edited = await api(server.url, 'PATCH', `/api/messages/${id}`, {
      token: alice.accessToken,
      body: { content: 'fixed' },
    })
    expect(edited.status).toBe(200)
    expect(edited.body.message).toMatchObject({ _id: id, content: 'fixed', is_edited: true })
    expect(edited.body.message.edited_at).toMatch(/Z$/)
    expect(seen).toContainEqual(['edited', id])
    const notAuthor = await api(server.url, 'PATCH', `/api/messages/${id}`, {
      token: bob.accessToken,
      body: { content: 'hijack' },
    })
    expect(notAuthor.status).toBe(403)
    expect(notAuthor.body.error.code).toBe('not_author')
    const empty = await api(server.url, 'PATCH', `/api/messages/${id}`, {
      token: alice.accessToken,
      body: { content: '' },
    })
    expect(empty.status).toBe(400)
    const unknown = await api(server.url, 'PATCH', '/api/messages/0123456789abcdef01234567', {
      token: alice.accessToken,
      body: { content: 'x' },
    })
    expect(unknown.status).toBe(404)
  })

  test('delete keeps the row, blanks content and media, and cannot be edited after', async () => {
    const sent = await send(alice, '/api/cities/mumbai/messages', {
      content: 'secret',
      message_type: 'file',
      media_url: 'https://cdn.example.test/f.pdf',
    })
    const id = sent.body.message._id
    expect(
      (await api(server.url, 'DELETE', `/api/messages/${id}`, { token: bob.accessToken })).status
    ).toBe(403)
    const deleted = await api(server.url, 'DELETE', `/api/messages/${id}`, {
      token: alice.accessToken,
    })
    expect(deleted.status).toBe(200)
    expect(deleted.body.message).toMatchObject({
      _id: id,
      is_deleted: true,
      content: '',
      media_url: null,
    })
    expect(seen).toContainEqual(['deleted', id])
    const history = await api(server.url, 'GET', '/api/cities/mumbai/messages', {
      token: bob.accessToken,
    })
    expect(history.body.messages).toEqual([
      expect.objectContaining({ _id: id, is_deleted: true, content: '' }),
    ])
    const edit = await api(server.url, 'PATCH', `/api/messages/${id}`, {
      token: alice.accessToken,
      body: { content: 'x' },
    })
    expect(edit.status).toBe(404)
  })

  test('in a private chat the owner may delete a member message; a member may not delete the owner one', async () => {
    const created = await api(server.url, 'POST', '/api/chats', {
      token: alice.accessToken,
      body: { memberIds: [bob.user._id] },
    })
    const chatId = created.body.chat._id
    const fromBob = await send(bob, `/api/chats/${chatId}/messages`, { content: 'from bob' })
    const fromAlice = await send(alice, `/api/chats/${chatId}/messages`, { content: 'from alice' })
    expect(fromBob.body.message.chatId).toBe(chatId)
    expect(
      (
        await api(server.url, 'DELETE', `/api/messages/${fromAlice.body.message._id}`, {
          token: bob.accessToken,
        })
      ).status
    ).toBe(403)
    expect(
      (
        await api(server.url, 'DELETE', `/api/messages/${fromBob.body.message._id}`, {
          token: alice.accessToken,
        })
      ).status
    ).toBe(200)
    // An outsider is refused as a non-member of the chat the message is in.
    const outsider = await api(
      server.url,
      'DELETE',
      `/api/messages/${fromAlice.body.message._id}`,
      {
        token: carol.accessToken,
      }
    )
    expect(outsider.status).toBe(403)
    expect(outsider.body.error.code).toBe('not_member')
    const read = await api(server.url, 'POST', `/api/chats/${chatId}/read`, {
      token: bob.accessToken,
    })
    expect(read.status).toBe(200)
    expect(seen).toContainEqual(['read', chatId])
  })
})
