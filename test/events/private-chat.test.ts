/** @module Private chat events: members only, owner/admin deletes, read receipts agree with REST. */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { api } from '../helpers/api.ts'
import {
  ask,
  barrier,
  type ChatClient,
  chatUser,
  createPrivateChat,
  once,
} from '../helpers/chat-client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
let owner: ChatClient
let member: ChatClient
let stranger: ChatClient
let chatId: string

async function joinPrivate(user: ChatClient): Promise<void> {
  const ack = await ask(user.socket, 'join-private-chat', { chatId })
  if (!ack.ok) throw new Error(JSON.stringify(ack))
}

beforeEach(async () => {
  server = await startServer()
  ;[owner, member, stranger] = await Promise.all([
    chatUser(server.url),
    chatUser(server.url),
    chatUser(server.url),
  ])
  // The members hear of the new chat over their sockets, which can come after the HTTP answer:
  // waited for here, so a test's own `added-to-chat` listener never catches this one.
  const announced = [owner, member].map((user) => once(user.socket, 'added-to-chat'))
  chatId = await createPrivateChat(server.url, owner, [member], 'Trip')
  await Promise.all(announced)
})

afterEach(async () => {
  for (const user of [owner, member, stranger]) user?.socket.disconnect()
  await server.stop()
})

test('members join; others are told; non-members are refused and learn nothing', async () => {
  await joinPrivate(owner)
  const noticed = once<any>(owner.socket, 'user-joined-private-chat')
  const joined = once<any>(member.socket, 'joined-private-chat')
  await joinPrivate(member)
  expect(await joined).toEqual({
    chatId,
    chatName: 'Trip',
    message: 'Successfully joined Trip chat',
    pinnedCount: 0,
  })
  expect(await noticed).toMatchObject({ userId: member.user._id, chatId })

  for (const event of ['join-private-chat', 'get-chat-online-users', 'mark-messages-read']) {
    const ack = await ask(stranger.socket, event, { chatId })
    expect({ event, code: ack.error?.code }).toEqual({ event, code: 'not_member' })
  }
  const sent = await ask(stranger.socket, 'send-private-message', { chatId, content: 'let me in' })
  expect(sent.error.code).toBe('not_member')
  const missing = await ask(owner.socket, 'join-private-chat', { chatId: 'f'.repeat(24) })
  expect(missing.ok).toBe(false)
})

test('send, edit, delete reach the members in the room and nobody else', async () => {
  await joinPrivate(owner)
  await joinPrivate(member)
  const atMember = once<any>(member.socket, 'new-private-message')
  const sent = await ask(owner.socket, 'send-private-message', {
    chatId,
    content: "Hey guys! Let's plan the trip",
    message_type: 'text',
    media_url: null,
    reply_to: null,
  })
  expect(sent.ok).toBe(true)
  expect(await atMember).toEqual(sent.message)
  expect(sent.message).toMatchObject({ chatId, content: "Hey guys! Let's plan the trip" })
  expect(sent.message.cityId).toBeUndefined()

  const edited = once<any>(member.socket, 'private-message-edited')
  await ask(owner.socket, 'edit-private-message', {
    messageId: sent.message._id,
    chatId,
    content: 'Updated content',
  })
  expect((await edited).content).toBe('Updated content')

  const deleted = once<any>(member.socket, 'private-message-deleted')
  await ask(owner.socket, 'delete-private-message', { messageId: sent.message._id, chatId })
  expect(await deleted).toEqual({ messageId: sent.message._id, chatId })

  await barrier(stranger.socket)
  expect(stranger.received.filter(([e]) => String(e).includes('private'))).toEqual([])
})

test("the owner may delete a member's message; a member may not delete the owner's", async () => {
  await joinPrivate(owner)
  await joinPrivate(member)
  const mine = await ask(owner.socket, 'send-private-message', { chatId, content: 'owner' })
  const theirs = await ask(member.socket, 'send-private-message', { chatId, content: 'member' })
  const refused = await ask(member.socket, 'delete-private-message', {
    messageId: mine.message._id,
    chatId,
  })
  expect(refused.error.code).toBe('not_author')
  const moderated = await ask(owner.socket, 'delete-private-message', {
    messageId: theirs.message._id,
    chatId,
  })
  expect(moderated).toEqual({ ok: true, messageId: theirs.message._id, chatId })
  const editOthers = await ask(owner.socket, 'edit-private-message', {
    messageId: mine.message._id,
    chatId,
    content: 'fine',
  })
  expect(editOthers.ok).toBe(true)
})

test('typing goes to the other members only', async () => {
  await joinPrivate(owner)
  await joinPrivate(member)
  const typing = once<any>(member.socket, 'user-typing-private')
  await ask(owner.socket, 'private-typing', { chatId })
  expect(await typing).toEqual({
    userId: owner.user._id,
    username: owner.user.username,
    full_name: owner.user.full_name,
    chatId,
  })
  const stopped = once<any>(member.socket, 'user-stopped-typing-private')
  await ask(owner.socket, 'private-stop-typing', { chatId })
  expect((await stopped).userId).toBe(owner.user._id)
})

test('mark-messages-read broadcasts messages-read and REST unread counts agree', async () => {
  await joinPrivate(owner)
  await joinPrivate(member)
  await ask(owner.socket, 'send-private-message', { chatId, content: 'one' })
  await ask(owner.socket, 'send-private-message', { chatId, content: 'two' })
  const unread = async (user: ChatClient) => {
    const res = await api(server.url, 'GET', '/api/chats', { token: user.accessToken })
    return res.body.chats.find((c: any) => c._id === chatId).unreadCount
  }
  expect(await unread(member)).toBe(2)

  const receipt = once<any>(owner.socket, 'messages-read')
  const ack = await ask(member.socket, 'mark-messages-read', { chatId })
  expect(ack.ok).toBe(true)
  const read = await receipt
  expect(read).toMatchObject({ chatId, userId: member.user._id })
  expect(new Date(read.readAt).toISOString()).toBe(read.readAt)
  expect(await unread(member)).toBe(0)

  // And REST's mark-read is broadcast the same way.
  await ask(member.socket, 'send-private-message', { chatId, content: 'three' })
  const restReceipt = once<any>(member.socket, 'messages-read')
  const res = await api(server.url, 'POST', `/api/chats/${chatId}/read`, {
    token: owner.accessToken,
  })
  expect(res.status).toBe(200)
  expect((await restReceipt).userId).toBe(owner.user._id)
})

test('a removed member is taken out of the room at once', async () => {
  await joinPrivate(owner)
  await joinPrivate(member)
  const left = once<any>(member.socket, 'left-private-chat')
  const res = await api(server.url, 'DELETE', `/api/chats/${chatId}/members/${member.user._id}`, {
    token: owner.accessToken,
  })
  expect(res.status).toBeLessThan(300)
  expect(await left).toEqual({ chatId })
  await ask(owner.socket, 'send-private-message', { chatId, content: 'after removal' })
  await barrier(member.socket)
  expect(member.got('new-private-message')).toEqual([])
  const again = await ask(member.socket, 'join-private-chat', { chatId })
  expect(again.error.code).toBe('not_member')
})

test('members added or removed hear it on their sockets, joined to the chat or not', async () => {
  const heardByStranger: unknown[] = []
  stranger.socket.on('added-to-chat', (payload) => heardByStranger.push(payload))
  const created = [owner, member].map((user) => once<any>(user.socket, 'added-to-chat'))
  const second = await createPrivateChat(server.url, owner, [member], 'Second')
  expect(await Promise.all(created)).toEqual([{ chatId: second }, { chatId: second }])
  await barrier(stranger.socket)
  expect(heardByStranger).toEqual([])

  const added = once<any>(stranger.socket, 'added-to-chat')
  const add = await api(server.url, 'POST', `/api/chats/${chatId}/members`, {
    token: owner.accessToken,
    body: { userIds: [stranger.user._id] },
  })
  expect(add.status).toBe(200)
  expect(await added).toEqual({ chatId })

  const removed = once<any>(stranger.socket, 'removed-from-chat')
  const remove = await api(
    server.url,
    'DELETE',
    `/api/chats/${chatId}/members/${stranger.user._id}`,
    {
      token: owner.accessToken,
    }
  )
  expect(remove.status).toBe(200)
  expect(await removed).toEqual({ chatId })

  const left = once<any>(member.socket, 'removed-from-chat')
  const leave = await api(server.url, 'POST', `/api/chats/${chatId}/leave`, {
    token: member.accessToken,
  })
  expect(leave.status).toBe(204)
  expect(await left).toEqual({ chatId })
})
