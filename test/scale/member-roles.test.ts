/**
 * @module Chat member roles are replayable room events: a dropped member gets each
 * `chat-member-role-changed` it missed once and in order, on one node also after a SIGKILL and a
 * restart on the same database (where the roles are still stored), and on two nodes with Redis
 * when the owner changed them on the other node; live changes cross nodes, and an admin made on
 * one node pins on the other.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { api, type RegisteredUser } from '../helpers/api.ts'
import {
  ask,
  barrier,
  type ChatClient,
  chatUser,
  connectAs,
  createPrivateChat,
  once,
} from '../helpers/chat-client.ts'
import { freePort } from '../helpers/ports.ts'
import { drop, reconnect, recover } from '../helpers/recovery.ts'
import { clusterEnv, type Node, SKIP_REASON, startNode, useTwoNodes } from './cluster.ts'

const EVENT = 'chat-member-role-changed'
const roleEvents = (events: unknown[][]) => events.filter(([name]) => name === EVENT)

const setRole = async (
  url: string,
  owner: RegisteredUser,
  chatId: string,
  userId: string,
  role: string
) => {
  const res = await api(url, 'PUT', `/api/chats/${chatId}/members/${userId}/role`, {
    token: owner.accessToken,
    body: { role },
  })
  expect(res.status).toBe(200)
  return res.body
}

/** Makes bob an admin and back, and carol an admin; the events a member away must get back. */
async function changeWhileAway(
  url: string,
  owner: ChatClient,
  bob: ChatClient,
  carol: ChatClient,
  chatId: string
) {
  const changes: Array<[ChatClient, string]> = [
    [bob, 'admin'],
    [bob, 'member'],
    [carol, 'admin'],
  ]
  for (const [who, role] of changes) await setRole(url, owner, chatId, who.user._id, role)
  return changes.map(([who, role]) => [
    EVENT,
    { chatId, userId: who.user._id, role, changed_by: owner.user._id },
  ])
}

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

test('one node: recovery replays each role change once, also after a SIGKILL and restart', async () => {
  const cluster = clusterEnv(undefined, { PORT: String(await freePort()) })
  cleanups.push(cluster.cleanup)
  let node: Node = await startNode(cluster.env, 'solo')
  cleanups.push(() => node.kill())
  const [owner, bob, carol] = [
    await chatUser(node.url),
    await chatUser(node.url),
    await chatUser(node.url),
  ]
  cleanups.push(...[owner, bob, carol].map((c) => () => c.socket.disconnect()))
  const chatId = await createPrivateChat(node.url, owner, [bob, carol])
  for (const c of [owner, bob, carol]) await ask(c.socket, 'join-private-chat', { chatId })

  await drop(bob, owner, 'user-left-private-chat')
  const expected = await changeWhileAway(node.url, owner, bob, carol, chatId)
  expect(roleEvents(await recover(bob))).toEqual(expected)

  const gone = [owner, bob, carol].map((c) => once(c.socket, 'disconnect'))
  await node.kill()
  await Promise.all(gone)
  node = await startNode(cluster.env, 'solo')
  // The roles were stored: carol is still an admin and pins after the restart.
  const chat = await api(node.url, 'GET', `/api/chats/${chatId}`, { token: bob.accessToken })
  const roles = Object.fromEntries(chat.body.chat.members.map((m: any) => [m.user._id, m.role]))
  expect(roles).toEqual({
    [owner.user._id]: 'owner',
    [bob.user._id]: 'member',
    [carol.user._id]: 'admin',
  })
  const sent = await api(node.url, 'POST', `/api/chats/${chatId}/messages`, {
    token: bob.accessToken,
    body: { content: 'after the restart' },
  })
  const pin = await api(node.url, 'PUT', `/api/messages/${sent.body.message._id}/pin`, {
    token: carol.accessToken,
  })
  expect(pin.status).toBe(200)
  // Owner resumes; bob is still away and recovers what the owner changed after the restart.
  await reconnect(owner.socket)
  expect(owner.socket.recovered).toBe(true)
  const later = await setRole(node.url, owner, chatId, bob.user._id, 'admin')
  expect(later.changed).toBe(true)
  expect(roleEvents(await recover(bob))).toEqual([
    [EVENT, { chatId, userId: bob.user._id, role: 'admin', changed_by: owner.user._id }],
  ])
}, 60_000)

describe.skipIf(SKIP_REASON !== undefined)('two nodes with Redis', () => {
  const { nodes, track } = useTwoNodes(['m1', 'm2'])

  test('live across nodes; a member on m2 recovers changes made on m1 once, in order; an admin made on m1 pins on m2', async () => {
    const [m1, m2] = nodes as [Node, Node]
    const owner = track(await chatUser(m1.url))
    const bob = track(await chatUser(m2.url))
    const carol = track(await chatUser(m2.url))
    const chatId = await createPrivateChat(m1.url, owner, [bob, carol])
    for (const c of [owner, bob, carol]) await ask(c.socket, 'join-private-chat', { chatId })

    const heard = once<any>(carol.socket, EVENT)
    await setRole(m1.url, owner, chatId, bob.user._id, 'admin')
    expect(await heard).toEqual({
      chatId,
      userId: bob.user._id,
      role: 'admin',
      changed_by: owner.user._id,
    })
    const sent = await api(m2.url, 'POST', `/api/chats/${chatId}/messages`, {
      token: carol.accessToken,
      body: { content: 'pinned by the new admin' },
    })
    const pinned = once<any>(owner.socket, 'private-message-pinned')
    const pin = await api(m2.url, 'PUT', `/api/messages/${sent.body.message._id}/pin`, {
      token: bob.accessToken,
    })
    expect(pin.status).toBe(200)
    expect(await pinned).toMatchObject({ pinned_by: bob.user._id, chatId })
    await setRole(m1.url, owner, chatId, bob.user._id, 'member')
    await barrier(bob.socket)

    const witness = track(await connectAs(m2.url, owner))
    await ask(witness.socket, 'join-private-chat', { chatId })
    await drop(bob, witness, 'user-left-private-chat')
    const expected = await changeWhileAway(m1.url, owner, bob, carol, chatId)
    expect(roleEvents(await recover(bob))).toEqual(expected)
    for (const url of [m1.url, m2.url]) {
      const chat = await api(url, 'GET', `/api/chats/${chatId}`, { token: bob.accessToken })
      const admins = chat.body.chat.members.filter((m: any) => m.role === 'admin')
      expect(admins.map((m: any) => m.user._id)).toEqual([carol.user._id])
    }
  }, 60_000)
})
