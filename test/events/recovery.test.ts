/**
 * @module Connection state recovery with the official client: a dropped client, or one whose
 * server restarted, gets every message, edit and delete it missed, in order, exactly once;
 * membership is re-checked; the window and replay bounds hold; a pid is not transferable.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { SignJWT } from 'jose'
import { api } from '../helpers/api.ts'
import {
  ask,
  barrier,
  connectAs,
  createPrivateChat,
  joinCity,
  once,
  trackClients,
} from '../helpers/chat-client.ts'
import { wsConnect } from '../helpers/realtime.ts'
import { drop, reconnect, recover } from '../helpers/recovery.ts'
import { restartableServer, startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer | undefined
const clients = trackClients()
const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  clients.disconnectAll()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await server?.stop()
  server = undefined
})

const user = (url: string, options = {}) => clients.user(url, options)

describe('drop and restore mid-conversation', () => {
  test('every missed message, edit and delete arrives once, in order, then live again', async () => {
    server = await startServer()
    const [alice, bob] = [await user(server.url), await user(server.url)]
    await Promise.all([joinCity(alice), joinCity(bob)])
    const first = await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content: 'one' })
    await barrier(alice.socket)
    const sid = alice.socket.id

    await drop(alice, bob)
    const sent = []
    for (const content of ['two', 'three', 'four']) {
      sent.push(await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content }))
    }
    const edited = await ask(bob.socket, 'edit-city-message', {
      cityId: 'mumbai',
      messageId: sent[0].message._id,
      content: 'two (edited)',
    })
    await ask(bob.socket, 'delete-city-message', {
      cityId: 'mumbai',
      messageId: sent[1].message._id,
    })
    // REST writes are logged the same way.
    const viaRest = await api(server.url, 'POST', '/api/cities/mumbai/messages', {
      token: bob.accessToken,
      body: { content: 'five' },
    })

    const replayed = await recover(alice)
    expect(alice.socket.id).toBe(sid)
    // A missed message is replayed as it is now (the log row names it); its edit and delete follow.
    expect(replayed).toEqual([
      ['new-city-message', edited.message],
      ['new-city-message', { ...sent[1].message, content: '', is_deleted: true }],
      ['new-city-message', sent[2].message],
      ['city-message-edited', edited.message],
      ['city-message-deleted', { messageId: sent[1].message._id, cityId: 'mumbai' }],
      ['new-city-message', viaRest.body.message],
      ['heartbeat-ack', expect.anything()],
    ])
    // Still in the room: live delivery continues, and nothing came twice.
    const live = once<any>(alice.socket, 'new-city-message')
    const six = await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content: 'six' })
    expect((await live)._id).toBe(six.message._id)
    const ids = alice.got('new-city-message').map((m) => m._id)
    expect(ids).toEqual([
      first.message._id,
      ...sent.map((s) => s.message._id),
      viaRest.body.message._id,
      six.message._id,
    ])
  })

  test('polling clients recover too', async () => {
    server = await startServer()
    const alice = await user(server.url, { transports: ['polling'] })
    const bob = await user(server.url)
    await Promise.all([joinCity(alice), joinCity(bob)])
    await drop(alice, bob)
    const missed = await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content: 'm' })
    await reconnect(alice.socket)
    expect(alice.socket.recovered).toBe(true)
    await barrier(alice.socket)
    expect(alice.got('new-city-message')).toEqual([missed.message])
  })

  test('a client that missed nothing resumes with nothing replayed', async () => {
    server = await startServer()
    const [alice, bob] = [await user(server.url), await user(server.url)]
    await Promise.all([joinCity(alice), joinCity(bob)])
    await drop(alice, bob)
    expect((await recover(alice)).map(([event]) => event)).toEqual(['heartbeat-ack'])
  })

  test('a user removed from a private chat while away gets nothing from it', async () => {
    server = await startServer()
    const [alice, bob] = [await user(server.url), await user(server.url)]
    const chatId = await createPrivateChat(server.url, bob, [alice])
    for (const member of [alice, bob]) await ask(member.socket, 'join-private-chat', { chatId })
    await Promise.all([joinCity(alice), joinCity(bob)])
    await drop(alice, bob)
    const removed = await api(
      server.url,
      'DELETE',
      `/api/chats/${chatId}/members/${alice.user._id}`,
      {
        token: bob.accessToken,
      }
    )
    expect(removed.status).toBeLessThan(300)
    await ask(bob.socket, 'send-private-message', { chatId, content: 'secret' })
    const city = await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content: 'public' })

    await reconnect(alice.socket)
    expect(alice.socket.recovered).toBe(true)
    await barrier(alice.socket)
    expect(alice.got('new-private-message')).toEqual([])
    expect(alice.got('new-city-message')).toEqual([city.message])
    const again = await ask(bob.socket, 'send-private-message', { chatId, content: 'still secret' })
    expect(again.ok).toBe(true)
    await barrier(alice.socket)
    expect(alice.got('new-private-message')).toEqual([])
  })
})

describe('bounds', () => {
  test('more missed events than RECOVERY_MAX_EVENTS: a fresh connection instead', async () => {
    server = await startServer({ RECOVERY_MAX_EVENTS: 2 })
    const [alice, bob] = [await user(server.url), await user(server.url)]
    await Promise.all([joinCity(alice), joinCity(bob)])
    const sid = alice.socket.id
    await drop(alice, bob)
    for (const content of ['a', 'b', 'c']) {
      await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content })
    }
    await reconnect(alice.socket)
    expect(alice.socket.recovered).toBe(false)
    expect(alice.socket.id).not.toBe(sid)
    await barrier(alice.socket)
    expect(alice.got('new-city-message')).toEqual([])
    // Not in the room any more: the client rejoins and reloads history over REST.
    const history = await api(server.url, 'GET', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
    })
    expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual([
      'a',
      'b',
      'c',
    ])
  })

  test('after RECOVERY_WINDOW the session is gone', async () => {
    server = await startServer({ RECOVERY_WINDOW: '300ms' })
    const [alice, bob] = [await user(server.url), await user(server.url)]
    await Promise.all([joinCity(alice), joinCity(bob)])
    await drop(alice, bob)
    // The bound is a duration: only letting it pass shows it.
    await Bun.sleep(400)
    await reconnect(alice.socket)
    expect(alice.socket.recovered).toBe(false)
  })

  test('RECOVERY_WINDOW=0 turns recovery off: CONNECT carries no pid', async () => {
    server = await startServer({ RECOVERY_WINDOW: '0' })
    const [alice, bob] = [await user(server.url), await user(server.url)]
    await Promise.all([joinCity(alice), joinCity(bob)])
    expect((alice.socket as unknown as { _pid?: string })._pid).toBeUndefined()
    await drop(alice, bob)
    await reconnect(alice.socket)
    expect(alice.socket.recovered).toBeFalsy()
  })

  test("another user cannot resume someone's session with its pid and offset", async () => {
    server = await startServer()
    const [alice, bob] = [await user(server.url), await user(server.url)]
    await Promise.all([joinCity(alice), joinCity(bob)])
    const pid = (alice.socket as unknown as { _pid: string })._pid
    const sid = alice.socket.id
    await drop(alice, bob)
    const thief = await wsConnect(
      server.url,
      JSON.stringify({ token: bob.accessToken, pid, offset: '0' })
    )
    thief.ws.close()
    // The refused attempt used the session up; alice must not get it either.
    await reconnect(alice.socket)
    expect(alice.socket.recovered).toBe(false)
    expect(alice.socket.id).not.toBe(sid)
  })
})

describe('restart', () => {
  test('the server restarts mid-conversation: rooms and missed messages are recovered', async () => {
    const restartable = restartableServer()
    cleanups.push(restartable.remove)

    const before = await restartable.boot()
    const alice = await user(before.url)
    const bob = await user(before.url)
    await Promise.all([joinCity(alice), joinCity(bob)])
    const first = await ask(bob.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'before',
    })
    await barrier(alice.socket)
    const aliceGone = once(alice.socket, 'disconnect')
    const bobGone = once(bob.socket, 'disconnect')
    await restartable.shutdown(before)
    expect(await aliceGone).toBe('transport close')
    await bobGone

    const after = await restartable.boot()
    cleanups.push(() => restartable.shutdown(after))
    // The clients reach the new process at a new address, as behind a load balancer. (Reusing
    // the port in one Bun process leaves socket.io-client's reconnect hanging; test/main.test.ts
    // restarts a real process on the same port.)
    for (const client of [alice, bob])
      (client.socket.io as unknown as { uri: string }).uri = after.url
    // Bob is back first and talks while alice is still away.
    await reconnect(bob.socket)
    expect(bob.socket.recovered).toBe(true)
    const missed = await ask(bob.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'during',
    })
    const edited = await ask(bob.socket, 'edit-city-message', {
      cityId: 'mumbai',
      messageId: first.message._id,
      content: 'before (edited)',
    })
    expect(await recover(alice)).toEqual([
      ['new-city-message', missed.message],
      ['city-message-edited', edited.message],
      ['heartbeat-ack', expect.anything()],
    ])
    const live = once<any>(alice.socket, 'new-city-message')
    const next = await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content: 'live' })
    expect((await live)._id).toBe(next.message._id)
  })
})

describe('token expiry', () => {
  test('a client suspended for an expired token resumes with a refreshed one', async () => {
    const secret = 'recovery-test-secret-0123456789-abcdefghij'
    server = await startServer({ JWT_SECRET: secret })
    const sign = async (userId: string, inMs: number) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuer('mycommunity')
        .setExpirationTime(Math.ceil((Date.now() + inMs) / 1000))
        .sign(new TextEncoder().encode(secret))
    const registered = await user(server.url)
    registered.socket.disconnect()
    const alice = await connectAs(server.url, {
      ...registered,
      accessToken: await sign(registered.user._id, 500),
    })
    clients.track(alice)
    const bob = await user(server.url)
    await Promise.all([joinCity(alice), joinCity(bob)])
    const expired = once<any>(alice.socket, 'error')
    const gone = once(alice.socket, 'disconnect')
    expect((await expired).message).toBe('token expired')
    expect(await gone).toBe('io server disconnect')
    const missed = await ask(bob.socket, 'send-city-message', { cityId: 'mumbai', content: 'm' })
    alice.socket.auth = { token: await sign(registered.user._id, 60_000) }
    await reconnect(alice.socket)
    expect(alice.socket.recovered).toBe(true)
    await barrier(alice.socket)
    expect(alice.got('new-city-message')).toEqual([missed.message])
  })
})
