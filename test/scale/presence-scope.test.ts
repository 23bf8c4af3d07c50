/**
 * @module PRESENCE_SCOPE=shared across two nodes on one Redis: `user-offline` reaches the sockets
 * sharing a room with the user on either node, each once, and no one else; a dead node's users too.
 */
import { describe, expect, test } from 'bun:test'
import { registerUser } from '../helpers/api.ts'
import {
  ask,
  barrier,
  type ChatClient,
  connectAs,
  createPrivateChat,
  joinCity,
  once,
} from '../helpers/chat-client.ts'
import { SKIP_REASON, useTwoNodes } from './cluster.ts'

const offlineOf = (client: ChatClient, userId: string) =>
  client.got<{ userId: string }>('user-offline').filter((notice) => notice.userId === userId)

describe.skipIf(!!SKIP_REASON)('user-offline with PRESENCE_SCOPE=shared on two nodes', () => {
  const { nodes, track } = useTwoNodes(['scope-a', 'scope-b'], { PRESENCE_SCOPE: 'shared' })
  const on = async (node: number) =>
    track(await connectAs(nodes[node]?.url ?? '', await registerUser(nodes[0]?.url ?? '')))

  test('the rooms hear it on both nodes, a socket in two of them once, others nothing', async () => {
    const doomed = await on(0)
    const sameNode = await on(0)
    const inBoth = await on(1)
    const elsewhere = await on(1)
    const chatId = await createPrivateChat(nodes[0]?.url ?? '', doomed, [inBoth])
    await joinCity(doomed, 'pune')
    expect((await ask(doomed.socket, 'join-private-chat', { chatId })).ok).toBe(true)
    await joinCity(sameNode, 'pune')
    await joinCity(inBoth, 'pune')
    expect((await ask(inBoth.socket, 'join-private-chat', { chatId })).ok).toBe(true)
    await joinCity(elsewhere, 'kolkata')

    const heard = [sameNode, inBoth].map((c) => once<any>(c.socket, 'user-offline'))
    doomed.socket.disconnect()
    expect((await Promise.all(heard)).map((n) => n.userId)).toEqual([
      doomed.user._id,
      doomed.user._id,
    ])
    // Node b delivered the relayed emit to its sockets at once: a barrier after it proves the rest.
    await Promise.all([inBoth, elsewhere].map((c) => barrier(c.socket)))
    expect(offlineOf(inBoth, doomed.user._id)).toHaveLength(1)
    expect(offlineOf(elsewhere, doomed.user._id)).toEqual([])
  })

  test("a dead node's user is announced to the rooms it held there only", async () => {
    const doomed = await on(1)
    const inCity = await on(0)
    const elsewhere = await on(0)
    await joinCity(doomed, 'jaipur')
    await joinCity(inCity, 'jaipur')
    await joinCity(elsewhere, 'ahmedabad')
    const heard = new Promise<any>((resolve) =>
      inCity.socket.on('user-offline', (n: any) => n.userId === doomed.user._id && resolve(n))
    )
    await nodes[1]?.kill()
    expect((await heard).username).toBe(doomed.user.username)
    await barrier(elsewhere.socket)
    expect(offlineOf(elsewhere, doomed.user._id)).toEqual([])
  }, 20_000)
})
