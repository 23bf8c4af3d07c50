/** @module Architecture: reads every import under src/ and fails on an arrow the house style forbids. */
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
