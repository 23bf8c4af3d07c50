/** @module Renders the OpenAPI 3.1 document and the socket events catalog as plain DOM (no CDN, no HTML injection). */
import { el } from './dom.ts'
import { EVENTS, GROUPS, payloadText, SCHEMAS } from './events-catalog.ts'

type Json = Record<string, unknown>
const obj = (value: unknown): Json =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {}
const text = (value: unknown): string => (typeof value === 'string' ? value : '')

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const
/** Deep enough for every real schema; cuts off recursive ones. */
const MAX_DEPTH = 6

async function main(): Promise<void> {
  renderEvents(document.getElementById('events-body') as HTMLElement)
  const status = document.getElementById('rest-status') as HTMLElement
  try {
    const res = await fetch('/api/openapi.json')
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    const doc = obj(await res.json())
    renderOpenApi(doc, document.getElementById('rest-body') as HTMLElement)
    status.textContent = `OpenAPI ${text(doc.openapi)}: ${countOperations(doc)} operations.`
  } catch (error) {
    status.textContent = `Could not load /api/openapi.json (${(error as Error).message}).`
  }
}

function countOperations(doc: Json): number {
  return Object.values(obj(doc.paths)).reduce<number>(
    (sum, item) => sum + METHODS.filter((m) => m in obj(item)).length,
    0
  )
}

function renderOpenApi(doc: Json, into: HTMLElement): void {
  const info = obj(doc.info)
  if (info.title) {
    ;(document.getElementById('api-title') as HTMLElement).textContent =
      `${text(info.title)} ${text(info.version)}`
  }
  ;(document.getElementById('api-description') as HTMLElement).textContent = text(info.description)
  const resolve = makeResolver(doc)
  // Group operations by their first tag, in document order.
  const groups = new Map<string, HTMLElement[]>()
  for (const [path, rawItem] of Object.entries(obj(doc.paths))) {
    const item = obj(rawItem)
    for (const method of METHODS) {
      if (!(method in item)) continue
      const op = obj(item[method])
      const tag = Array.isArray(op.tags) && op.tags.length ? String(op.tags[0]) : groupOf(path)
      const list = groups.get(tag) ?? []
      list.push(
        renderOperation(
          method,
          path,
          op,
          [...arr(item.parameters), ...arr(op.parameters)],
          doc,
          resolve
        )
      )
      groups.set(tag, list)
    }
  }
  for (const [tag, ops] of groups) into.append(el('h3', {}, tag), ...ops)
}

const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])

/** Untagged operations group by resource: `/api/chats/{chatId}` → chats, `/healthz` → health. */
function groupOf(path: string): string {
  const parts = path.split('/').filter(Boolean)
  return parts[0] === 'api' && parts[1] ? parts[1] : 'health'
}

function makeResolver(doc: Json) {
  return (schema: unknown): Json => {
    let current = obj(schema)
    for (let hops = 0; typeof current.$ref === 'string' && hops < 10; hops++) {
      const ref = current.$ref as string
      if (!ref.startsWith('#/')) break
      current = ref
        .slice(2)
        .split('/')
        .reduce<Json>(
          (node, key) => obj(node[key.replaceAll('~1', '/').replaceAll('~0', '~')]),
          doc
        )
    }
    return current
  }
}

type Resolve = ReturnType<typeof makeResolver>

function renderOperation(
  method: string,
  path: string,
  op: Json,
  params: unknown[],
  doc: Json,
  resolve: Resolve
): HTMLElement {
  const secured = Array.isArray(op.security) ? op.security.length > 0 : arr(doc.security).length > 0
  const body = el('div', {})
  if (op.description) body.append(el('p', {}, text(op.description)))
  if (params.length) {
    body.append(
      el('h4', {}, 'Parameters'),
      table(
        ['name', 'in', 'type', 'description'],
        params.map((raw) => {
          const p = resolve(raw)
          return el(
            'tr',
            {},
            el(
              'td',
              {},
              el('code', {}, text(p.name)),
              p.required ? el('span', { class: 'req' }, ' required') : null
            ),
            el('td', {}, text(p.in)),
            el('td', { class: 'type' }, typeLabel(resolve(p.schema))),
            el('td', {}, text(p.description) || text(resolve(p.schema).description))
          )
        })
      )
    )
  }
  const request = obj(resolve(op.requestBody).content)
  const requestSchema = obj(request['application/json']).schema
  if (requestSchema)
    body.append(
      el('h4', {}, 'Request body (application/json)'),
      renderSchema(requestSchema, resolve, 0)
    )
  const responses = Object.entries(obj(op.responses))
  if (responses.length) {
    body.append(el('h4', {}, 'Responses'))
    for (const [code, raw] of responses) {
      const response = resolve(raw)
      const schema = obj(obj(obj(response.content)['application/json']).schema)
      body.append(el('p', {}, el('strong', {}, code), ' ', text(response.description)))
      if (Object.keys(schema).length) body.append(renderSchema(schema, resolve, 0))
    }
  }
  return el(
    'details',
    { class: 'op', 'data-testid': 'operation', id: text(op.operationId) || null },
    el(
      'summary',
      {},
      el('span', { class: `method ${method}` }, method),
      el('code', {}, path),
      el('span', {}, text(op.summary)),
      secured ? el('span', { class: 'lock' }, 'requires a Bearer token') : null
    ),
    body
  )
}

/** A one-line type: `string (email)`, `integer ≥ 1`, `Message[]`, `'text' | 'image'`. */
function typeLabel(schema: Json): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ')
  if ('const' in schema) return JSON.stringify(schema.const)
  const union = arr(schema.anyOf).concat(arr(schema.oneOf))
  if (union.length) return union.map((s) => typeLabel(obj(s))).join(' | ')
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : text(schema.type) || 'any'
  const extras = [
    schema.format && `format ${text(schema.format)}`,
    schema.pattern && `pattern ${text(schema.pattern)}`,
    typeof schema.minLength === 'number' && `min length ${schema.minLength}`,
    typeof schema.maxLength === 'number' && `max length ${schema.maxLength}`,
    typeof schema.minimum === 'number' && `≥ ${schema.minimum}`,
    typeof schema.maximum === 'number' && `≤ ${schema.maximum}`,
    'default' in schema && `default ${JSON.stringify(schema.default)}`,
  ].filter(Boolean)
  return extras.length ? `${type} (${extras.join(', ')})` : type
}

function renderSchema(raw: unknown, resolve: Resolve, depth: number): HTMLElement {
  const ref = text(obj(raw).$ref)
  const schema = resolve(raw)
  const name = ref ? ref.split('/').at(-1) : ''
  if (depth >= MAX_DEPTH) return el('span', { class: 'type' }, name || typeLabel(schema))
  const properties = Object.entries(obj(schema.properties))
  if (properties.length) {
    const required = new Set(arr(schema.required).map(String))
    return el(
      'ul',
      { class: 'schema', 'aria-label': name || 'object' },
      ...properties.map(([key, sub]) => {
        const child = resolve(sub)
        const nested =
          Object.keys(obj(child.properties)).length ||
          obj(child.items).properties ||
          obj(child.items).$ref
        return el(
          'li',
          {},
          el('code', {}, key),
          required.has(key) ? el('span', { class: 'req' }, ' required') : null,
          ' ',
          el(
            'span',
            { class: 'type' },
            nested ? (child.type === 'array' ? 'array of' : 'object') : typeLabel(child)
          ),
          child.description ? ` — ${text(child.description)}` : '',
          nested
            ? renderSchema(child.type === 'array' ? child.items : sub, resolve, depth + 1)
            : null
        )
      })
    )
  }
  if (schema.type === 'array') {
    return el(
      'div',
      {},
      el('span', { class: 'type' }, 'array of'),
      renderSchema(schema.items, resolve, depth + 1)
    )
  }
  return el('p', { class: 'type' }, typeLabel(schema))
}

function renderEvents(into: HTMLElement): void {
  into.append(
    el(
      'p',
      {},
      'Connect with socket.io-client 4.x: io(url, { auth: { token: accessToken } }). ',
      'emit = client → server, receive = server → client. Every emitted event takes an optional ack, answered ',
      '{ ok: true, … } or { ok: false, error: { code, message } }; refusals also emit error { message, code, event }.'
    ),
    el('h3', {}, 'Shared shapes'),
    el(
      'ul',
      {},
      ...Object.entries(SCHEMAS).map(([name, fields]) =>
        el('li', {}, el('strong', {}, name), ': ', el('code', {}, payloadText(fields)))
      )
    )
  )
  for (const group of GROUPS) {
    const rows = EVENTS.filter((e) => e.group === group)
    into.append(
      el('h3', {}, group),
      table(
        ['event', 'direction', 'payload', 'result / who receives'],
        rows.map((e) =>
          el(
            'tr',
            { 'data-testid': 'event-row' },
            el('td', {}, el('code', {}, e.name)),
            el('td', {}, e.direction),
            el('td', {}, el('code', {}, payloadText(e.payload))),
            el('td', {}, e.result)
          )
        )
      )
    )
  }
}

/** A scrollable table with a header row. */
function table(headers: string[], rows: HTMLElement[]): HTMLElement {
  return el(
    'div',
    { class: 'table-wrap' },
    el('table', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h))), ...rows)
  )
}

void main()
