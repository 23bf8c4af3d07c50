/**
 * @module One socket's events are handled in the order they arrived, on every transport: a
 * long-polling payload carrying several events is answered in that order.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { registerUser } from '../helpers/api.ts'
import { eioHandshake, eioPoll, eioPush } from '../helpers/realtime.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer

beforeEach(async () => {
  server = await startServer()
})

afterEach(async () => {
  await server.stop()
})

/** A raw polling session joined to `/` with a user's token. */
async function pollingUser(): Promise<{ sid: string; userId: string; packets: string[] }> {
  const user = await registerUser(server.url)
  const { sid } = await eioHandshake(server.url)
  await eioPush(server.url, sid, `40${JSON.stringify({ token: user.accessToken })}`)
  const packets: string[] = []
  while (!packets.some((p) => p.startsWith('40{'))) {
    packets.push(...(await eioPoll(server.url, sid)).body.split('\x1e'))
  }
  return { sid, userId: user.user._id, packets }
}

/** Polls until `until` holds for the packets gathered; returns the Socket.IO packets seen. */
async function pollUntil(sid: string, until: (packets: string[]) => boolean): Promise<string[]> {
  const packets: string[] = []
  while (!until(packets)) packets.push(...(await eioPoll(server.url, sid)).body.split('\x1e'))
  return packets
}

const payload = (...packets: unknown[][]) =>
  packets.map(([id, ...event]) => `42${id ?? ''}${JSON.stringify(event)}`).join('\x1e')

test('leave, join and get-city-online-users in one polling payload are answered in order', async () => {
  const { sid, userId } = await pollingUser()
  const pushed = await eioPush(
    server.url,
    sid,
    payload(
      [1, 'leave-city-chat', { cityId: 'mumbai' }],
      [2, 'join-city-chat', { cityId: 'mumbai' }],
      [3, 'get-city-online-users', { cityId: 'mumbai' }]
    )
  )
  expect(pushed.body).toBe('ok')
  const packets = await pollUntil(sid, (seen) => seen.some((p) => p.startsWith('433')))
  const order = packets
    .map((p) => /^4(?:2\["([\w-]+)"|3(\d))/.exec(p))
    .filter((m) => m !== null)
    .map((m) => m[1] ?? `ack ${m[2]}`)
    .filter((name) => name !== 'online-users' && name !== 'user-joined-city')
    // The room's own push of its list (a member joined) may land anywhere after the join.
    .filter((name, i, all) => name !== 'city-online-users' || all[i + 1] === 'ack 3')
  expect(order).toEqual([
    'left-city-chat',
    'ack 1',
    'joined-city-chat',
    'ack 2',
    'city-online-users',
    'ack 3',
  ])
  // Every list this socket heard, asked for or pushed, counts the joiner.
  const lists = packets.filter((p) => p.startsWith('42["city-online-users"'))
  expect(lists.length).toBeGreaterThan(0)
  for (const list of lists) {
    const [, online] = JSON.parse(list.slice(2))
    expect(online.count).toBe(1)
    expect(online.users.map((u: { userId: string }) => u.userId)).toEqual([userId])
  }
})

test('a message sent right behind its join in one payload is accepted, not refused', async () => {
  const { sid } = await pollingUser()
  await eioPush(
    server.url,
    sid,
    payload(
      [1, 'join-city-chat', { cityId: 'delhi' }],
      [2, 'send-city-message', { cityId: 'delhi', content: 'first' }],
      [3, 'send-city-message', { cityId: 'delhi', content: 'second' }],
      [4, 'leave-city-chat', { cityId: 'delhi' }],
      [5, 'send-city-message', { cityId: 'delhi', content: 'too late' }]
    )
  )
  const packets = await pollUntil(sid, (seen) => seen.some((p) => p.startsWith('435')))
  const acks = packets
    .filter((p) => p.startsWith('43'))
    .map((p) => [p[2], JSON.parse(p.slice(3))[0]])
  expect(acks.map(([id, ack]) => [id, ack.ok])).toEqual([
    ['1', true],
    ['2', true],
    ['3', true],
    ['4', true],
    ['5', false],
  ])
  expect(acks[4]?.[1].error.code).toBe('not_member')
  const contents = acks.slice(1, 3).map(([, ack]) => ack.message.content)
  expect(contents).toEqual(['first', 'second'])
})
