/**
 * @module The domain calls the socket handlers will make (same functions REST uses), on a real
 * server's chat service, plus the guide's example payloads through chat/inputs.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  chatRoomPayload,
  checkUserOnlinePayload,
  cityRoomPayload,
  compiledSchema,
  deleteCityMessagePayload,
  editCityMessagePayload,
  editPrivateMessagePayload,
  heartbeatPayload,
  parseInput,
  reactionPayload,
  readRoomPayload,
  refreshAuthPayload,
  sendCityMessagePayload,
  sendPrivateMessagePayload,
} from '../../src/chat/inputs.ts'
import type { User } from '../../src/chat/service.ts'
import { deletedView, messageView, readView } from '../../src/chat/views.ts'
import { api, registerUser } from '../helpers/api.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
let alice: User
let bob: User
let chatId: string

beforeAll(async () => {
  server = await startServer()
  const [a, b] = [await registerUser(server.url), await registerUser(server.url)]
  const chat = server.app.chat
  const verifiedA = await chat.verifyAccessToken(a.accessToken)
  const verifiedB = await chat.verifyAccessToken(b.accessToken)
  if (!verifiedA.ok || !verifiedB.ok) throw new Error('token verification failed')
  alice = verifiedA.value
  bob = verifiedB.value
  const created = await api(server.url, 'POST', '/api/chats', {
    token: a.accessToken,
    body: { memberIds: [b.user._id] },
  })
  chatId = created.body.chat._id
})
afterAll(() => server.stop())

describe("the guide's payloads", () => {
  test('parse as the guide writes them', () => {
    expect(parseInput(cityRoomPayload, { cityId: 'mumbai' }).ok).toBe(true)
    const send = parseInput(sendCityMessagePayload, {
      cityId: 'mumbai',
      content: 'Hello everyone! 👋',
      message_type: 'text',
      media_url: null,
      reply_to: null,
    })
    expect(send).toEqual({
      ok: true,
      value: {
        cityId: 'mumbai',
        content: 'Hello everyone! 👋',
        message_type: 'text',
        media_url: null,
        media_id: null,
        reply_to: null,
        clientId: null,
      },
    })
    // The React example sends only { cityId, content }.
    expect(parseInput(sendCityMessagePayload, { cityId: 'mumbai', content: 'hi' }).ok).toBe(true)
    expect(parseInput(sendPrivateMessagePayload, { chatId, content: "Let's plan" }).ok).toBe(true)
    expect(
      parseInput(editPrivateMessagePayload, { messageId: chatId, content: 'x', chatId }).ok
    ).toBe(true)
    expect(parseInput(deleteCityMessagePayload, { messageId: chatId, cityId: 'mumbai' }).ok).toBe(
      true
    )
    expect(parseInput(chatRoomPayload, { chatId }).ok).toBe(true)
    expect(parseInput(checkUserOnlinePayload, { userId: chatId }).ok).toBe(true)
    expect(parseInput(heartbeatPayload, undefined)).toEqual({ ok: true, value: {} })
    expect(parseInput(heartbeatPayload, { timestamp: 5 })).toEqual({
      ok: true,
      value: { timestamp: 5 },
    })
  })

  test('refuse what they must', () => {
    expect(parseInput(cityRoomPayload, {})).toMatchObject({
      ok: false,
      error: { code: 'invalid_input' },
    })
    expect(parseInput(cityRoomPayload, 'mumbai').ok).toBe(false)
    expect(parseInput(sendCityMessagePayload, { cityId: 'mumbai', content: 42 }).ok).toBe(false)
    expect(
      parseInput(sendCityMessagePayload, { cityId: 'mumbai', content: 'x'.repeat(4001) })
    ).toMatchObject({
      ok: false,
      error: { code: 'payload_too_large' },
    })
  })
})

describe('the socket events validate through compiled schemas (events/respond.ts)', () => {
  const id = 'a'.repeat(24)
  // Lengths at and over the limits, in UTF-16 units and in astral characters, controls, blanks.
  const contents: unknown[] = [
    'hi',
    '',
    '   ',
    '\u0000\u0007 \r\n',
    'a\u0000b\tc\r\nd\u007f',
    'x'.repeat(4000),
    'x'.repeat(4001),
    '😀'.repeat(2000),
    `${'😀'.repeat(2000)}x`,
    'é'.repeat(4000),
    42,
    null,
    ['hi'],
    undefined,
  ]
  const extras: Record<string, unknown>[] = [
    {},
    { message_type: 'image' },
    { message_type: 'image', media_url: 'https://cdn.example/a.png' },
    { message_type: 'file', media_url: 'ftp://cdn.example/a' },
    { message_type: 'image', media_id: id },
    { message_type: 'image', media_id: id, media_url: 'https://cdn.example/a.png' },
    { message_type: 'text', media_id: id },
    { message_type: 'video' },
    { media_url: null, media_id: null, reply_to: null, clientId: null },
    { reply_to: id, clientId: 'c1' },
    { reply_to: 'nope', clientId: '' },
    { clientId: 'c'.repeat(64) },
    { clientId: 'c'.repeat(65) },
    { clientId: 7 },
    { extra: 'dropped', __proto__: { inherited: true } },
  ]
  const sends: unknown[] = [undefined, null, 'mumbai', [], 5]
  for (const content of contents) {
    for (const extra of extras) {
      sends.push({ cityId: 'mumbai', content, ...extra })
      sends.push({ chatId: id, content, ...extra })
    }
  }
  for (const cityId of ['mumbai', 'new-delhi', 'Mumbai', 'a--b', '', 'x'.repeat(65), 3, undefined])
    sends.push({ cityId, content: 'hi' }, { cityId, messageId: id, content: 'hi' }, { cityId })
  for (const chatId of [id, id.toUpperCase(), 'short', undefined])
    sends.push({ chatId, content: 'hi' }, { chatId, messageId: id }, { chatId })
  const schemas = {
    sendCityMessagePayload,
    sendPrivateMessagePayload,
    editCityMessagePayload,
    editPrivateMessagePayload,
    deleteCityMessagePayload,
    cityRoomPayload,
    chatRoomPayload,
    readRoomPayload,
    checkUserOnlinePayload,
    reactionPayload,
    refreshAuthPayload,
    heartbeatPayload,
  }
  const others: unknown[] = [
    { userId: id },
    { messageId: id, emoji: '👍' },
    { messageId: id, emoji: 'nope', cityId: 'mumbai' },
    { token: '' },
    { token: 't' },
    { timestamp: 5 },
    { timestamp: Number.POSITIVE_INFINITY },
  ]

  test.each(Object.entries(schemas))(
    '%s: the same value or the same error for every input',
    (_name, schema) => {
      const compiled = compiledSchema(schema)
      expect(compiled).not.toBe(schema)
      for (const input of [...sends, ...others]) {
        expect(parseInput(compiled, input)).toEqual(parseInput(schema, input))
      }
    }
  )
})

describe('domain functions', () => {
  test('verifyAccessToken refuses non-strings and junk without throwing', async () => {
    for (const token of [undefined, null, 42, '', 'junk', {}]) {
      expect(await server.app.chat.verifyAccessToken(token)).toMatchObject({
        ok: false,
        error: { code: 'unauthorized' },
      })
    }
  })

  test('sendMessage / editMessage / deleteMessage with the room named, as sockets do', async () => {
    const chat = server.app.chat
    const sent = await chat.sendMessage({
      actor: alice,
      target: { kind: 'chat', id: chatId },
      content: 'hi bob',
      message_type: 'text',
      media_url: null,
      reply_to: null,
      clientId: 'sock-1',
    })
    if (!sent.ok) throw new Error(sent.error.message)
    expect(sent.value.duplicate).toBe(false)
    expect(messageView(sent.value.message)).toMatchObject({
      chatId,
      content: 'hi bob',
      clientId: 'sock-1',
    })

    const again = await chat.sendMessage({ ...sentInput(), clientId: 'sock-1' })
    expect(again).toMatchObject({ ok: true, value: { duplicate: true } })
    const otherRoom = await chat.sendMessage({
      ...sentInput(),
      target: { kind: 'city', id: 'mumbai' },
      clientId: 'sock-1',
    })
    expect(otherRoom).toMatchObject({ ok: false, error: { code: 'conflict' } })

    const id = sent.value.message.id
    const wrongRoom = await chat.editMessage({
      actor: alice,
      messageId: id,
      room: { kind: 'city', id: 'mumbai' },
      content: 'x',
    })
    expect(wrongRoom).toMatchObject({ ok: false, error: { code: 'not_found' } })
    const edited = await chat.editMessage({
      actor: alice,
      messageId: id,
      room: { kind: 'chat', id: chatId },
      content: 'hi Bob',
    })
    expect(edited).toMatchObject({ ok: true, value: { content: 'hi Bob', isEdited: true } })
    const byBob = await chat.editMessage({
      actor: bob,
      messageId: id,
      room: { kind: 'chat', id: chatId },
      content: 'x',
    })
    expect(byBob).toMatchObject({ ok: false, error: { code: 'not_author' } })

    const deleted = await chat.deleteMessage({
      actor: alice,
      messageId: id,
      room: { kind: 'chat', id: chatId },
    })
    if (!deleted.ok) throw new Error(deleted.error.message)
    expect(deletedView(deleted.value)).toEqual({ messageId: id, chatId })
  })

  test('membership helpers and read receipts', async () => {
    const chat = server.app.chat
    expect((await chat.listChatMemberIds(chatId)).sort()).toEqual([alice.id, bob.id].sort())
    expect(await chat.requireChatMember(bob, chatId)).toMatchObject({
      ok: true,
      value: { member: { role: 'member' } },
    })
    const users = await chat.findUsersByIds([alice.id, bob.id, '0123456789abcdef01234567'])
    expect(users.map((u) => u.id).sort()).toEqual([alice.id, bob.id].sort())
    const read = await chat.markRead(bob, chatId)
    if (!read.ok) throw new Error(read.error.message)
    expect(readView(read.value)).toMatchObject({
      chatId,
      userId: bob.id,
      readAt: expect.stringMatching(/Z$/),
    })
    expect(await chat.getCity('mumbai')).toMatchObject({
      ok: true,
      value: { id: 'mumbai', name: 'Mumbai' },
    })
    expect(await chat.getCity('atlantis')).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    })
  })
})

function sentInput() {
  return {
    actor: alice,
    target: { kind: 'chat', id: chatId } as { kind: 'city' | 'chat'; id: string },
    content: 'hi bob',
    message_type: 'text' as const,
    media_url: null,
    reply_to: null,
    clientId: null as string | null,
  }
}
