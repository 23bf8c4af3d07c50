/** @module REST private chats: create, list with last message and unread count, members-only, member management, leave, read. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
let alice: RegisteredUser
let bob: RegisteredUser
let carol: RegisteredUser

beforeEach(async () => {
  server = await startServer()
  ;[alice, bob, carol] = (await Promise.all([1, 2, 3].map(() => registerUser(server.url)))) as [
    RegisteredUser,
    RegisteredUser,
    RegisteredUser,
  ]
})
afterEach(() => server.stop())

async function createChat(owner: RegisteredUser, members: RegisteredUser[], name = 'Trip') {
  const res = await api(server.url, 'POST', '/api/chats', {
    token: owner.accessToken,
    body: { name, memberIds: members.map((m) => m.user._id) },
  })
  expect(res.status).toBe(201)
  return res.body.chat
}

describe('create and read', () => {
  test('creator is owner, others are members', async () => {
    const chat = await createChat(alice, [bob])
    expect(chat._id).toMatch(/^[0-9a-f]{24}$/)
    expect(chat.name).toBe('Trip')
    const roles = Object.fromEntries(chat.members.map((m: any) => [m.user._id, m.role]))
    expect(roles).toEqual({ [alice.user._id]: 'owner', [bob.user._id]: 'member' })
    expect(chat.members[0].user.email).toBeUndefined()
  })

  test('refuses unknown members (404), no other member (400), bad ids (400)', async () => {
    const unknown = await api(server.url, 'POST', '/api/chats', {
      token: alice.accessToken,
      body: { memberIds: ['0123456789abcdef01234567'] },
    })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.details.userIds).toEqual(['0123456789abcdef01234567'])
    const alone = await api(server.url, 'POST', '/api/chats', {
      token: alice.accessToken,
      body: { memberIds: [alice.user._id] },
    })
    expect(alone.status).toBe(400)
    const bad = await api(server.url, 'POST', '/api/chats', {
      token: alice.accessToken,
      body: { memberIds: ['x'] },
    })
    expect(bad.status).toBe(400)
  })

  test('members only: a non-member gets 403 not_member for read, history, send and mark read', async () => {
    const chat = await createChat(alice, [bob])
    const token = carol.accessToken
    for (const [method, path, body] of [
      ['GET', `/api/chats/${chat._id}`, undefined],
      ['GET', `/api/chats/${chat._id}/messages`, undefined],
      ['POST', `/api/chats/${chat._id}/messages`, { content: 'let me in' }],
      ['POST', `/api/chats/${chat._id}/read`, undefined],
    ] as const) {
      const res = await api(server.url, method, path, { token, body })
      expect(res.status).toBe(403)
      expect(res.body.error.code).toBe('not_member')
    }
    expect(
      (await api(server.url, 'GET', `/api/chats/${chat._id}`, { token: bob.accessToken })).status
    ).toBe(200)
  })

  test('an unknown chat is 404', async () => {
    const res = await api(server.url, 'GET', '/api/chats/0123456789abcdef01234567', {
      token: alice.accessToken,
    })
    expect(res.status).toBe(404)
  })
})

describe('list mine', () => {
  test('lists my chats with last message and unread count; mark read resets it', async () => {
    const chat = await createChat(alice, [bob])
    await createChat(carol, [alice], 'Other')
    for (const content of ['one', 'two']) {
      await api(server.url, 'POST', `/api/chats/${chat._id}/messages`, {
        token: alice.accessToken,
        body: { content },
      })
    }
    const bobList = await api(server.url, 'GET', '/api/chats', { token: bob.accessToken })
    expect(bobList.status).toBe(200)
    expect(bobList.body.chats).toHaveLength(1)
    expect(bobList.body.chats[0].last_message.content).toBe('two')
    expect(bobList.body.chats[0].unreadCount).toBe(2)

    const aliceList = await api(server.url, 'GET', '/api/chats', { token: alice.accessToken })
    expect(aliceList.body.chats).toHaveLength(2)
    // Most recently active first; your own messages are never unread.
    expect(aliceList.body.chats[0]._id).toBe(chat._id)
    expect(aliceList.body.chats[0].unreadCount).toBe(0)
    expect(aliceList.body.chats[1].last_message).toBeNull()

    const read = await api(server.url, 'POST', `/api/chats/${chat._id}/read`, {
      token: bob.accessToken,
    })
    expect(read.status).toBe(200)
    expect(read.body).toEqual({
      chatId: chat._id,
      userId: bob.user._id,
      readAt: expect.stringMatching(/Z$/),
      lastReadMessageId: bobList.body.chats[0].last_message._id,
    })
    const after = await api(server.url, 'GET', '/api/chats', { token: bob.accessToken })
    expect(after.body.chats[0].unreadCount).toBe(0)
    await api(server.url, 'POST', `/api/chats/${chat._id}/messages`, {
      token: alice.accessToken,
      body: { content: 'three' },
    })
    const later = await api(server.url, 'GET', '/api/chats', { token: bob.accessToken })
    expect(later.body.chats[0].unreadCount).toBe(1)
  })
})

describe('members', () => {
  test('owner adds and removes; plain members may not', async () => {
    const chat = await createChat(alice, [bob])
    const byMember = await api(server.url, 'POST', `/api/chats/${chat._id}/members`, {
      token: bob.accessToken,
      body: { userIds: [carol.user._id] },
    })
    expect(byMember.status).toBe(403)
    expect(byMember.body.error.code).toBe('forbidden')

    const added = await api(server.url, 'POST', `/api/chats/${chat._id}/members`, {
      token: alice.accessToken,
      body: { userIds: [carol.user._id] },
    })
    expect(added.status).toBe(200)
    expect(added.body.chat.members.map((m: any) => m.user._id)).toContain(carol.user._id)
    expect(
      (await api(server.url, 'GET', `/api/chats/${chat._id}`, { token: carol.accessToken })).status
    ).toBe(200)

    const removeByMember = await api(
      server.url,
      'DELETE',
      `/api/chats/${chat._id}/members/${carol.user._id}`,
      {
        token: bob.accessToken,
      }
    )
    expect(removeByMember.status).toBe(403)
    const removeOwner = await api(
      server.url,
      'DELETE',
      `/api/chats/${chat._id}/members/${alice.user._id}`,
      {
        token: alice.accessToken,
      }
    )
    expect(removeOwner.status).toBe(400)
    const removed = await api(
      server.url,
      'DELETE',
      `/api/chats/${chat._id}/members/${carol.user._id}`,
      {
        token: alice.accessToken,
      }
    )
    expect(removed.status).toBe(200)
    expect(
      (await api(server.url, 'GET', `/api/chats/${chat._id}`, { token: carol.accessToken })).status
    ).toBe(403)
    const notThere = await api(
      server.url,
      'DELETE',
      `/api/chats/${chat._id}/members/${carol.user._id}`,
      {
        token: alice.accessToken,
      }
    )
    expect(notThere.status).toBe(404)
  })

  test('adding unknown users is 404; empty list is 400', async () => {
    const chat = await createChat(alice, [bob])
    const unknown = await api(server.url, 'POST', `/api/chats/${chat._id}/members`, {
      token: alice.accessToken,
      body: { userIds: ['0123456789abcdef01234567'] },
    })
    expect(unknown.status).toBe(404)
    const empty = await api(server.url, 'POST', `/api/chats/${chat._id}/members`, {
      token: alice.accessToken,
      body: { userIds: [] },
    })
    expect(empty.status).toBe(400)
  })

  test('leaving: a member loses access; an owner hands over; the last one out deletes the chat', async () => {
    const chat = await createChat(alice, [bob, carol])
    expect(
      (await api(server.url, 'POST', `/api/chats/${chat._id}/leave`, { token: carol.accessToken }))
        .status
    ).toBe(204)
    expect(
      (await api(server.url, 'GET', `/api/chats/${chat._id}`, { token: carol.accessToken })).status
    ).toBe(403)
    expect(
      (await api(server.url, 'POST', `/api/chats/${chat._id}/leave`, { token: carol.accessToken }))
        .status
    ).toBe(403)

    expect(
      (await api(server.url, 'POST', `/api/chats/${chat._id}/leave`, { token: alice.accessToken }))
        .status
    ).toBe(204)
    const left = await api(server.url, 'GET', `/api/chats/${chat._id}`, { token: bob.accessToken })
    expect(left.body.chat.members).toEqual([
      expect.objectContaining({
        role: 'owner',
        user: expect.objectContaining({ _id: bob.user._id }),
      }),
    ])

    expect(
      (await api(server.url, 'POST', `/api/chats/${chat._id}/leave`, { token: bob.accessToken }))
        .status
    ).toBe(204)
    expect(
      (await api(server.url, 'GET', `/api/chats/${chat._id}`, { token: bob.accessToken })).status
    ).toBe(404)
  })
})
