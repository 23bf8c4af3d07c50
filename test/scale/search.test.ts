/**
 * @module Search across two nodes sharing Redis and one database: a message sent over a socket on
 * one node is found from the other, an edit made on the second re-indexes for the first, a
 * removal on one node takes the chat out of the removed member's search on both; and after a
 * node restarts, its search still finds everything.
 */
import { describe, expect, test } from 'bun:test'
import { api, type RegisteredUser } from '../helpers/api.ts'
import { ask, chatUser, createPrivateChat } from '../helpers/chat-client.ts'
import { type Node, SKIP_REASON, startNode, useTwoNodes } from './cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

describe.skipIf(!!SKIP_REASON)('search on two nodes with Redis', () => {
  const { nodes, track } = useTwoNodes(['s1', 's2'])

  const found = async (url: string, who: RegisteredUser, q: string) => {
    const res = await api(url, 'GET', `/api/search?q=${encodeURIComponent(q)}`, {
      token: who.accessToken,
    })
    expect(res.status).toBe(200)
    return res.body.results.map((r: { message: { content: string } }) => r.message.content)
  }

  test('sent on one node, found on the other; edits and removals hold on both; after a restart too', async () => {
    const [s1, s2] = nodes as [Node, Node]
    const alice = track(await chatUser(s1.url))
    const bob = track(await chatUser(s2.url))
    const word = `xnode${Date.now().toString(36)}`
    await ask(alice.socket, 'join-city-chat', { cityId: 'jaipur' })
    const sent = await ask(alice.socket, 'send-city-message', {
      cityId: 'jaipur',
      content: `pink city ${word}`,
    })
    expect(sent.ok).toBe(true)
    expect(await found(s2.url, bob, word)).toEqual([`pink city ${word}`])
    const edit = await api(s2.url, 'PATCH', `/api/messages/${sent.message._id}`, {
      token: alice.accessToken,
      body: { content: `pink city ${word} edited` },
    })
    expect(edit.status).toBe(200)
    expect(await found(s1.url, bob, `${word} edited`)).toEqual([`pink city ${word} edited`])

    const chatId = await createPrivateChat(s1.url, alice, [bob])
    const secret = await api(s1.url, 'POST', `/api/chats/${chatId}/messages`, {
      token: alice.accessToken,
      body: { content: `secret ${word}` },
    })
    expect(secret.status).toBe(201)
    expect(await found(s2.url, bob, `secret ${word}`)).toEqual([`secret ${word}`])
    const removed = await api(s1.url, 'DELETE', `/api/chats/${chatId}/members/${bob.user._id}`, {
      token: alice.accessToken,
    })
    expect(removed.status).toBeLessThan(300)
    for (const url of [s1.url, s2.url]) expect(await found(url, bob, `secret ${word}`)).toEqual([])

    // A restart of s1 on the same database: the index is the database's, so nothing is lost.
    await s1.kill()
    const again = await startNode(s1.env, 's1')
    nodes[0] = again
    expect(await found(again.url, alice, word)).toEqual([
      `secret ${word}`,
      `pink city ${word} edited`,
    ])
    expect(await found(again.url, bob, word)).toEqual([`pink city ${word} edited`])
  })
})
