/** @module The socket events reference stays in sync: docs/events.md, the catalog, and the web client. */
import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { EVENTS } from '../../src/web/events-catalog.ts'
import { asyncApiDocument, eventsMarkdown } from '../../src/web/events-docs.ts'

const ROOT = resolve(import.meta.dir, '..', '..')
const GUIDE_EVENTS = [
  'join-city-chat',
  'joined-city-chat',
  'user-joined-city-chat',
  'leave-city-chat',
  'left-city-chat',
  'user-left-city-chat',
  'send-city-message',
  'new-city-message',
  'edit-city-message',
  'city-message-edited',
  'delete-city-message',
  'city-message-deleted',
  'city-typing',
  'city-stop-typing',
  'user-typing-city',
  'user-stopped-typing-city',
  'join-private-chat',
  'joined-private-chat',
  'user-joined-private-chat',
  'leave-private-chat',
  'left-private-chat',
  'user-left-private-chat',
  'send-private-message',
  'new-private-message',
  'edit-private-message',
  'private-message-edited',
  'delete-private-message',
  'private-message-deleted',
  'private-typing',
  'private-stop-typing',
  'user-typing-private',
  'user-stopped-typing-private',
  'mark-messages-read',
  'messages-read',
  'get-online-count',
  'online-users',
  'get-city-online-users',
  'city-online-users',
  'get-chat-online-users',
  'chat-online-users',
  'check-user-online',
  'user-online-status',
  'user-offline',
  'heartbeat',
  'heartbeat-ack',
  'error',
]
/** socket.io-client's own events, not part of the chat protocol. */
const RESERVED = new Set(['connect', 'disconnect', 'connect_error', 'reconnect_attempt'])

describe('socket events reference', () => {
  test('docs/events.md is the generated text (run `bun src/web/events-docs.ts > docs/events.md`)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'events.md'), 'utf8')).toBe(eventsMarkdown())
  })

  test('the catalog lists every event of the guide exactly once', () => {
    const names = EVENTS.map((e) => e.name)
    expect(new Set(names).size).toBe(names.length)
    for (const name of GUIDE_EVENTS) expect(names).toContain(name)
  })

  test('every event the web client emits or listens to is in the catalog with that direction', () => {
    const dir = join(ROOT, 'src', 'web')
    const source = readdirSync(dir)
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(join(dir, file), 'utf8'))
      .join('\n')
    const byName = new Map(EVENTS.map((e) => [e.name, e.direction]))
    const used = (pattern: RegExp) => [...source.matchAll(pattern)].map((m) => m[1] as string)
    const listened = used(/\.on\(\s*'([a-z_-]+)'/g).filter((name) => !RESERVED.has(name))
    const emitted = used(/\.emit\(\s*'([a-z_-]+)'/g)
    // Names from the per-kind EVENTS table in chat-room.ts count as emitted too.
    const room = readFileSync(join(dir, 'chat-room.ts'), 'utf8')
    const table = room.slice(room.indexOf('const EVENTS = {'), room.indexOf('} as const'))
    const tabled = [...table.matchAll(/^\s+(?!key)\w+: '([a-z-]+)'/gm)].map((m) => m[1] as string)
    expect(tabled.length).toBe(16)
    expect(listened.length).toBeGreaterThan(10)
    for (const name of listened) expect([name, byName.get(name)]).toEqual([name, 'receive'])
    for (const name of [...emitted, ...tabled])
      expect([name, byName.get(name)]).toEqual([name, 'emit'])
  })

  test('the AsyncAPI document has a message and an operation per event, and resolvable refs', () => {
    const doc = asyncApiDocument() as {
      asyncapi: string
      operations: Record<string, unknown>
      components: { messages: Record<string, unknown>; schemas: Record<string, unknown> }
    }
    expect(doc.asyncapi).toBe('3.0.0')
    expect(Object.keys(doc.components.messages).length).toBe(EVENTS.length)
    expect(Object.keys(doc.operations).length).toBe(EVENTS.length)
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map(
      (m) => m[1] as string
    )
    expect(refs.length).toBeGreaterThan(EVENTS.length)
    for (const ref of refs) {
      const target = ref
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], doc)
      expect([ref, target !== undefined]).toEqual([ref, true])
    }
  })
})
