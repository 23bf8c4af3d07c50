/** @module External identity provider: tokens verified by JWKS URL or PEM public key map to (new) local users. */
import { afterEach, describe, expect, test } from 'bun:test'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { api } from '../helpers/api.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const stops: Array<() => unknown> = []
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop()
})

async function idpToken(
  privateKey: CryptoKey,
  sub: string,
  claims: Record<string, unknown> = {},
  kid?: string
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', ...(kid ? { kid } : {}) })
    .setSubject(sub)
    .setIssuer('https://idp.example.test')
    .setExpirationTime('5m')
    .sign(privateKey)
}

describe('JWT_PUBLIC_KEY', () => {
  test('first token provisions a user from its claims; later tokens map to the same user', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256')
    const server: TestServer = await startServer({ JWT_PUBLIC_KEY: await exportSPKI(publicKey) })
    stops.push(() => server.stop())
    const claims = { preferred_username: 'Dana.IdP', email: 'dana@idp.example.test', name: 'Dana' }
    const first = await api(server.url, 'GET', '/api/auth/me', {
      token: await idpToken(privateKey, 'u-1', claims),
    })
    expect(first.status).toBe(200)
    expect(first.body.user).toMatchObject({
      username: 'dana.idp',
      email: 'dana@idp.example.test',
      full_name: 'Dana',
    })
    const again = await api(server.url, 'GET', '/api/auth/me', {
      token: await idpToken(privateKey, 'u-1'),
    })
    expect(again.body.user._id).toBe(first.body.user._id)
    // Provisioned users use the API like anyone else.
    const sent = await api(server.url, 'POST', '/api/cities/mumbai/messages', {
      token: await idpToken(privateKey, 'u-1'),
      body: { content: 'hello from the idp' },
    })
    expect(sent.status).toBe(201)

    const other = await generateKeyPair('RS256')
    const forged = await api(server.url, 'GET', '/api/auth/me', {
      token: await idpToken(other.privateKey, 'u-1'),
    })
    expect(forged.status).toBe(401)
  })
})

describe('JWT_JWKS_URL', () => {
  test('tokens whose key is in the JWKS are accepted; others are not', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256')
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
    const jwks = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: () => Response.json({ keys: [jwk] }),
    })
    stops.push(() => jwks.stop(true))
    const server = await startServer({
      JWT_JWKS_URL: `http://127.0.0.1:${jwks.port}/.well-known/jwks.json`,
    })
    stops.push(() => server.stop())
    const ok = await api(server.url, 'GET', '/api/auth/me', {
      token: await idpToken(privateKey, 'sub-9', { email: 'nine@idp.example.test' }, 'k1'),
    })
    expect(ok.status).toBe(200)
    expect(ok.body.user.email).toBe('nine@idp.example.test')
    const unknownKey = await generateKeyPair('RS256')
    const refused = await api(server.url, 'GET', '/api/auth/me', {
      token: await idpToken(unknownKey.privateKey, 'sub-9', {}, 'k2'),
    })
    expect(refused.status).toBe(401)
  })
})
