/**
 * @module Chat member roles over REST and sockets: the owner makes a member an admin and back
 * (`PUT /api/chats/:chatId/members/:userId/role`), the room hears `chat-member-role-changed`
 * live, GET /api/chats/:chatId shows every role, an admin pins and a demoted one no longer does;
 * and the refusals: not the owner, not a member, an unknown chat, a bad role, the owner's own.
 */
import { afterEach, expect, test } from 'bun:test'
import { api, as, type RegisteredUser } from '../helpers/api.ts'
import { ask, barrier, createPrivateChat, once, trackClients } from '../helpers/chat-client.ts'
import { useAdminServer } from '../helpers/server.ts'

const env = useAdminServer('roles_admin', 'roles')
const clients = trackClients()
afterEach(() => clients.disconnectAll())

const setRole = (who: RegisteredUser, chatId: string, userId: string, role: unknown) =>
  api(env.url, 'PUT', `/api/chats/${chatId}/members/${userId}/role`, {
    ...as(who),
    body: { role },
  })

const rolesOf = (chat: any) =>
  Object.fromEntries(chat.members.map((m: any) => [m.user._id, m.role]))

test('the owner promotes and demotes; the room hears each change; the chat views show it', async () => {
  const owner = await clients.user(env.url)
  const bob = await clients.user(env.url)
  const carol = await clients.user(env.url)
  const chatId = await createPrivateChat(env.url, owner, [bob, carol])
  for (const c of [bob, carol]) await ask(c.socket, 'join-private-chat', { chatId })

  const heard = once<any>(carol.socket, 'chat-member-role-changed')
  const promoted = await setRole(owner, chatId, bob.user._id, 'admin')
  expect(promoted.status).toBe(200)
  expect(promoted.body.changed).toBe(true)
  expect(rolesOf(promoted.body.chat)).toEqual({
    [owner.user._id]: 'owner',
    [bob.user._id]: 'admin',
    [carol.user._id]: 'member',
  })
  expect(await heard).toEqual({
    chatId,
    userId: bob.user._id,
    role: 'admin',
    changed_by: owner.user._id,
  })
  // Every member's view says so: the chat, and the list of my chats.
  const seen = await api(env.url, 'GET', `/api/chats/${chatId}`, as(carol))
  expect(rolesOf(seen.body.chat)[bob.user._id]).toBe('admin')
  const mine = await api(env.url, 'GET', '/api/chats', as(bob))
  expect(rolesOf(mine.body.chats.find((c: any) => c._id === chatId))[bob.user._id]).toBe('admin')

  // The same role again changes nothing and announces nothing.
  await barrier(carol.socket)
  const before = carol.got('chat-member-role-changed').length
  const again = await setRole(owner, chatId, bob.user._id, 'admin')
  expect(again.status).toBe(200)
  expect(again.body.changed).toBe(false)
  await barrier(carol.socket)
  expect(carol.got('chat-member-role-changed').length).toBe(before)

  const demoted = once<any>(bob.socket, 'chat-member-role-changed')
  const back = await setRole(owner, chatId, bob.user._id, 'member')
  expect(back.body.changed).toBe(true)
  expect(await demoted).toMatchObject({ userId: bob.user._id, role: 'member' })
  expect(rolesOf(back.body.chat)[bob.user._id]).toBe('member')
})

test('an admin pins; demoted, they may not; an admin adds members', async () => {
  const owner = await clients.user(env.url)
  const bob = await clients.user(env.url)
  const dave = await clients.user(env.url)
  const chatId = await createPrivateChat(env.url, owner, [bob])
  const sent = await api(env.url, 'POST', `/api/chats/${chatId}/messages`, {
    ...as(owner),
    body: { content: 'pin me' },
  })
  const id = sent.body.message._id
  const refused = await api(env.url, 'PUT', `/api/messages/${id}/pin`, as(bob))
  expect(refused.status).toBe(403)
  expect(refused.body.error.code).toBe('forbidden')

  expect((await setRole(owner, chatId, bob.user._id, 'admin')).status).toBe(200)
  expect((await api(env.url, 'PUT', `/api/messages/${id}/pin`, as(bob))).status).toBe(200)
  expect((await api(env.url, 'DELETE', `/api/messages/${id}/pin`, as(bob))).body.changed).toBe(true)
  const added = await api(env.url, 'POST', `/api/chats/${chatId}/members`, {
    ...as(bob),
    body: { userIds: [dave.user._id] },
  })
  expect(added.status).toBe(200)

  expect((await setRole(owner, chatId, bob.user._id, 'member')).status).toBe(200)
  const again = await api(env.url, 'PUT', `/api/messages/${id}/pin`, as(bob))
  expect(again.status).toBe(403)
  expect(again.body.error.code).toBe('forbidden')
})

test('refusals: not the owner (an admin neither), not a member, unknown chat or member, bad role, the owner', async () => {
  const owner = await clients.user(env.url)
  const bob = await clients.user(env.url)
  const carol = await clients.user(env.url)
  const outsider = await clients.user(env.url)
  const chatId = await createPrivateChat(env.url, owner, [bob, carol])
  await ask(carol.socket, 'join-private-chat', { chatId })
  const code = (res: { status: number; body: any }) => [res.status, res.body.error?.code]

  expect(code(await setRole(bob, chatId, carol.user._id, 'admin'))).toEqual([403, 'forbidden'])
  expect((await setRole(owner, chatId, bob.user._id, 'admin')).status).toBe(200)
  // An admin manages members, but only the owner gives roles.
  expect(code(await setRole(bob, chatId, carol.user._id, 'admin'))).toEqual([403, 'forbidden'])
  expect(code(await setRole(bob, chatId, bob.user._id, 'member'))).toEqual([403, 'forbidden'])
  expect(code(await setRole(outsider, chatId, carol.user._id, 'admin'))).toEqual([
    403,
    'not_member',
  ])
  expect(code(await setRole(owner, '0123456789abcdef01234567', bob.user._id, 'admin'))).toEqual([
    404,
    'not_found',
  ])
  expect(code(await setRole(owner, chatId, outsider.user._id, 'admin'))).toEqual([404, 'not_found'])
  for (const role of ['owner', 'moderator', '', 7, null]) {
    expect(code(await setRole(owner, chatId, carol.user._id, role))).toEqual([400, 'invalid_input'])
  }
  expect(code(await setRole(owner, 'not-an-id', carol.user._id, 'admin'))).toEqual([
    400,
    'invalid_input',
  ])
  expect(code(await setRole(owner, chatId, owner.user._id, 'member'))).toEqual([
    400,
    'invalid_input',
  ])
  const anonymous = await api(env.url, 'PUT', `/api/chats/${chatId}/members/${bob.user._id}/role`, {
    body: { role: 'member' },
  })
  expect(anonymous.status).toBe(401)
  // Nothing refused was announced, nor stored.
  await barrier(carol.socket)
  expect(carol.got('chat-member-role-changed').map((e: any) => e.userId)).toEqual([bob.user._id])
  const chat = await api(env.url, 'GET', `/api/chats/${chatId}`, as(owner))
  expect(rolesOf(chat.body.chat)).toEqual({
    [owner.user._id]: 'owner',
    [bob.user._id]: 'admin',
    [carol.user._id]: 'member',
  })
})
