/**
 * @module Architecture: reads every import under src/ and fails on an arrow the house style
 * forbids, on a function of events/ handed to chat/, and on wire-format knowledge in chat/ or store/.
 */
import { expect, test } from 'bun:test'
import { dirname, join, relative } from 'node:path'

const SRC = join(import.meta.dir, '..', 'src')
const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]/g

/** [importer prefix, rule text, is this target forbidden?] — targets are src-relative paths or package names. */
const RULES: Array<[string, string, (target: string) => boolean]> = [
  [
    'realtime/',
    'realtime imports nothing of ours but log',
    (t) => !t.startsWith('realtime/') && t !== 'log.ts' && isOurs(t),
  ],
  [
    'chat/',
    'chat never imports hono, realtime, drizzle, http, events or server',
    (t) =>
      /^(hono|drizzle-orm)(\/|$)/.test(t) ||
      /^(realtime|http|events)\//.test(t) ||
      /^(server|main)\.ts$/.test(t),
  ],
  [
    'store/',
    'store never imports chat, http, events, realtime or server',
    (t) => /^(chat|http|events|realtime)\//.test(t) || /^(server|main)\.ts$/.test(t),
  ],
  [
    'http/',
    'http goes through chat, never store, realtime or events',
    (t) => /^(store|realtime|events)\//.test(t),
  ],
  [
    'events/',
    'events use realtime only through realtime/index.ts, never store or http',
    (t) => /^(store|http)\//.test(t) || (t.startsWith('realtime/') && t !== 'realtime/index.ts'),
  ],
  ['errors.ts', 'errors is a leaf', isOurs],
  ['config.ts', 'config is a leaf', isOurs],
  ['log.ts', 'log is a leaf', isOurs],
  ['', 'nothing imports main', (t) => t === 'main.ts'],
]

function isOurs(target: string): boolean {
  return /\.(ts|json|sql)$/.test(target)
}

test('imports follow main → server → { http, events } → chat → store', async () => {
  const violations: string[] = []
  for await (const file of new Bun.Glob('**/*.ts').scan(SRC)) {
    const text = await Bun.file(join(SRC, file)).text()
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? ''
      const target = spec.startsWith('.') ? relative(SRC, join(SRC, dirname(file), spec)) : spec
      for (const [from, rule, forbidden] of RULES) {
        if (file.startsWith(from) && target !== file && forbidden(target))
          violations.push(`${file} → ${spec}: ${rule}`)
      }
    }
  }
  expect(violations).toEqual([])
})

/** The names a file imports from modules under `dir` (src-relative), e.g. 'events/'. */
function namesImportedFrom(file: string, text: string, dir: string): string[] {
  const names: string[] = []
  for (const match of text.matchAll(
    /import\s+(?:type\s+)?\{([^}]*)\}\s*from\s+['"]([^'"]+)['"]/g
  )) {
    const spec = match[2] ?? ''
    const target = spec.startsWith('.') ? relative(SRC, join(SRC, dirname(file), spec)) : spec
    if (!target.startsWith(dir)) continue
    for (const part of (match[1] ?? '').split(',')) {
      const name = part
        .replace(/^\s*type\s+/, '')
        .split(/\s+as\s+/)
        .pop()
        ?.trim()
      if (name) names.push(name)
    }
  }
  return names
}

/** The text of each call's arguments to `callee(` (parentheses balanced). */
function callArguments(text: string, callee: string): string[] {
  const calls: string[] = []
  for (const match of text.matchAll(new RegExp(`\\b${callee}\\(`, 'g'))) {
    let depth = 1
    let i = (match.index ?? 0) + match[0].length
    const start = i
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '(') depth++
      else if (text[i] === ')') depth--
    }
    calls.push(text.slice(start, i - 1))
  }
  return calls
}

test('chat/ receives no function from events/: the domain is built from imports, not callbacks', async () => {
  const violations: string[] = []
  for await (const file of new Bun.Glob('**/*.ts').scan(SRC)) {
    if (file.startsWith('chat/') || file.startsWith('events/')) continue
    const text = await Bun.file(join(SRC, file)).text()
    const fromEvents = namesImportedFrom(file, text, 'events/')
    for (const callee of namesImportedFrom(file, text, 'chat/')) {
      for (const args of callArguments(text, callee)) {
        for (const name of fromEvents) {
          if (new RegExp(`\\b${name}\\b`).test(args))
            violations.push(`${file}: ${callee}(… ${name} …)`)
        }
      }
    }
  }
  expect(violations).toEqual([])
})

/** What only the realtime layer may know: packet types and encoding, the recovery offset's place. */
const WIRE = /\b(withOffset|emitJson|encodeJsonEvent|encodeHeader|PacketType|_lastOffset)\b|\\x1e/

test('no file of chat/ or store/ knows the Socket.IO wire format', async () => {
  const violations: string[] = []
  for await (const file of new Bun.Glob('{chat,store}/**/*.ts').scan(SRC)) {
    const text = await Bun.file(join(SRC, file)).text()
    const found = WIRE.exec(text)
    if (found) violations.push(`${file}: ${found[0]}`)
  }
  expect(violations).toEqual([])
})
