/**
 * @module Sessions across nodes with Redis: signing a session out on one node closes its sockets
 * on another at once (WebSocket and polling), a password change does too, and the forgot-password
 * limits count on every node together.
 */
import { describe, expect, test } from 'bun:test'
import { api, registerUser } from '../helpers/api.ts'
import { barrier, connectAs, once } from '../helpers/chat-client.ts'
import { type Node, SKIP_REASON, useTwoNodes } from './cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

describe.skipIf(!!SKIP_REASON)('sessions on two nodes sharing Redis', () => {
  const { nodes, track } = useTwoNodes(['s1', 's2'], { PASSWORD_RESET_PER_ADDRESS: '3' })

  test('DELETE /api/auth/sessions/:id on one node closes that session’s sockets on the other', async () => {
    const [n1, n2] = nodes as [Node, Node]
    const alice = await registerUser(n1.url)
    const phoneLogin = await api(n2.url, 'POST', '/api/auth/login', {
      body: { login: alice.user.username, password: alice.password },
    })
    const phone = { ...alice, ...phoneLogin.body }
    const onWs = track(await connectAs(n2.url, phone))
    const onPolling = track(await connectAs(n2.url, phone, { transports: ['polling'] }))
    const kept = track(await connectAs(n2.url, alice))
    const reasons = [onWs, onPolling].map((c) => once<any>(c.socket, 'error'))
    const gone = [onWs, onPolling].map((c) => once<string>(c.socket, 'disconnect'))

    const sessions = await api(n1.url, 'GET', '/api/auth/sessions', { token: alice.accessToken })
    const other = sessions.body.sessions.find((s: any) => !s.current)
    const res = await api(n1.url, 'DELETE', `/api/auth/sessions/${other._id}`, {
      token: alice.accessToken,
    })
    expect(res.status).toBe(204)
    for (const reason of await Promise.all(reasons))
      expect(reason).toMatchObject({ message: 'session signed out', event: 'auth' })
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect'])
    await barrier(kept.socket)
    expect(kept.socket.connected).toBe(true)
  })

  test('a password change on one node closes the other sessions’ sockets on the other', async () => {
    const [n1, n2] = nodes as [Node, Node]
    const alice = await registerUser(n1.url)
    const second = await api(n2.url, 'POST', '/api/auth/login', {
      body: { login: alice.user.username, password: alice.password },
    })
    const elsewhere = track(await connectAs(n2.url, { ...alice, ...second.body }))
    const here = track(await connectAs(n1.url, alice))
    const gone = once<string>(elsewhere.socket, 'disconnect')
    const res = await api(n1.url, 'POST', '/api/auth/change-password', {
      token: alice.accessToken,
      body: { currentPassword: alice.password, newPassword: 'a-new-password-1' },
    })
    expect(res.status).toBe(204)
    expect(await gone).toBe('io server disconnect')
    await barrier(here.socket)
    expect(here.socket.connected).toBe(true)
  })

  test('forgot-password requests per address count on both nodes together', async () => {
    const [n1, n2] = nodes as [Node, Node]
    const forgot = (url: string) =>
      api(url, 'POST', '/api/auth/forgot-password', { body: { email: 'x@example.test' } })
    expect((await forgot(n1.url)).status).toBe(202)
    expect((await forgot(n2.url)).status).toBe(202)
    expect((await forgot(n1.url)).status).toBe(202)
    const over = await forgot(n2.url)
    expect(over.status).toBe(429)
    expect(over.body.error.code).toBe('rate_limited')
  })
})
