/**
 * @module Renders the socket events catalog as docs/events.md and as an AsyncAPI 3.0 document
 * (served at /api/asyncapi.json). Regenerate the markdown: `bun src/web/events-docs.ts > docs/events.md`.
 */
import { EVENTS, type Fields, GROUPS, payloadText, SCHEMAS } from './events-catalog.ts'

const cell = (text: string) => text.replaceAll('|', '\\|')

/** docs/events.md, generated: `bun src/web/events-docs.ts > docs/events.md`. */
export function eventsMarkdown(): string {
  const lines = [
    '# Socket events reference',
    '',
    '<!-- Generated from src/web/events-catalog.ts by src/web/events-docs.ts: `bun src/web/events-docs.ts > docs/events.md`. Do not edit by hand. -->',
    '',
    'Connect with the official `socket.io-client` 4.x: `io(url, { auth: { token: accessToken } })` (same access',
    'token as the REST API). Event names and payloads are those of the WebSocket chat guide; this page adds what',
    'contract.md settles. **emit** = client → server, **receive** = server → client.',
    '',
    '## Acknowledgements and errors',
    '',
    'Every emitted event accepts an optional acknowledgement callback as its last argument. It is answered',
    '`{ ok: true, ... }` (for sends and edits: `{ ok: true, message }`) or `{ ok: false, error: { code, message } }`.',
    'A refused or invalid action also emits `error` `{ message, code, event }` to the offending socket.',
    'Codes: `invalid_input`, `unauthorized`, `forbidden`, `not_member`, `not_author`, `unverified` (verify your',
    'email to send in cities), `not_found`, `conflict`, `payload_too_large`, `rate_limited` (temporary: retry',
    'later), `internal` (temporary).',
    '',
    '## Reconnecting',
    '',
    'After a reconnect, join the rooms again and fetch `GET /api/cities/:cityId/messages?after=<last id>` (or the',
    'chat equivalent) to fill any gap; deduplicate by `_id` (the server may also replay missed packets through',
    'socket.io connection-state recovery).',
    '',
    'With recovery on (the default, `RECOVERY_WINDOW`), every room broadcast and every `joined-*` confirmation',
    'carries one extra last argument: the offset string the official client keeps for connection-state',
    'recovery. Listeners written against the guide simply ignore it. A client that comes back within the window',
    'with the same session gets `socket.recovered === true`, its rooms, and every missed message, edit,',
    'delete, reaction, thread update, pin and unpin in order, exactly once. A replayed new message carries',
    '`reactions: []` (as it went out): the reaction events after it replay the rest.',
    '',
    '## Shared shapes',
    '',
  ]
  for (const [name, fields] of Object.entries(SCHEMAS)) {
    lines.push(`- **${name}**: \`${payloadText(fields)}\``)
  }
  for (const group of GROUPS) {
    lines.push(
      '',
      `## ${group}`,
      '',
      '| event | direction | payload | result / who receives |',
      '| --- | --- | --- | --- |'
    )
    for (const event of EVENTS.filter((e) => e.group === group)) {
      lines.push(
        `| \`${event.name}\` | ${event.direction} | ${cell(`\`${payloadText(event.payload)}\``)} | ${cell(event.result)} |`
      )
    }
  }
  return `${lines.join('\n')}\n`
}

type JsonSchema = Record<string, unknown>

function typeSchema(type: string): JsonSchema {
  const base = type.split(' (')[0]?.trim() ?? type
  const description = type.includes(' (') ? type.slice(type.indexOf(' (') + 2, -1) : undefined
  const withDescription = (schema: JsonSchema) =>
    description ? { ...schema, description } : schema
  if (base.endsWith('[]'))
    return withDescription({ type: 'array', items: typeSchema(base.slice(0, -2)) })
  if (base in SCHEMAS) return withDescription({ $ref: `#/components/schemas/${base}` })
  const parts = base.split('|').map((p) => p.trim())
  const literals = parts.filter((p) => p.startsWith("'"))
  if (literals.length === parts.length)
    return withDescription({ type: 'string', enum: literals.map((l) => l.slice(1, -1)) })
  const types = parts.map((p) =>
    ['string', 'number', 'boolean', 'null'].includes(p) ? p : 'object'
  )
  return withDescription({ type: types.length === 1 ? types[0] : types })
}

function fieldsSchema(fields: Fields): JsonSchema {
  const properties: Record<string, JsonSchema> = {}
  const required: string[] = []
  for (const [rawKey, type] of Object.entries(fields)) {
    if (rawKey === '...') continue
    const key = rawKey.replace(/\?$/, '')
    properties[key] = typeSchema(type)
    if (!rawKey.endsWith('?')) required.push(key)
  }
  return { type: 'object', properties, required, additionalProperties: true }
}

/** An AsyncAPI 3.0 document of the same events, for tooling that reads it. */
export function asyncApiDocument(serverUrl = 'http://localhost:3000'): JsonSchema {
  const messages: Record<string, JsonSchema> = {}
  const operations: Record<string, JsonSchema> = {}
  for (const event of EVENTS) {
    const payload =
      event.payload === null
        ? { type: 'null' }
        : typeof event.payload === 'string'
          ? typeSchema(event.payload)
          : fieldsSchema(event.payload)
    messages[event.name] = { name: event.name, title: event.name, summary: event.result, payload }
    operations[`${event.direction}:${event.name}`] = {
      action: event.direction === 'emit' ? 'receive' : 'send',
      channel: { $ref: '#/channels/root' },
      messages: [{ $ref: `#/channels/root/messages/${event.name}` }],
      tags: [{ name: event.group }],
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'myCommunity chat: Socket.IO events',
      version: '1.0.0',
      description:
        'Socket.IO v5 over Engine.IO v4 on namespace "/". Authenticate with auth: { token }. Every emitted event accepts an ack answered { ok: true, ... } or { ok: false, error: { code, message } }.',
    },
    servers: {
      local: { host: new URL(serverUrl).host, protocol: 'socket.io', pathname: '/socket.io/' },
    },
    channels: {
      root: {
        address: '/',
        messages: Object.fromEntries(
          Object.keys(messages).map((name) => [name, { $ref: `#/components/messages/${name}` }])
        ),
      },
    },
    operations,
    components: {
      schemas: Object.fromEntries(
        Object.entries(SCHEMAS).map(([name, fields]) => [name, fieldsSchema(fields)])
      ),
      messages,
    },
  }
}

if (import.meta.main) process.stdout.write(eventsMarkdown())
