/**
 * @module `chat-members-added` / `chat-members-removed`: membership changes are room events of the
 * chat (through the room stream), heard live by the sockets in its room and replayed to a member
 * who resumes a session, never by anyone outside the chat, and not at all for a refused change
 * (wrong user, unknown user, bad payload) or one that changed nothing. The new members still get
 * `added-to-chat` on their own sockets, and a removed one `removed-from-chat`.
 */
import { afterEach, expect, test } from 'bun:test'
import { api } from '../helpers/api.ts'
import {
  ask,
  barrier,
  type ChatClient,
  createPrivateChat,
  joinCity,
  trackClients,
} from '../helpers/chat-client.ts'
import { drop, recover } from '../helpers/recovery.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer | undefined
const clients = trackClients()

afterEach(async () => {
  clients.disconnectAll()
  await server?.stop()
  server = undefined
})

const user = (url: string) => clients.user(url)

/** The payloads of `event` the client got. */
const members = (who: ChatClient, event: string) => who.got(event)

const call = (who: ChatClient, method: string, path: string, body?: unknown) =>
  api(server!.url, method, path, { token: who.accessToken, body })

/** A fresh server, three users, and a private chat of alice's with bob (carol is outside it). */
async function aliceBobAndCarol() {
  server = await startServer()
  const [alice, bob, carol] = [
    await user(server.url),
    await user(server.url),
    await user(server.url),
  ]
  const chatId = await createPrivateChat(server.url, alice, [bob])
  return { alice, bob, carol, chatId }
}

test('members in the room hear who was added and removed, and by whom; nobody outside it does', async () => {
  server = await startServer()
  const [alice, bob, carol, dave] = [
    await user(server.url),
    await user(server.url),
    await user(server.url),
    await user(server.url),
  ]
  const chatId = await createPrivateChat(server.url, alice, [bob])
  // Dave has a chat of his own with alice, and tries to join hers: refused.
  const other = await createPrivateChat(server.url, alice, [dave])
  for (const member of [alice, bob]) {
    expect((await ask(member.socket, 'join-private-chat', { chatId })).ok).toBe(true)
  }
  expect((await ask(dave.socket, 'join-private-chat', { chatId: other })).ok).toBe(true)
  const refused = await ask(dave.socket, 'join-private-chat', { chatId })
  expect(refused.ok).toBe(false)
  expect(refused.error.code).toBe('not_member')

  expect(
    (await call(alice, 'POST', `/api/chats/${chatId}/members`, { userIds: [carol.user._id] }))
      .status
  ).toBe(200)
  await barrier(bob.socket)
  const added = { chatId, actorId: alice.user._id, userIds: [carol.user._id] }
  expect(members(bob, 'chat-members-added')).toEqual([added])
  expect(members(alice, 'chat-members-added')).toEqual([added])
  // Carol was not in the room yet: her own sockets were told to fetch the chat.
  await barrier(carol.socket)
  expect(carol.got('added-to-chat')).toEqual([{ chatId }])
  expect(members(carol, 'chat-members-added')).toEqual([])

  expect((await ask(carol.socket, 'join-private-chat', { chatId })).ok).toBe(true)
  const gone = await call(alice, 'DELETE', `/api/chats/${chatId}/members/${carol.user._id}`)
  expect(gone.status).toBe(200)
  await barrier(bob.socket)
  const removed = { chatId, actorId: alice.user._id, userIds: [carol.user._id] }
  expect(members(bob, 'chat-members-removed')).toEqual([removed])
  await barrier(carol.socket)
  expect(carol.got('removed-from-chat')).toEqual([{ chatId }])

  // Bob leaves: actorId is his own.
  expect((await call(bob, 'POST', `/api/chats/${chatId}/leave`)).status).toBe(204)
  await barrier(alice.socket)
  expect(members(alice, 'chat-members-removed')).toEqual([
    removed,
    { chatId, actorId: bob.user._id, userIds: [bob.user._id] },
  ])

  // Dave, in another chat and refused this one, heard none of it.
  await barrier(dave.socket)
  expect(members(dave, 'chat-members-added')).toEqual([])
  expect(members(dave, 'chat-members-removed')).toEqual([])
})

test('a refused change, or one that changed nothing, is not announced', async () => {
  const { alice, bob, carol, chatId } = await aliceBobAndCarol()
  expect((await ask(alice.socket, 'join-private-chat', { chatId })).ok).toBe(true)

  // Wrong user: a plain member may not add or remove; an outsider is not a member at all.
  const byMember = await call(bob, 'POST', `/api/chats/${chatId}/members`, {
    userIds: [carol.user._id],
  })
  expect([byMember.status, byMember.body.error.code]).toEqual([403, 'forbidden'])
  const byOutsider = await call(carol, 'POST', `/api/chats/${chatId}/members`, {
    userIds: [carol.user._id],
  })
  expect([byOutsider.status, byOutsider.body.error.code]).toEqual([403, 'not_member'])
  const removeByMember = await call(bob, 'DELETE', `/api/chats/${chatId}/members/${alice.user._id}`)
  expect(removeByMember.status).toBe(403)
  // Wrong room: a chat that does not exist.
  const noChat = await call(alice, 'POST', '/api/chats/0123456789abcdef01234567/members', {
    userIds: [carol.user._id],
  })
  expect(noChat.status).toBe(404)
  // Bad payload: not a list, an unknown user, nobody to remove.
  const notList = await call(alice, 'POST', `/api/chats/${chatId}/members`, {
    userIds: carol.user._id,
  })
  expect([notList.status, notList.body.error.code]).toEqual([400, 'invalid_input'])
  const unknown = await call(alice, 'POST', `/api/chats/${chatId}/members`, {
    userIds: ['0123456789abcdef01234567'],
  })
  expect(unknown.status).toBe(404)
  const notMember = await call(alice, 'DELETE', `/api/chats/${chatId}/members/${carol.user._id}`)
  expect(notMember.status).toBe(404)
  // Adding someone who is a member already changes nothing.
  const again = await call(alice, 'POST', `/api/chats/${chatId}/members`, {
    userIds: [bob.user._id],
  })
  expect(again.status).toBe(200)

  await barrier(alice.socket)
  expect(members(alice, 'chat-members-added')).toEqual([])
  expect(members(alice, 'chat-members-removed')).toEqual([])
})

test('a member who was away gets the membership changes replayed; a removed one gets nothing more', async () => {
  const { alice, bob, carol, chatId } = await aliceBobAndCarol()
  for (const member of [alice, bob]) {
    expect((await ask(member.socket, 'join-private-chat', { chatId })).ok).toBe(true)
  }
  await Promise.all([joinCity(alice), joinCity(bob)])

  await drop(bob, alice)
  expect(
    (await call(alice, 'POST', `/api/chats/${chatId}/members`, { userIds: [carol.user._id] }))
      .status
  ).toBe(200)
  expect(
    (await call(alice, 'DELETE', `/api/chats/${chatId}/members/${carol.user._id}`)).status
  ).toBe(200)
  const replayed = (await recover(bob)).filter(([event]) =>
    String(event).startsWith('chat-members')
  )
  expect(replayed).toEqual([
    ['chat-members-added', { chatId, actorId: alice.user._id, userIds: [carol.user._id] }],
    ['chat-members-removed', { chatId, actorId: alice.user._id, userIds: [carol.user._id] }],
  ])

  // Bob is removed while away: resuming, he gets nothing more of the chat, his own removal included.
  await drop(bob, alice)
  expect((await call(alice, 'DELETE', `/api/chats/${chatId}/members/${bob.user._id}`)).status).toBe(
    200
  )
  expect(
    (await call(alice, 'POST', `/api/chats/${chatId}/members`, { userIds: [carol.user._id] }))
      .status
  ).toBe(200)
  const after = await recover(bob)
  expect(after.filter(([event]) => String(event).startsWith('chat-members'))).toEqual([])
})
