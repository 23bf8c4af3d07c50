/** @module REST profiles and cities: read, look up, search, update own; city list and detail. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
let alice: RegisteredUser
let bob: RegisteredUser

beforeEach(async () => {
  server = await startServer()
  alice = await registerUser(server.url, { full_name: 'Alice Wonder' })
  bob = await registerUser(server.url, { full_name: 'Bob 100% Builder' })
})
afterEach(() => server.stop())

describe('users', () => {
  test('look up by id or username answers the public projection', async () => {
    for (const ref of [bob.user._id, bob.user.username, bob.user.username.toUpperCase()]) {
      const res = await api(server.url, 'GET', `/api/users/${ref}`, { token: alice.accessToken })
      expect(res.status).toBe(200)
      expect(res.body.user).toEqual({
        _id: bob.user._id,
        username: bob.user.username,
        full_name: 'Bob 100% Builder',
        profile_photo_url: `/api/media/avatars/${bob.user._id}`,
        last_seen: null,
      })
    }
    expect(
      (await api(server.url, 'GET', '/api/users/nobody_at_all', { token: alice.accessToken }))
        .status
    ).toBe(404)
    expect(
      (await api(server.url, 'GET', '/api/users/!!', { token: alice.accessToken })).status
    ).toBe(400)
    expect((await api(server.url, 'GET', `/api/users/${bob.user._id}`)).status).toBe(401)
  })

  test('search matches username or full name; % and _ are literal; limit applies', async () => {
    const byName = await api(server.url, 'GET', '/api/users?search=wonder', {
      token: bob.accessToken,
    })
    expect(byName.body.users.map((u: any) => u._id)).toEqual([alice.user._id])
    const literal = await api(
      server.url,
      'GET',
      `/api/users?search=${encodeURIComponent('100%')}`,
      {
        token: alice.accessToken,
      }
    )
    expect(literal.body.users.map((u: any) => u._id)).toEqual([bob.user._id])
    const percentOnly = await api(
      server.url,
      'GET',
      `/api/users?search=${encodeURIComponent('%')}`,
      {
        token: alice.accessToken,
      }
    )
    expect(percentOnly.body.users.map((u: any) => u._id)).toEqual([bob.user._id])
    const limited = await api(server.url, 'GET', '/api/users?limit=1', { token: alice.accessToken })
    expect(limited.body.users).toHaveLength(1)
    expect(limited.body.users[0].email).toBeUndefined()
    expect(
      (await api(server.url, 'GET', '/api/users?limit=-1', { token: alice.accessToken })).status
    ).toBe(400)
  })

  test('PATCH /api/users/me updates only your own profile, validated', async () => {
    const res = await api(server.url, 'PATCH', '/api/users/me', {
      token: alice.accessToken,
      body: { full_name: 'Alice W.', profile_photo_url: 'https://img.example.test/a.jpg' },
    })
    expect(res.status).toBe(200)
    expect(res.body.user).toMatchObject({
      full_name: 'Alice W.',
      profile_photo_url: 'https://img.example.test/a.jpg',
    })
    const me = await api(server.url, 'GET', '/api/users/me', { token: alice.accessToken })
    expect(me.body.user.full_name).toBe('Alice W.')
    const cleared = await api(server.url, 'PATCH', '/api/users/me', {
      token: alice.accessToken,
      body: { profile_photo_url: null },
    })
    // Cleared: the generated default avatar, never null.
    expect(cleared.body.user.profile_photo_url).toBe(`/api/media/avatars/${alice.user._id}`)
    for (const body of [
      {},
      { profile_photo_url: 'ftp://x' },
      { full_name: '' },
      { email: 'new@example.test' },
    ]) {
      const bad = await api(server.url, 'PATCH', '/api/users/me', {
        token: alice.accessToken,
        body,
      })
      expect(bad.status).toBe(400)
    }
  })
})

describe('cities', () => {
  test('the seeded list has at least 20 real cities including mumbai', async () => {
    const res = await api(server.url, 'GET', '/api/cities', { token: alice.accessToken })
    expect(res.status).toBe(200)
    expect(res.body.cities.length).toBeGreaterThanOrEqual(20)
    expect(res.body.cities).toContainEqual({
      _id: 'mumbai',
      name: 'Mumbai',
      country: 'India',
      unreadCount: null,
      mentionCount: 0,
      archived: false,
      slowModeSeconds: 0,
      canModerate: false,
      retentionDays: null,
    })
  })

  test('one city by slug; unknown is 404; bad slug is 400; needs auth', async () => {
    const res = await api(server.url, 'GET', '/api/cities/mumbai', { token: alice.accessToken })
    expect(res.body.city.name).toBe('Mumbai')
    expect(
      (await api(server.url, 'GET', '/api/cities/atlantis', { token: alice.accessToken })).status
    ).toBe(404)
    expect(
      (await api(server.url, 'GET', '/api/cities/NOPE_', { token: alice.accessToken })).status
    ).toBe(400)
    expect((await api(server.url, 'GET', '/api/cities')).status).toBe(401)
  })
})
