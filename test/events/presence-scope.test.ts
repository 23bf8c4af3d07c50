/** @module PRESENCE_SCOPE=shared: `user-offline` reaches only the sockets sharing a room with the user, each once. */
import { afterEach, expect, test } from 'bun:test'
import {
  ask,
  barrier,
  type ChatClient,
  connectAs,
  createPrivateChat,
  joinCity,
  once,
  trackClients,
} from '../helpers/chat-client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer | undefined
const clients = trackClients()

afterEach(async () => {
  clients.disconnectAll()
  await server?.stop()
})

const offlineOf = (client: ChatClient, userId: string) =>
  client.got<{ userId: string }>('user-offline').filter((notice) => notice.userId === userId)

async function joinChat(client: ChatClient, chatId: string): Promise<void> {
  const ack = await ask(client.socket, 'join-private-chat', { chatId })
  if (!ack.ok) throw new Error(`join failed: ${JSON.stringify(ack)}`)
}

test('shared: a city and a private chat hear it, a socket in both hears it once, others nothing', async () => {
  server = await startServer({ PRESENCE_SCOPE: 'shared' })
  const url = server.url
  const doomed = await clients.user(url)
  const inCity = await clients.user(url)
  const inBoth = await clients.user(url)
  const elsewhere = await clients.user(url)
  const idle = await clients.user(url)
  const chatId = await createPrivateChat(url, doomed, [inBoth])
  await joinCity(doomed, 'mumbai')
  await joinChat(doomed, chatId)
  await joinCity(inCity, 'mumbai')
  await joinCity(inBoth, 'mumbai')
  await joinChat(inBoth, chatId)
  await joinCity(elsewhere, 'delhi')

  const heard = [once<any>(inCity.socket, 'user-offline'), once<any>(inBoth.socket, 'user-offline')]
  doomed.socket.disconnect()
  for (const notice of await Promise.all(heard)) {
    expect(notice).toEqual({
      userId: doomed.user._id,
      username: doomed.user.username,
      lastSeen: expect.any(String),
    })
  }
  // One emit reached every target: after a barrier on each, nothing more is on its way.
  await Promise.all([inBoth, elsewhere, idle].map((c) => barrier(c.socket)))
  expect(offlineOf(inBoth, doomed.user._id)).toHaveLength(1)
  expect(offlineOf(elsewhere, doomed.user._id)).toEqual([])
  expect(offlineOf(idle, doomed.user._id)).toEqual([])
  // The count is still everyone's.
  expect(await ask(idle.socket, 'get-online-count')).toEqual({ ok: true, count: 4 })
})

test('shared: the rooms of every tab that dropped within the grace are told', async () => {
  server = await startServer({ PRESENCE_SCOPE: 'shared', PRESENCE_GRACE: '300ms' })
  const url = server.url
  const doomed = await clients.user(url)
  const inDelhi = await clients.user(url)
  const inMumbai = await clients.user(url)
  const idle = await clients.user(url)
  const tab = clients.track(await connectAs(url, doomed))
  await joinCity(tab, 'delhi')
  await joinCity(doomed, 'mumbai')
  await joinCity(inDelhi, 'delhi')
  await joinCity(inMumbai, 'mumbai')

  const heard = [
    once<any>(inDelhi.socket, 'user-offline'),
    once<any>(inMumbai.socket, 'user-offline'),
  ]
  tab.socket.disconnect()
  doomed.socket.disconnect()
  expect((await Promise.all(heard)).map((n) => n.userId)).toEqual([
    doomed.user._id,
    doomed.user._id,
  ])
  await barrier(idle.socket)
  expect(offlineOf(idle, doomed.user._id)).toEqual([])
})

test('shared: a user in no room goes offline unheard; all (the default) tells everyone', async () => {
  server = await startServer({ PRESENCE_SCOPE: 'shared' })
  const loner = await clients.user(server.url)
  const watcher = await clients.user(server.url)
  await joinCity(watcher, 'mumbai')
  const alone = new Promise<void>((resolve) =>
    watcher.socket.on('online-users', (n: number) => n === 1 && resolve())
  )
  loner.socket.disconnect()
  await alone
  await barrier(watcher.socket)
  expect(offlineOf(watcher, loner.user._id)).toEqual([])
  clients.disconnectAll()
  await server.stop()

  server = await startServer()
  const gone = await clients.user(server.url)
  const stranger = await clients.user(server.url)
  await joinCity(gone, 'mumbai')
  await joinCity(stranger, 'delhi')
  const heard = once<any>(stranger.socket, 'user-offline')
  gone.socket.disconnect()
  expect((await heard).userId).toBe(gone.user._id)
})
