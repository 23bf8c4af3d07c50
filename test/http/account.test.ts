/**
 * @module Account flows against a real SMTP server (STARTTLS, AUTH): email verification, resend,
 * REQUIRE_VERIFIED_EMAIL, forgot/reset password, change password, change email. Each mailed link
 * works once and then never again; an expired one is refused.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { api, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { ask, barrier, connectAs, joinCity, once, trackClients } from '../helpers/chat-client.ts'
import { rejectionOf } from '../helpers/rejection.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { linkToken, startSmtp, type TestSmtp } from '../helpers/smtp.ts'

let smtp: TestSmtp
let server: TestServer
const clients = trackClients()
beforeAll(async () => {
  smtp = await startSmtp()
})
afterAll(() => smtp.stop())
afterEach(async () => {
  clients.disconnectAll()
  await server?.stop()
})

const start = async (env: Record<string, string> = {}) => {
  server = await startServer({ SMTP_URL: smtp.url, PUBLIC_URL: 'http://chat.test', ...env })
  return server
}

const verifyWith = (token: string) =>
  api(server.url, 'POST', '/api/auth/verify-email', { body: { token } })

describe('email verification', () => {
  test('registration mails a link over STARTTLS; it verifies once, then never again', async () => {
    await start()
    const alice = await registerUser(server.url)
    expect(alice.user.email_verified).toBe(false)
    const mail = await smtp.next(alice.user.email, /verify/i)
    expect(mail.secure).toBe(true)
    expect(mail.text).toContain('http://chat.test/#verify=')
    const token = linkToken(mail, 'verify')

    const first = await verifyWith(token)
    expect(first.status).toBe(200)
    expect(first.body.user.email_verified).toBe(true)
    const me = await api(server.url, 'GET', '/api/auth/me', { token: alice.accessToken })
    expect(me.body.user.email_verified).toBe(true)

    const again = await verifyWith(token)
    expect(again.status).toBe(400)
    expect(again.body.error.code).toBe('invalid_input')
    // Already verified: nothing to resend.
    const resend = await api(server.url, 'POST', '/api/auth/resend-verification', {
      token: alice.accessToken,
    })
    expect(resend.status).toBe(409)
  })

  test('an expired link is refused; a resent one works and voids the older', async () => {
    await start({ EMAIL_TOKEN_TTL: '300ms' })
    const alice = await registerUser(server.url)
    const expired = linkToken(await smtp.next(alice.user.email, /verify/i), 'verify')
    await Bun.sleep(400) // the link's lifetime has to pass
    expect((await verifyWith(expired)).status).toBe(400)
    await server.stop()
    // The same database with a longer lifetime: a resent link works.
    await start({ EMAIL_TOKEN_TTL: '1h' })
    const bob = await registerUser(server.url)
    const older = linkToken(await smtp.next(bob.user.email, /verify/i), 'verify')
    const resend = await api(server.url, 'POST', '/api/auth/resend-verification', {
      token: bob.accessToken,
    })
    expect(resend.status).toBe(202)
    const newer = linkToken(await smtp.next(bob.user.email, /verify/i), 'verify')
    expect(newer).not.toBe(older)
    expect((await verifyWith(older)).status).toBe(400)
    expect((await verifyWith(newer)).status).toBe(200)
  })

  test('bad payloads are 400; resend needs a login', async () => {
    await start()
    expect((await verifyWith('')).status).toBe(400)
    expect((await verifyWith('x'.repeat(500))).status).toBe(400)
    expect((await verifyWith('not-a-real-token')).status).toBe(400)
    expect((await api(server.url, 'POST', '/api/auth/resend-verification')).status).toBe(401)
  })

  test('REQUIRE_VERIFIED_EMAIL: unverified users read cities but may not send, until verified', async () => {
    await start({ REQUIRE_VERIFIED_EMAIL: 'true' })
    const alice = await registerUser(server.url)
    const socket = clients.track(await connectAs(server.url, alice))
    await joinCity(socket)
    const refused = await ask(socket.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'hello',
    })
    expect(refused).toMatchObject({ ok: false, error: { code: 'unverified' } })
    const rest = await api(server.url, 'POST', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
      body: { content: 'hello' },
    })
    expect(rest.status).toBe(403)
    expect(rest.body.error.code).toBe('unverified')
    const history = await api(server.url, 'GET', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
    })
    expect(history.status).toBe(200)

    await verifyWith(linkToken(await smtp.next(alice.user.email, /verify/i), 'verify'))
    // The same socket, opened before the verification, may send now.
    const sent = await ask(socket.socket, 'send-city-message', {
      cityId: 'mumbai',
      content: 'verified now',
    })
    expect(sent).toMatchObject({ ok: true })
  })
})

describe('password reset', () => {
  test('forgot-password answers 202 alike for known and unknown addresses; only the owner gets a link', async () => {
    await start()
    const alice = await registerUser(server.url)
    const known = await api(server.url, 'POST', '/api/auth/forgot-password', {
      body: { email: alice.user.email },
    })
    const unknown = await api(server.url, 'POST', '/api/auth/forgot-password', {
      body: { email: 'nobody-here@example.test' },
    })
    expect(known.status).toBe(202)
    expect({ status: unknown.status, body: unknown.body }).toEqual({
      status: known.status,
      body: known.body,
    })
    expect((await smtp.next(alice.user.email, /reset/i)).text).toContain('#reset=')
    await server.app.chat.mail.settled()
    expect(smtp.mails.some((m) => m.to === 'nobody-here@example.test')).toBe(false)
  })

  test('the reset link sets the password once, ends every session and closes its sockets', async () => {
    await start()
    const alice = await registerUser(server.url)
    const tab = clients.track(await connectAs(server.url, alice))
    const reason = once<any>(tab.socket, 'error')
    const gone = once<string>(tab.socket, 'disconnect')
    await api(server.url, 'POST', '/api/auth/forgot-password', {
      body: { email: alice.user.email },
    })
    const token = linkToken(await smtp.next(alice.user.email, /reset/i), 'reset')
    const reset = await api(server.url, 'POST', '/api/auth/reset-password', {
      body: { token, password: 'brand-new-password' },
    })
    expect(reset.status).toBe(204)
    expect(await reason).toMatchObject({ code: 'unauthorized', event: 'auth' })
    expect(await gone).toBe('io server disconnect')

    const oldRefresh = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: alice.refreshToken },
    })
    expect(oldRefresh.status).toBe(401)
    const oldLogin = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: alice.user.username, password: alice.password },
    })
    expect(oldLogin.status).toBe(401)
    const newLogin = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: alice.user.username, password: 'brand-new-password' },
    })
    expect(newLogin.status).toBe(200)
    // The link came to the address, so it is verified now.
    expect(newLogin.body.user.email_verified).toBe(true)
    // The ended session's unexpired access token no longer opens a socket.
    const refused = await rejectionOf(connectAs(server.url, alice, { reconnection: false }))
    expect(refused.message).toContain('Authentication error')

    const again = await api(server.url, 'POST', '/api/auth/reset-password', {
      body: { token, password: 'another-password' },
    })
    expect(again.status).toBe(400)
  })

  test('an expired reset link is refused; bad payloads are 400', async () => {
    await start({ EMAIL_TOKEN_TTL: '300ms' })
    const alice = await registerUser(server.url)
    await api(server.url, 'POST', '/api/auth/forgot-password', {
      body: { email: alice.user.email },
    })
    const token = linkToken(await smtp.next(alice.user.email, /reset/i), 'reset')
    await Bun.sleep(400) // the link's lifetime has to pass
    const late = await api(server.url, 'POST', '/api/auth/reset-password', {
      body: { token, password: 'brand-new-password' },
    })
    expect(late.status).toBe(400)
    for (const body of [{}, { token }, { token, password: 'short' }, { token: 5, password: 'x' }]) {
      expect((await api(server.url, 'POST', '/api/auth/reset-password', { body })).status).toBe(400)
    }
    expect(
      (await api(server.url, 'POST', '/api/auth/forgot-password', { body: { email: 'nope' } }))
        .status
    ).toBe(400)
    // A verification link is not a reset link.
    const verify = linkToken(await smtp.next(alice.user.email, /verify/i), 'verify')
    const wrongKind = await api(server.url, 'POST', '/api/auth/reset-password', {
      body: { token: verify, password: 'brand-new-password' },
    })
    expect(wrongKind.status).toBe(400)
  })

  test('throttled: per account no more mails (same 202), per address 429', async () => {
    await start({ PASSWORD_RESET_PER_ACCOUNT: '2', PASSWORD_RESET_PER_ADDRESS: '5' })
    const alice = await registerUser(server.url)
    const forgot = (email: string) =>
      api(server.url, 'POST', '/api/auth/forgot-password', { body: { email } })
    const answers = [await forgot(alice.user.email), await forgot(alice.user.email)]
    answers.push(await forgot(alice.user.email))
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202])
    await server.app.chat.mail.settled()
    expect(
      smtp.mails.filter((m) => m.to === alice.user.email && /reset/i.test(m.subject))
    ).toHaveLength(2)
    expect((await forgot('someone@example.test')).status).toBe(202)
    expect((await forgot('someone@example.test')).status).toBe(202)
    const over = await forgot('someone@example.test')
    expect(over.status).toBe(429)
    expect(over.body.error.code).toBe('rate_limited')
  })
})

describe('password and email change', () => {
  const login = (user: RegisteredUser, password = user.password) =>
    api(server.url, 'POST', '/api/auth/login', { body: { login: user.user.username, password } })

  test('change-password keeps this session, ends the others and closes their sockets', async () => {
    await start()
    const alice = await registerUser(server.url)
    const other = (await login(alice)).body
    const here = clients.track(await connectAs(server.url, alice))
    const there = clients.track(await connectAs(server.url, { ...alice, ...other }))
    const gone = once<string>(there.socket, 'disconnect')

    const wrong = await api(server.url, 'POST', '/api/auth/change-password', {
      token: alice.accessToken,
      body: { currentPassword: 'not-it-at-all', newPassword: 'brand-new-password' },
    })
    expect(wrong.status).toBe(401)
    const bad = await api(server.url, 'POST', '/api/auth/change-password', {
      token: alice.accessToken,
      body: { currentPassword: alice.password, newPassword: 'short' },
    })
    expect(bad.status).toBe(400)
    const unauthenticated = await api(server.url, 'POST', '/api/auth/change-password', {
      body: { currentPassword: alice.password, newPassword: 'brand-new-password' },
    })
    expect(unauthenticated.status).toBe(401)

    const changed = await api(server.url, 'POST', '/api/auth/change-password', {
      token: alice.accessToken,
      body: { currentPassword: alice.password, newPassword: 'brand-new-password' },
    })
    expect(changed.status).toBe(204)
    expect(await gone).toBe('io server disconnect')
    await barrier(here.socket)
    expect(here.socket.connected).toBe(true)
    const keep = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: alice.refreshToken },
    })
    expect(keep.status).toBe(200)
    const ended = await api(server.url, 'POST', '/api/auth/refresh', {
      body: { refreshToken: other.refreshToken },
    })
    expect(ended.status).toBe(401)
    expect((await login(alice)).status).toBe(401)
    expect((await login(alice, 'brand-new-password')).status).toBe(200)
  })

  test('change-email mails the new address; opening it switches and tells the old one', async () => {
    await start()
    const alice = await registerUser(server.url)
    const bob = await registerUser(server.url)
    const oldEmail = alice.user.email
    const newEmail = `new-${oldEmail}`
    const wrong = await api(server.url, 'POST', '/api/auth/change-email', {
      token: alice.accessToken,
      body: { password: 'not-it-at-all', email: newEmail },
    })
    expect(wrong.status).toBe(401)
    const taken = await api(server.url, 'POST', '/api/auth/change-email', {
      token: alice.accessToken,
      body: { password: alice.password, email: bob.user.email },
    })
    const started = await api(server.url, 'POST', '/api/auth/change-email', {
      token: alice.accessToken,
      body: { password: alice.password, email: newEmail },
    })
    // A taken address answers the same and gets no link.
    expect({ status: taken.status, body: taken.body }).toEqual({
      status: started.status,
      body: started.body,
    })
    expect(started.status).toBe(202)
    const token = linkToken(await smtp.next(newEmail, /verify/i), 'verify')
    // Nothing changed until the link is opened.
    const before = await api(server.url, 'GET', '/api/auth/me', { token: alice.accessToken })
    expect(before.body.user.email).toBe(oldEmail)

    const verified = await verifyWith(token)
    expect(verified.status).toBe(200)
    expect(verified.body.user).toMatchObject({ email: newEmail, email_verified: true })
    const notice = await smtp.next(oldEmail, /changed/i)
    expect(notice.text).toContain(newEmail)
    expect((await verifyWith(token)).status).toBe(400)
    const byNewEmail = await api(server.url, 'POST', '/api/auth/login', {
      body: { login: newEmail, password: alice.password },
    })
    expect(byNewEmail.status).toBe(200)
    await server.app.chat.mail.settled()
    expect(
      smtp.mails.some(
        (m) =>
          m.to === bob.user.email &&
          /verify/i.test(m.text) &&
          m.text.includes('#verify=') &&
          m.text.includes(alice.user.username)
      )
    ).toBe(false)
  })
})

describe('registration with a taken email', () => {
  test('answers like a registration and mails the owner instead', async () => {
    await start()
    const alice = await registerUser(server.url)
    const res = await api(server.url, 'POST', '/api/auth/register', {
      body: {
        username: 'someone_new',
        email: alice.user.email,
        full_name: 'Someone',
        password: 'password123',
      },
    })
    expect(res.status).toBe(201)
    expect(res.body.user).toMatchObject({ username: 'someone_new', email_verified: false })
    const mail = await smtp.next(alice.user.email, /tried to register/i)
    expect(mail.text).toContain(`@${alice.user.username}`)
  })
})
