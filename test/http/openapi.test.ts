/** @module The OpenAPI document lists every mounted route and validates as served. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { openApiPath } from '../../src/http/openapi.ts'
import { api } from '../helpers/api.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.stop())

test('every route the app mounts is in /api/openapi.json, and nothing else', async () => {
  const res = await api(server.url, 'GET', '/api/openapi.json')
  expect(res.status).toBe(200)
  expect(res.body.openapi).toBe('3.1.0')
  const documented = Object.entries(res.body.paths as Record<string, object>).flatMap(
    ([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`)
  )
  const mounted = server.app.app.routes
    .filter(
      (r) => ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) && !r.path.includes('*')
    )
    .map((r) => `${r.method} ${openApiPath(r.path)}`)
    .filter((route) => route !== 'GET /api/openapi.json')
  expect([...new Set(documented)].sort()).toEqual([...new Set(mounted)].sort())
})

test('request schemas come from the validating zod schemas', async () => {
  const { body } = await api(server.url, 'GET', '/api/openapi.json')
  const register = body.paths['/api/auth/register'].post.requestBody.content['application/json']
  expect(register.schema.required.sort()).toEqual(['email', 'full_name', 'password', 'username'])
  const history = body.paths['/api/cities/{cityId}/messages'].get.parameters
  expect(history.map((p: { name: string }) => p.name).sort()).toEqual([
    'after',
    'around',
    'before',
    'cityId',
    'limit',
  ])
  const search = body.paths['/api/search'].get.parameters
  expect(search.map((p: { name: string }) => p.name).sort()).toEqual([
    'before',
    'chatId',
    'cityId',
    'from',
    'limit',
    'q',
  ])
})
