/** @module README stays in sync: the configuration table is generated from CONFIG_DOC. */
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { CONFIG_DOC, loadConfig } from '../../src/config.ts'

const README = join(import.meta.dir, '..', '..', 'README.md')
const BLOCK = /(<!-- config:start[^>]*-->\n)[\s\S]*?(<!-- config:end -->)/

/** Parsed durations are ms; show them the way they are written (15m, 30d). */
function duration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`
  }
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

function configTable(): string {
  const defaults: Record<string, unknown> = loadConfig({})
  const cell = (value: unknown) => {
    if (value === undefined) return '—'
    if (Array.isArray(value)) return value.length === 0 ? '(empty)' : `\`${value.join(',')}\``
    return `\`${String(value)}\``
  }
  const rows = CONFIG_DOC.map(({ name, description }) => {
    const value = /_TTL$|_TIMEOUT$|_WINDOW$|_GRACE$|_HOLD$|_COLLAPSE$|_RETRY_BASE$|_DELAY$/.test(
      name
    )
      ? duration(Number(defaults[name]))
      : defaults[name]
    return `| \`${name}\` | ${cell(value)} | ${description.replace(/\|/g, '\\|')} |`
  })
  return ['| Variable | Default | Description |', '| --- | --- | --- |', ...rows, ''].join('\n')
}

test('README configuration table matches src/config.ts', async () => {
  const readme = await Bun.file(README).text()
  const expected = readme.replace(BLOCK, `$1${configTable()}$2`)
  // Regenerate with: UPDATE_README=1 ./node_modules/.bin/bun test test/http/readme.test.ts
  if (process.env.UPDATE_README === '1') await Bun.write(README, expected)
  expect(readme).toBe(expected)
})
