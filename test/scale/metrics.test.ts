/**
 * @module GET /metrics in the Prometheus text format, fed by real traffic; and a single node
 * without REDIS_URL: memory presence, no session-id prefix, readyz without Redis.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { createMetrics } from '../../src/metrics.ts'
import { api } from '../helpers/api.ts'
import { ask, chatUser, joinCity } from '../helpers/chat-client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
beforeEach(async () => {
  server = await startServer()
})
afterEach(() => server.stop())

const scrape = async () => {
  const res = await fetch(`${server.url}/metrics`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4')
  return res.text()
}

/** The value of one sample line, e.g. `chat_connections{transport="websocket"}`. */
const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

test('metrics count connections, packets, stored messages, DB writes and errors by code', async () => {
  const alice = await chatUser(server.url)
  const refused = await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'x' })
  expect(refused.error.code).toBe('not_member')
  const roomsBefore = sample(await scrape(), 'chat_rooms') ?? 0
  await joinCity(alice)
  await ask(alice.socket, 'send-city-message', { cityId: 'mumbai', content: 'hello' })
  expect((await api(server.url, 'GET', '/api/auth/me')).status).toBe(401)
  const text = await scrape()
  expect(sample(text, 'chat_errors_total{code="unauthorized",edge="http"}')).toBe(1)
  expect(sample(text, 'chat_http_responses_total{status="4xx"}')).toBeGreaterThanOrEqual(1)
  expect(sample(text, 'chat_connections{transport="websocket"}')).toBe(1)
  expect(sample(text, 'chat_connections{transport="polling"}')).toBe(0)
  expect(sample(text, 'chat_rooms')).toBe(roomsBefore + 1)
  expect(sample(text, 'chat_messages_stored_total')).toBe(1)
  expect(sample(text, 'chat_packets_total{direction="in",kind="event"}')).toBeGreaterThanOrEqual(3)
  expect(
    sample(text, 'chat_packets_total{direction="out",kind="broadcast"}')
  ).toBeGreaterThanOrEqual(1)
  expect(sample(text, 'chat_db_write_seconds_count{op="sendMessage"}')).toBe(1)
  expect(sample(text, 'chat_errors_total{code="not_member",edge="socket"}')).toBe(1)
  expect(text).toContain('# TYPE chat_broadcast_seconds histogram')
  expect(sample(text, 'chat_broadcast_seconds_count{origin="local"}')).toBeGreaterThanOrEqual(1)
  // No Redis configured: no link-state sample.
  expect(text).not.toMatch(/^chat_redis_up /m)
  alice.socket.disconnect()
})

test('without REDIS_URL: one node in memory, readyz checks only the database, plain sids', async () => {
  const ready = await api(server.url, 'GET', '/readyz')
  expect(ready.status).toBe(200)
  expect(ready.body.checks).toEqual({ database: 'ok' })
  const alice = await chatUser(server.url)
  expect(alice.socket.io.engine.id).not.toContain('.')
  expect((await ask(alice.socket, 'get-online-count')).count).toBe(1)
  alice.socket.disconnect()
})

test('the encoder escapes label values and renders cumulative histogram buckets', () => {
  const metrics = createMetrics()
  metrics.counter('c_total', 'a counter').inc({ path: 'a"b\\c\nd' })
  const h = metrics.histogram('h_seconds', 'a histogram', [0.1, 1])
  h.observe(0.05)
  h.observe(0.5)
  h.observe(5)
  expect(metrics.render()).toBe(
    [
      '# HELP c_total a counter',
      '# TYPE c_total counter',
      'c_total{path="a\\"b\\\\c\\nd"} 1',
      '# HELP h_seconds a histogram',
      '# TYPE h_seconds histogram',
      'h_seconds_bucket{le="0.1"} 1',
      'h_seconds_bucket{le="1"} 2',
      'h_seconds_bucket{le="+Inf"} 3',
      'h_seconds_sum 5.55',
      'h_seconds_count 3',
      '',
    ].join('\n')
  )
})
