/** @module City chat events end to end with the official client: who gets what, and every refusal. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { api } from '../helpers/api.ts'
import { ask, barrier, type ChatClient, chatUser, joinCity, once } from '../helpers/chat-client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
let alice: ChatClient
let bob: ChatClient
let outsider: ChatClient

beforeEach(async () => {
  server = await startServer({ TYPING_TIMEOUT: '300ms' })
  ;[alice, bob, outsider] = await Promise.all([
    chatUser(server.url),
    chatUser(server.url),
    chatUser(server.url),
  ])
})

afterEach(async () => {
  for (const user of [alice, bob, outsider]) user?.socket.disconnect()
  await server.stop()
})

describe('join and leave', () => {
  test('joined-city-chat confirms, the others get user-joined-city-chat', async () => {
    await joinCity(bob)
    const noticed = once<any>(bob.socket, 'user-joined-city-chat')
    const confirmed = once<any>(alice.socket, 'joined-city-chat')
    const ack = await ask(alice.socket, 'join-city-chat', { cityId: 'mumbai' })
    expect(ack).toEqual({ ok: true, cityId: 'mumbai', cityName: 'Mumbai' })
    expect(await confirmed).toEqual({
      cityId: 'mumbai',
      cityName: 'Mumbai',
      message: 'Successfully joined Mumbai chat',
      slowModeSeconds: 0,
      pinnedCount: 0,
    })
    expect(await noticed).toEqual({
      userId: alice.user._id,
      username: alice.user.username,
      full_name: alice.user.full_name,
      profile_photo_url: `/api/media/avatars/${alice.user._id}`,
      cityId: 'mumbai',
    })
    await barrier(alice.socket)
    expect(alice.got('user-joined-city-chat')).toEqual([])
  })

  test('unknown city is refused with an error event and ack', async () => {
    const error = once<any>(alice.socket, 'error')
    const ack = await ask(alice.socket, 'join-city-chat', { cityId: 'atlantis' })
    expect(ack.ok).toBe(false)
    expect(ack.error.code).toBe('not_found')
    expect(await error).toEqual({
      message: expect.any(String),
      code: 'not_found',
      event: 'join-city-chat',
    })
  })

  test('invalid payloads are refused as invalid_input', async () => {
    for (const payload of [undefined, null, 'mumbai', {}, { cityId: 42 }, { cityId: '../x' }]) {
      const ack = await ask(alice.socket, 'join-city-chat', payload)
      expect(ack.ok).toBe(false)
      expect(ack.error.code).toBe('invalid_input')
    }
    expect(alice.got('error').every((e) => e.event === 'join-city-chat')).toBe(true)
  })

  test('leave-city-chat confirms and tells the others', async () => {
    await joinCity(alice)
    await joinCity(bob)
    const noticed = once<any>(bob.socket, 'user-left-city-chat')
    const left = once<any>(alice.socket, 'left-city-chat')
    expect(await ask(alice.socket, 'leave-city-chat', { cityId: 'mumbai' })).toEqual({
      ok: true,
      cityId: 'mumbai',
    })
    expect(await left).toEqual({ cityId: 'mumbai' })
    expect(await noticed).toMatchObject({ userId: alice.user._id, username: alice.user.username })
    // After leaving, sending is refused.
    const ack = await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'hi' })
    expect(ack.error.code).toBe('not_member')
  })

  test('a second tab of the same user does not announce the join again', async () => {
    await joinCity(bob)
    await joinCity(alice)
    const { connectAs } = await import('../helpers/chat-client.ts')
    const tab = await connectAs(server.url, alice)
    await joinCity(tab)
    await barrier(bob.socket)
    expect(bob.got('user-joined-city-chat')).toHaveLength(1)
    tab.socket.disconnect()
  })
})

describe('messages', () => {
  beforeEach(async () => {
    await joinCity(alice)
    await joinCity(bob)
  })

  test('new-city-message reaches everyone in the room, sender included, and nobody else', async () => {
    const atBob = once<any>(bob.socket, 'new-city-message')
    const atAlice = once<any>(alice.socket, 'new-city-message')
    const ack = await ask(alice.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'Hello everyone! 👋',
      message_type: 'text',
      media_url: null,
      reply_to: null,
    })
    expect(ack.ok).toBe(true)
    const message = await atBob
    expect(await atAlice).toEqual(message)
    expect(ack.message).toEqual(message)
    expect(message).toMatchObject({
      sender_id: {
        _id: alice.user._id,
        username: alice.user.username,
        full_name: alice.user.full_name,
        profile_photo_url: `/api/media/avatars/${alice.user._id}`,
      },
      content: 'Hello everyone! 👋',
      message_type: 'text',
      media_url: null,
      reply_to: null,
      is_edited: false,
      is_deleted: false,
      cityId: 'mumbai',
    })
    expect(message._id).toMatch(/^[0-9a-f]{24}$/)
    expect(new Date(message.created_at).toISOString()).toBe(message.created_at)
    await barrier(outsider.socket)
    expect(outsider.got('new-city-message')).toEqual([])

    // The same shape in REST history.
    const history = await api(server.url, 'GET', '/api/cities/mumbai/messages', {
      token: outsider.accessToken,
    })
    expect(history.body.messages.at(-1)).toEqual(message)
  })

  test('a room member in another city gets nothing', async () => {
    await joinCity(outsider, 'delhi')
    await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'local news' })
    await barrier(outsider.socket)
    expect(outsider.got('new-city-message')).toEqual([])
  })

  test('image messages and replies', async () => {
    const first = await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'q?' })
    const reply = await ask(bob.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'look',
      message_type: 'image',
      media_url: 'https://example.com/a.png',
      reply_to: first.message._id,
    })
    expect(reply.message).toMatchObject({
      message_type: 'image',
      media_url: 'https://example.com/a.png',
      reply_to: first.message._id,
    })
  })

  test('refusals change nothing', async () => {
    const elsewhere = await ask(outsider.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'not joined',
    })
    expect(elsewhere.error.code).toBe('not_member')
    const cases: [unknown, string][] = [
      [{ cityId: 'mumbai', content: '' }, 'invalid_input'],
      [{ cityId: 'mumbai', content: '   ' }, 'invalid_input'],
      [{ cityId: 'mumbai', content: 'x'.repeat(4001) }, 'payload_too_large'],
      [{ cityId: 'mumbai', content: 'x', message_type: 'video' }, 'invalid_input'],
      [{ cityId: 'mumbai', content: '', message_type: 'image' }, 'invalid_input'],
      [
        { cityId: 'mumbai', content: 'x', message_type: 'file', media_url: 'javascript:alert(1)' },
        'invalid_input',
      ],
      [{ cityId: 'mumbai', content: 'x', reply_to: 'nope' }, 'invalid_input'],
      [{ content: 'no city' }, 'invalid_input'],
    ]
    for (const [payload, code] of cases) {
      const ack = await ask(alice.socket, 'send-city-message', payload)
      expect({ payload, code: ack.error?.code }).toEqual({ payload, code })
    }
    const other = await ask(outsider.socket, 'join-city-chat', { cityId: 'delhi' })
    expect(other.ok).toBe(true)
    const delhi = await ask(outsider.socket, 'send-city-message', { cityId: 'delhi', content: 'd' })
    const crossReply = await ask(alice.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'reply across rooms',
      reply_to: delhi.message._id,
    })
    expect(crossReply.error.code).toBe('invalid_input')
    await barrier(bob.socket)
    expect(bob.got('new-city-message')).toEqual([])
    const history = await api(server.url, 'GET', '/api/cities/mumbai/messages', {
      token: bob.accessToken,
    })
    expect(history.body.messages).toEqual([])
  })

  test('control characters are stripped, the rest is kept as sent', async () => {
    const ack = await ask(alice.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'a\u0000b\u0007c\n<b>d</b>',
    })
    expect(ack.message.content).toBe('abc\n<b>d</b>')
  })

  test('edit: author only, broadcast as city-message-edited', async () => {
    const sent = await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'v1' })
    const id = sent.message._id
    const notAuthor = await ask(bob.socket, 'edit-city-message', {
      messageId: id,
      cityId: 'mumbai',
      content: 'hijack',
    })
    expect(notAuthor.error.code).toBe('not_author')
    const wrongRoom = await ask(alice.socket, 'edit-city-message', {
      messageId: id,
      cityId: 'delhi',
      content: 'v2',
    })
    expect(wrongRoom.error.code).toBe('not_found')

    const edited = once<any>(bob.socket, 'city-message-edited')
    const ack = await ask(alice.socket, 'edit-city-message', {
      messageId: id,
      cityId: 'mumbai',
      content: 'Updated message content',
    })
    expect(ack.ok).toBe(true)
    const message = await edited
    expect(message).toMatchObject({ _id: id, content: 'Updated message content', is_edited: true })
    expect(typeof message.edited_at).toBe('string')
  })

  test('delete: author only, broadcast as city-message-deleted, row kept', async () => {
    const sent = await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'oops' })
    const id = sent.message._id
    const refused = await ask(bob.socket, 'delete-city-message', {
      messageId: id,
      cityId: 'mumbai',
    })
    expect(refused.error.code).toBe('not_author')
    const deleted = once<any>(bob.socket, 'city-message-deleted')
    await ask(alice.socket, 'delete-city-message', { messageId: id, cityId: 'mumbai' })
    expect(await deleted).toEqual({ messageId: id, cityId: 'mumbai' })
    const history = await api(server.url, 'GET', '/api/cities/mumbai/messages', {
      token: bob.accessToken,
    })
    expect(history.body.messages[0]).toMatchObject({
      _id: id,
      is_deleted: true,
      content: '',
      media_url: null,
    })
    const editDeleted = await ask(alice.socket, 'edit-city-message', {
      messageId: id,
      cityId: 'mumbai',
      content: 'back',
    })
    expect(editDeleted.ok).toBe(false)
  })

  test('REST writes are broadcast like socket ones', async () => {
    const created = once<any>(bob.socket, 'new-city-message')
    const posted = await api(server.url, 'POST', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
      body: { content: 'from REST' },
    })
    expect(posted.status).toBe(201)
    expect(await created).toEqual(posted.body.message)

    const edited = once<any>(bob.socket, 'city-message-edited')
    const patched = await api(server.url, 'PATCH', `/api/messages/${posted.body.message._id}`, {
      token: alice.accessToken,
      body: { content: 'edited over REST' },
    })
    expect(patched.status).toBe(200)
    expect(await edited).toEqual(patched.body.message)

    const deleted = once<any>(bob.socket, 'city-message-deleted')
    const removed = await api(server.url, 'DELETE', `/api/messages/${posted.body.message._id}`, {
      token: alice.accessToken,
    })
    expect(removed.status).toBe(200)
    expect(await deleted).toEqual({ messageId: posted.body.message._id, cityId: 'mumbai' })
  })
})

describe('typing', () => {
  beforeEach(async () => {
    await joinCity(alice)
    await joinCity(bob)
  })

  test('typing and stop go to the others, not the typist', async () => {
    const typing = once<any>(bob.socket, 'user-typing-city')
    await ask(alice.socket, 'city-typing', { cityId: 'mumbai' })
    expect(await typing).toEqual({
      userId: alice.user._id,
      username: alice.user.username,
      full_name: alice.user.full_name,
      cityId: 'mumbai',
    })
    const stopped = once<any>(bob.socket, 'user-stopped-typing-city')
    await ask(alice.socket, 'city-stop-typing', { cityId: 'mumbai' })
    expect(await stopped).toMatchObject({ userId: alice.user._id, cityId: 'mumbai' })
    await barrier(alice.socket)
    expect(alice.got('user-typing-city')).toEqual([])
    expect(alice.got('user-stopped-typing-city')).toEqual([])
  })

  test('a typing state that is not stopped expires by itself', async () => {
    await ask(alice.socket, 'city-typing', { cityId: 'mumbai' })
    const stopped = await once<any>(bob.socket, 'user-stopped-typing-city')
    expect(stopped.userId).toBe(alice.user._id)
  })

  test('disconnecting stops typing; typing outside the room is refused', async () => {
    const refused = await ask(outsider.socket, 'city-typing', { cityId: 'mumbai' })
    expect(refused.error.code).toBe('not_member')
    await ask(alice.socket, 'city-typing', { cityId: 'mumbai' })
    const stopped = once<any>(bob.socket, 'user-stopped-typing-city')
    const left = once<any>(bob.socket, 'user-left-city-chat')
    alice.socket.disconnect()
    expect((await stopped).userId).toBe(alice.user._id)
    expect((await left).userId).toBe(alice.user._id)
  })

  test('repeated typing events are throttled', async () => {
    for (let i = 0; i < 20; i++) alice.socket.emit('city-typing', { cityId: 'mumbai' })
    await barrier(alice.socket)
    await barrier(bob.socket)
    expect(bob.got('user-typing-city')).toHaveLength(1)
  })
})
