/** @module REST auth: register, login, refresh rotation and reuse detection, logout, me, inactive users. */
import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { api, registerUser } from '../helpers/api.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
beforeEach(async () => {
  // No grace for a rotated token here: reuse revokes at once (test/http/sessions.test.ts has the grace).
  server = await startServer({ REFRESH_REUSE_GRACE: '0' })
})
afterEach(() => server.stop())

describe('register', () => {
  test('creates a user and answers 201 with the contract shape and tokens', async () => {
    const res = await api(server.url, 'POST', '/api/auth/register', {
      body: {
        username: 'Alice_1',
        email: 'Alice@Example.test',
        full_name: 'Alice',
        password: 'password123',
      },
    })
    expect(res.status).toBe(201)
    expect(res.body.user).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      username: 'alice_1',
      full_name: 'Alice',
      email: 'alice@example.test',
      profile_photo_url: expect.stringMatching(/^\/api\/media\/avatars\/[0-9a-f]{24}$/),
      is_active: true,
      email_verified: false,
      role: 'user',
      created_at: expect.stringMatching(/Z$/),
    })
    expect(res.body.user.password_hash).toBeUndefined()
    expect(typeof res.body.accessToken).toBe('string')
    expect(typeof res.body.refreshToken).toBe('string')
  })

  test('refuses a taken username with 409; a taken email answers as if registered, and stores nothing', async () => {
    const first = await registerUser(server.url)
    const sameName = await api(server.url, 'POST', '/api/auth/register', {
      body: {
        username: first.user.username,
        email: 'other@example.test',
        full_name: 'X',
        password: 'password123',
      },
    })
    expect(sameName.status).toBe(409)
    expect(sameName.body.error.code).toBe('conflict')
    const sameEmail = await api(server.url, 'POST', '/api/auth/register', {
      body: {
        username: 'someone_else',
        email: first.user.email.toUpperCase(),
        full_name: 'X',
        password: 'password123',
      },
    })
    expect(sameEmail.status).toBe(201)
    expect(Object.keys(sameEmail.body).sort()).toEqual(['accessToken', 'refreshToken', 'user'])
    expect(sameEmail.body.user.username).toBe('someone_else')
    // Nothing was created: the name is still free, the tokens open nothing, the owner's login works.
    const lookup = await api(server.url, 'GET', '/api/users/someone_else', {
      token: first.accessToken,
    })
    expect(lookup.status).toBe(404)
    const me = await api(server.url, 'GET', '/api/auth/me', { token: sameEmail.body.accessToken })
    expect(me.status).toBe(401)
    const refresh = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: sameEmail.body.refreshToken },
    })
    expect(refresh.status).toBe(401)
    const owner = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: first.user.email, password: first.password },
    })
    expect(owner.status).toBe(200)
  })

  test('validates every field with 400 invalid_input and details', async () => {
    const res = await api(server.url, 'POST', '/api/auth/register', {
      body: { username: 'a', email: 'nope', full_name: '', password: 'short' },
    })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('invalid_input')
    const paths = res.body.error.details.issues.map((i: { path: string }) => i.path)
    expect(paths).toEqual(expect.arrayContaining(['username', 'email', 'full_name', 'password']))
  })

  test('bad JSON is 400 invalid_input', async () => {
    const res = await api(server.url, 'POST', '/api/auth/register', { rawBody: '{"username":' })
    expect(res.status).toBe(400)
    expect(res.body.error).toEqual({
      code: 'invalid_input',
      message: 'request body must be valid JSON',
    })
  })
})

describe('login and me', () => {
  test('logs in by username or email; me answers the user', async () => {
    const alice = await registerUser(server.url)
    for (const login of [alice.user.username, alice.user.email]) {
      const res = await api(server.url, 'POST', '/api/auth/login', {
        body: { login, password: alice.password },
      })
      expect(res.status).toBe(200)
      expect(res.body.user._id).toBe(alice.user._id)
      const me = await api(server.url, 'GET', '/api/auth/me', { token: res.body.accessToken })
      expect(me.status).toBe(200)
      expect(me.body.user.username).toBe(alice.user.username)
    }
  })

  test('wrong password and unknown user are the same 401', async () => {
    const alice = await registerUser(server.url)
    const wrong = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: alice.user.username, password: 'not-the-password' },
    })
    const unknown = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: 'nobody_here', password: 'not-the-password' },
    })
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(wrong.body).toEqual(unknown.body)
  })

  test('me refuses missing, malformed, forged and expired tokens', async () => {
    const alice = await registerUser(server.url)
    expect((await api(server.url, 'GET', '/api/auth/me')).status).toBe(401)
    expect((await api(server.url, 'GET', '/api/auth/me', { token: 'garbage' })).status).toBe(401)
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(alice.user._id)
      .setIssuer('mycommunity')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(40)))
    expect((await api(server.url, 'GET', '/api/auth/me', { token: forged })).status).toBe(401)
    const none = `${btoa('{"alg":"none"}')}.${btoa(JSON.stringify({ sub: alice.user._id }))}.`
    expect((await api(server.url, 'GET', '/api/auth/me', { token: none })).status).toBe(401)
  })

  test('an expired access token is refused', async () => {
    const alice = await registerUser(server.url)
    // The development secret the server generated into its data directory.
    const secret = (await Bun.file(join(server.dataDir, 'jwt-secret')).text()).trim()
    const sign = (exp: number) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(alice.user._id)
        .setIssuer('mycommunity')
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret))
    const now = Math.floor(Date.now() / 1000)
    expect(
      (await api(server.url, 'GET', '/api/auth/me', { token: await sign(now + 60) })).status
    ).toBe(200)
    expect(
      (await api(server.url, 'GET', '/api/auth/me', { token: await sign(now - 60) })).status
    ).toBe(401)
  })
})

describe('refresh tokens', () => {
  test('rotate: each refresh answers a new pair and the new access token works', async () => {
    const alice = await registerUser(server.url)
    const first = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: alice.refreshToken },
    })
    expect(first.status).toBe(200)
    expect(first.body.refreshToken).not.toBe(alice.refreshToken)
    const second = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: first.body.refreshToken },
    })
    expect(second.status).toBe(200)
    expect(
      (await api(server.url, 'GET', '/api/auth/me', { token: second.body.accessToken })).status
    ).toBe(200)
  })

  test('reusing a rotated token revokes the whole family', async () => {
    const alice = await registerUser(server.url)
    const rotated = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: alice.refreshToken },
    })
    expect(rotated.status).toBe(200)
    const replay = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: alice.refreshToken },
    })
    expect(replay.status).toBe(401)
    // The legitimate newest token is dead too: both parties must log in again.
    const victim = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: rotated.body.refreshToken },
    })
    expect(victim.status).toBe(401)
  })

  test('concurrent refreshes with one token: exactly one wins', async () => {
    const alice = await registerUser(server.url)
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        api(server.url, 'POST', '/api/auth/refresh', { body: { refreshToken: alice.refreshToken } })
      )
    )
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
  })

  test('other sessions (families) survive a reuse in one family', async () => {
    const alice = await registerUser(server.url)
    const other = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: alice.user.username, password: alice.password },
    })
    await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: alice.refreshToken },
    })
    await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: alice.refreshToken },
    })
    const res = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: other.body.refreshToken },
    })
    expect(res.status).toBe(200)
  })

  test('expired tokens are deleted as new ones are issued; live ones stay', async () => {
    const shortLived = await startServer({ REFRESH_TOKEN_TTL: '1500ms' })
    const tokenRows = (userId: string) => {
      const sqlite = new Database(join(shortLived.dataDir, 'chat.db'), { readonly: true })
      try {
        const row = sqlite
          .query('SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ?')
          .get(userId) as { n: number }
        return row.n
      } finally {
        sqlite.close()
      }
    }
    try {
      const gone = await registerUser(shortLived.url)
      expect(tokenRows(gone.user._id)).toBe(1)
      await Bun.sleep(1_600)
      // A hundred tokens issued (one registration, then rotations) sweep the expired one.
      const bob = await registerUser(shortLived.url)
      let refreshToken = bob.refreshToken
      for (let i = 0; i < 100; i++) {
        const res = await api(shortLived.url, 'POST', '/api/auth/refresh', {
          body: { refreshToken },
        })
        expect(res.status).toBe(200)
        refreshToken = res.body.refreshToken
      }
      expect(tokenRows(gone.user._id)).toBe(0)
      const latest = await api(shortLived.url, 'POST', '/api/auth/refresh', {
        body: { refreshToken },
      })
      expect(latest.status).toBe(200)
    } finally {
      await shortLived.stop()
    }
  })

  test('unknown token is 401; missing is 400', async () => {
    expect(
      (await api(server.url, 'POST', '/api/auth/refresh', { body: { refreshToken: 'nope' } }))
        .status
    ).toBe(401)
    expect((await api(server.url, 'POST', '/api/auth/refresh', { body: {} })).status).toBe(400)
  })

  test('logout revokes the refresh token and answers 204, twice', async () => {
    const alice = await registerUser(server.url)
    const out = await api(server.url, 'POST', '/api/auth/logout', {
      body: { refreshToken: alice.refreshToken },
    })
    expect(out.status).toBe(204)
    const again = await api(server.url, 'POST', '/api/auth/logout', {
      body: { refreshToken: alice.refreshToken },
    })
    expect(again.status).toBe(204)
    const res = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: alice.refreshToken },
    })
    expect(res.status).toBe(401)
  })
})

describe('inactive users', () => {
  test('a deactivated account is refused by login, tokens, refresh and lookups', async () => {
    const alice = await registerUser(server.url)
    const bob = await registerUser(server.url)
    expect(
      (await api(server.url, 'DELETE', '/api/users/me', { token: alice.accessToken })).status
    ).toBe(204)
    const login = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: alice.user.username, password: alice.password },
    })
    expect(login.status).toBe(403)
    expect(
      (await api(server.url, 'GET', '/api/auth/me', { token: alice.accessToken })).status
    ).toBe(401)
    const refresh = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: alice.refreshToken },
    })
    expect(refresh.status).toBe(401)
    const lookup = await api(server.url, 'GET', `/api/users/${alice.user._id}`, {
      token: bob.accessToken,
    })
    expect(lookup.status).toBe(404)
  })
})
