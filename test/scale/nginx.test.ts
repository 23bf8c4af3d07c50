/**
 * @module The docs' nginx example: `nginx -t` accepts it as written, and three nodes on one
 * database and one Redis behind it in plain round robin serve polling and WebSocket clients.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ask, chatUser, joinCity, once } from '../helpers/chat-client.ts'
import { SKIP_REASON, useNodes } from './cluster.ts'
import { docsNginxExample, NGINX_SKIP, type Nginx, nginxTest, startNginx } from './nginx.ts'

if (NGINX_SKIP) console.warn(NGINX_SKIP)

test.skipIf(!!NGINX_SKIP)(
  'the nginx example of docs/deployment.md passes nginx -t as written',
  async () => {
    const example = await docsNginxExample()
    expect(example).not.toContain('ip_hash')
    const checked = await nginxTest(example)
    expect(checked.output).toContain('syntax is ok')
    expect(checked.ok).toBe(true)
    // The check can fail: a broken block is refused.
    expect((await nginxTest(example.replace('listen 80;', 'listen 80 ssl;'))).ok).toBe(false)
  }
)

describe.skipIf(!!SKIP_REASON || !!NGINX_SKIP)('three nodes behind nginx in round robin', () => {
  const { nodes, track } = useNodes(['n1', 'n2', 'n3'])
  let nginx: Nginx

  beforeAll(async () => {
    nginx = await startNginx(nodes.map((n) => n.url))
  })
  afterAll(() => nginx?.stop())

  test('a polling client and a WebSocket client through nginx hear each other', async () => {
    const polly = track(await chatUser(nginx.url, { transports: ['polling'] }))
    const wes = track(await chatUser(nginx.url))
    for (const c of [polly, wes]) await joinCity(c, 'pune')
    for (let i = 0; i < 6; i++) {
      const got = once(polly.socket, 'new-city-message')
      await ask(wes.socket, 'send-city-message', { cityId: 'pune', content: `m${i}` })
      expect(((await got) as any).content).toBe(`m${i}`)
    }
    const upstreams = new Set((await nginx.accessLog()).map((line) => line.split(' ')[3]))
    expect(upstreams.size).toBe(3)
  })
})
