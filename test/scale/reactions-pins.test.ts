/**
 * @module Reactions, threads and pins are replayable room events: a dropped client gets every
 * reaction, thread update, pin and unpin it missed exactly once and in order (one node, after a
 * SIGKILL and restart on the same database, and on two nodes with Redis when the events were made
 * on the other node), and live events cross nodes.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import {
  ask,
  barrier,
  type ChatClient,
  chatUser,
  connectAs,
  joinCity,
  once,
} from '../helpers/chat-client.ts'
import { freePort } from '../helpers/ports.ts'
import { drop, reconnect, recover } from '../helpers/recovery.ts'
import { clusterEnv, type Node, SKIP_REASON, startNode, useTwoNodes } from './cluster.ts'

const EXTRA = new Set([
  'new-city-message',
  'city-message-reaction',
  'city-message-thread-updated',
  'city-message-pinned',
  'city-message-unpinned',
])
const roomEvents = (events: unknown[][]) => events.filter(([name]) => EXTRA.has(name as string))

/**
 * While `away` is gone: a reaction and its removal, a reply (its message, then its thread
 * update), a pin and an unpin. Returns the events `away` must get back, in order.
 */
async function actWhileAway(
  url: string,
  actor: ChatClient,
  moderator: RegisteredUser,
  parent: any
) {
  const as = { token: actor.accessToken }
  const mod = { token: moderator.accessToken }
  const cityId = 'london'
  const react = await ask(actor.socket, 'react-message', {
    messageId: parent._id,
    emoji: '🔥',
    cityId,
  })
  expect(react.ok).toBe(true)
  const heart = await api(url, 'PUT', `/api/messages/${parent._id}/reactions/heart`, as)
  expect(heart.status).toBe(200)
  const undo = await api(
    url,
    'DELETE',
    `/api/messages/${parent._id}/reactions/${encodeURIComponent('🔥')}`,
    as
  )
  expect(undo.body.changed).toBe(true)
  const reply = await ask(actor.socket, 'send-city-message', {
    cityId,
    content: 'a reply',
    reply_to: parent._id,
  })
  const pinned = await api(url, 'PUT', `/api/messages/${parent._id}/pin`, mod)
  expect(pinned.status).toBe(200)
  const unpinned = await api(url, 'DELETE', `/api/messages/${parent._id}/pin`, mod)
  expect(unpinned.body.changed).toBe(true)
  const who = actor.user._id
  const reaction = (emoji: string, action: string, count: number) => [
    'city-message-reaction',
    { messageId: parent._id, emoji, userId: who, action, count, cityId },
  ]
  return [
    reaction('🔥', 'add', 1),
    reaction('❤️', 'add', 1),
    reaction('🔥', 'remove', 0),
    ['new-city-message', reply.message],
    [
      'city-message-thread-updated',
      { messageId: parent._id, reply_count: 1, last_reply_at: reply.message.created_at, cityId },
    ],
    ['city-message-pinned', pinned.body.pin],
    ['city-message-unpinned', { messageId: parent._id, cityId, unpinned_by: moderator.user._id }],
  ]
}

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

test('one node: recovery replays each reaction, thread update, pin and unpin once, also after a SIGKILL and restart', async () => {
  const cluster = clusterEnv(undefined, {
    PORT: String(await freePort()),
    ADMIN_USERNAMES: 'pin_admin',
  })
  cleanups.push(cluster.cleanup)
  let node: Node = await startNode(cluster.env, 'solo')
  cleanups.push(() => node.kill())
  const moderator = await registerUser(node.url, { username: 'pin_admin' })
  const alice = await chatUser(node.url)
  const bob = await chatUser(node.url)
  cleanups.push(
    () => alice.socket.disconnect(),
    () => bob.socket.disconnect()
  )
  for (const c of [alice, bob]) await joinCity(c, 'london')
  const parent = (await ask(bob.socket, 'send-city-message', { cityId: 'london', content: 'p' }))
    .message
  await barrier(alice.socket)

  // A drop: everything missed, once, in order.
  await drop(alice, bob)
  const expected = await actWhileAway(node.url, bob, moderator, parent)
  expect(roomEvents(await recover(alice))).toEqual(expected)

  // A SIGKILL and a restart: alice comes back and gets what bob did meanwhile.
  const gone = [alice, bob].map((c) => once(c.socket, 'disconnect'))
  await node.kill()
  await Promise.all(gone)
  node = await startNode(cluster.env, 'solo')
  await reconnect(bob.socket)
  expect(bob.socket.recovered).toBe(true)
  const again = await actWhileAway(node.url, bob, moderator, parent)
  // Bob's ❤️ is there from before (adding it again announces nothing); the second reply makes 2.
  ;(again[4]?.[1] as { reply_count: number }).reply_count = 2
  again.splice(1, 1)
  expect(roomEvents(await recover(alice))).toEqual(again)
  // What the database says after the restart.
  const history = await api(node.url, 'GET', '/api/cities/london/messages', {
    token: alice.accessToken,
  })
  const stored = history.body.messages.find((m: any) => m._id === parent._id)
  expect(stored).toMatchObject({
    reply_count: 2,
    reactions: [{ emoji: '❤️', count: 1, userIds: [bob.user._id] }],
  })
}, 60_000)

describe.skipIf(SKIP_REASON !== undefined)('two nodes with Redis', () => {
  const { nodes, track } = useTwoNodes(['r1', 'r2'], { ADMIN_USERNAMES: 'pin_admin2' })

  test('live across nodes, and a client of r2 recovers events made on r1 once, in order', async () => {
    const [r1, r2] = nodes as [Node, Node]
    const moderator = await registerUser(r1.url, { username: 'pin_admin2' })
    const alice = track(await chatUser(r2.url))
    const bob = track(await chatUser(r1.url))
    for (const c of [alice, bob]) await joinCity(c, 'london')
    const parent = (await ask(bob.socket, 'send-city-message', { cityId: 'london', content: 'x' }))
      .message
    // Live: a reaction on r1 reaches alice on r2, with the count after it.
    const heard = once<any>(alice.socket, 'city-message-reaction')
    await ask(bob.socket, 'react-message', {
      messageId: parent._id,
      emoji: 'tada',
      cityId: 'london',
    })
    expect(await heard).toMatchObject({ emoji: '🎉', count: 1, userId: bob.user._id })
    // And alice's reaction on r2 makes 2, which bob hears on r1.
    const back = once<any>(bob.socket, 'city-message-reaction')
    await ask(alice.socket, 'react-message', {
      messageId: parent._id,
      emoji: '🎉',
      cityId: 'london',
    })
    expect(await back).toMatchObject({ count: 2, userId: alice.user._id })
    await ask(bob.socket, 'unreact-message', {
      messageId: parent._id,
      emoji: '🎉',
      cityId: 'london',
    })
    await ask(alice.socket, 'unreact-message', {
      messageId: parent._id,
      emoji: '🎉',
      cityId: 'london',
    })
    await barrier(alice.socket)

    // Alice (r2) drops; bob acts on r1; alice recovers on r2 with each event once.
    const witness = track(await connectAs(r2.url, bob))
    await joinCity(witness, 'london')
    await drop(alice, witness)
    const expected = await actWhileAway(r1.url, bob, moderator, parent)
    expect(roomEvents(await recover(alice))).toEqual(expected)
    // Both nodes answer the same pins and reactions.
    for (const url of [r1.url, r2.url]) {
      const pins = await api(url, 'GET', '/api/cities/london/pins', { token: alice.accessToken })
      expect(pins.body.pins).toEqual([])
      const replies = await api(url, 'GET', `/api/messages/${parent._id}/replies`, {
        token: alice.accessToken,
      })
      expect(replies.body.messages.length).toBe(1)
    }
  }, 60_000)
})
