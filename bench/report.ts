/**
 * @module Turns per-run measurements into the table: medians over runs, each with the median of its
 * per-run ratio to socket.io on Node, the targets checked, and the README block rewritten.
 */
import { cpus, release, totalmem } from 'node:os'
import type { TargetName } from './targets.ts'

export type Metrics = Record<string, number | null>

interface MetricDef {
  key: string
  label: string
  better: 'higher' | 'lower'
  digits: number
}

const METRICS: readonly MetricDef[] = [
  { key: 'fanout_dps', label: 'Fan-out: sustained deliveries/s', better: 'higher', digits: 0 },
  { key: 'fanout_p50', label: 'Fan-out: p50 ms at 100k deliveries/s', better: 'lower', digits: 1 },
  { key: 'fanout_p95', label: 'Fan-out: p95 ms at 100k deliveries/s', better: 'lower', digits: 1 },
  { key: 'fanout_p99', label: 'Fan-out: p99 ms at 100k deliveries/s', better: 'lower', digits: 1 },
  {
    key: 'fanout_cpu',
    label: 'Fan-out: server CPU % at sustained rate',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'fanout_cpu_1k',
    label: 'Fan-out: server CPU ms per 1k deliveries',
    better: 'lower',
    digits: 2,
  },
  { key: 'rooms_dps', label: 'Many rooms: sustained deliveries/s', better: 'higher', digits: 0 },
  { key: 'rooms_p50', label: 'Many rooms: p50 ms at reference rate', better: 'lower', digits: 1 },
  { key: 'rooms_p99', label: 'Many rooms: p99 ms at reference rate', better: 'lower', digits: 1 },
  {
    key: 'idle_kb',
    label: 'Idle: RSS KB per authenticated connection',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'idle_rss_mb',
    label: 'Idle: server RSS MB with all connected',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'storm_hps',
    label: 'Connect storm: handshakes/s (JWT verified)',
    better: 'higher',
    digits: 0,
  },
  { key: 'storm_p99', label: 'Connect storm: handshake p99 ms', better: 'lower', digits: 1 },
  { key: 'storm_cpu', label: 'Connect storm: server CPU %', better: 'lower', digits: 0 },
  {
    key: 'persist_1',
    label: 'Persistence: msgs/s, 1 sender (no target: one connection’s window)',
    better: 'higher',
    digits: 0,
  },
  {
    key: 'persist_10',
    label: 'Persistence: msgs/s, 10 senders',
    better: 'higher',
    digits: 0,
  },
  { key: 'persist_cpu', label: 'Persistence: server CPU %, 1 sender', better: 'lower', digits: 0 },
  {
    key: 'persist_open',
    label: 'Persistence: sustained msgs/s, 10 senders, open loop (no target)',
    better: 'higher',
    digits: 0,
  },
  {
    key: 'persist_open_p99',
    label: 'Persistence: p99 ms at 50k msgs/s, open loop',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'persist_1_w64',
    label: 'Persistence: msgs/s, 1 sender with 64 in flight (no target)',
    better: 'higher',
    digits: 0,
  },
  {
    key: 'offline_all_ms',
    label: 'Presence: one user offline, ms to the last user-offline frame (PRESENCE_SCOPE=all)',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'offline_shared_ms',
    label: 'Presence: one user offline, ms to the last user-offline frame (shared)',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'offline_all_frames',
    label: 'Presence: user-offline frames for one logout (all)',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'offline_shared_frames',
    label: 'Presence: user-offline frames for one logout (shared)',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'offline_all_cpu',
    label: 'Presence: server CPU ms for one logout (all)',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'offline_shared_cpu',
    label: 'Presence: server CPU ms for one logout (shared)',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'offline_ratio',
    label: 'Presence: time to the last user-offline, all ÷ shared',
    better: 'higher',
    digits: 2,
  },
  {
    key: 'offline_cpu_ratio',
    label: 'Presence: server CPU per logout, all ÷ shared',
    better: 'higher',
    digits: 2,
  },
  {
    key: 'join_joined_ms',
    label: 'Join a city with N sockets in it: ms to joined-city-chat',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'join_list_ms',
    label: 'Join a city with N sockets in it: ms to the online list',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'join_cpu',
    label: 'Join a city with N sockets in it: server CPU ms per join',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'conns_1_held',
    label: 'Connections, one process: authenticated sockets held in one city (of 18,000)',
    better: 'higher',
    digits: 0,
  },
  {
    key: 'conns_1_rss_mb',
    label: 'Connections, one process: server RSS MB with them (all its processes)',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'conns_1_kb',
    label: 'Connections, one process: RSS KB per connection',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'conns_1_p50',
    label: 'Connections, one process: city broadcast to all, p50 ms per delivery',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'conns_1_p99',
    label: 'Connections, one process: city broadcast to all, p99 ms per delivery',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'conns_1_last_p99',
    label: 'Connections, one process: city broadcast, p99 ms to its last delivery',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'conns_1_cpu',
    label: 'Connections, one process: server CPU ms per broadcast',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'conns_1_sys',
    label: 'Connections, one process: of which in the kernel (system time)',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'conns_2_held',
    label: 'Connections, WORKERS=2 + Redis: authenticated sockets held in one city (of 36,000)',
    better: 'higher',
    digits: 0,
  },
  {
    key: 'conns_2_rss_mb',
    label: 'Connections, WORKERS=2 + Redis: server RSS MB with them (all its processes)',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'conns_2_kb',
    label: 'Connections, WORKERS=2 + Redis: RSS KB per connection',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'conns_2_p50',
    label: 'Connections, WORKERS=2 + Redis: city broadcast to all, p50 ms per delivery',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'conns_2_p99',
    label: 'Connections, WORKERS=2 + Redis: city broadcast to all, p99 ms per delivery',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'conns_2_last_p99',
    label: 'Connections, WORKERS=2 + Redis: city broadcast, p99 ms to its last delivery',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'conns_2_cpu',
    label: 'Connections, WORKERS=2 + Redis: server CPU ms per broadcast',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'conns_2_sys',
    label: 'Connections, WORKERS=2 + Redis: of which in the kernel (system time)',
    better: 'lower',
    digits: 0,
  },
  // Cost as the data grows (ours only): each large size against a small one, in the same run.
  {
    key: 'history_small_p99',
    label: 'History: newest page p99 ms, 10k messages in the room',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'history_large_p99',
    label: 'History: newest page p99 ms, 10M messages in the room',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'history_ratio',
    label: 'History: newest page p99, 10M ÷ 10k',
    better: 'lower',
    digits: 2,
  },
  {
    key: 'history_older_small_p99',
    label: 'History: page before a random message, p99 ms, 10k messages (no target)',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'history_older_large_p99',
    label: 'History: page before a random message, p99 ms, 10M messages (no target)',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'history_older_ratio',
    label: 'History: page before a random message, p99, 10M ÷ 10k (no target)',
    better: 'lower',
    digits: 2,
  },
  {
    key: 'search_p50',
    label: 'Search: p50 ms, one word over 1M messages',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'search_p99',
    label: 'Search: p99 ms, one word over 1M messages',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'search_seed_s',
    label: 'Search: seconds to store and index 1M messages (bulk, no target)',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'resume_ms',
    label: 'Resume: ms from reconnect to the last of 1,000 missed events replayed',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'resume_connect_ms',
    label: 'Resume: ms from reconnect to the recovered connect (no target)',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'uploads_file_ups',
    label: 'Uploads: 10 MB files/s, 20 at once (stored as sent)',
    better: 'higher',
    digits: 2,
  },
  { key: 'uploads_file_mbps', label: 'Uploads: MB/s of 10 MB files', better: 'higher', digits: 1 },
  {
    key: 'uploads_photo_ups',
    label: 'Uploads: 10 MB photos/s, 20 at once (cleaned, thumbnailed)',
    better: 'higher',
    digits: 2,
  },
  {
    key: 'uploads_photo_mbps',
    label: 'Uploads: MB/s of 10 MB photos',
    better: 'higher',
    digits: 1,
  },
  {
    key: 'uploads_room_p99_quiet',
    label: 'Busy room: delivery p99 ms, no uploads',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'uploads_room_p99_loaded',
    label: 'Busy room: delivery p99 ms while 20 clients upload 10 MB photos',
    better: 'lower',
    digits: 1,
  },
  {
    key: 'uploads_room_ratio',
    label: 'Busy room: p99 with uploads ÷ without (same run)',
    better: 'lower',
    digits: 2,
  },
  {
    key: 'uploads_room_cpu',
    label: 'Busy room: server CPU % while uploads run',
    better: 'lower',
    digits: 0,
  },
]

export interface TargetColumn {
  name: TargetName
  title: string
  /** One entry per run in which the target ran; null where it could not start. */
  runs: Array<Metrics | null>
  skipped: string | null
  notes: Set<string>
}

const REFERENCE: TargetName = 'socketio-node'

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[mid] ?? null)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

const present = (values: ReadonlyArray<number | null | undefined>): number[] =>
  values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))

function medianOf(column: TargetColumn, key: string): number | null {
  return median(present(column.runs.map((run) => run?.[key])))
}

/** Median over runs of (this target ÷ socket.io on Node), both measured in the same run. */
function ratioOf(
  column: TargetColumn,
  reference: TargetColumn | undefined,
  key: string
): number | null {
  if (!reference) return null
  const ratios = column.runs.map((run, i) => {
    const mine = run?.[key]
    const theirs = reference.runs[i]?.[key]
    return typeof mine === 'number' && typeof theirs === 'number' && theirs > 0
      ? mine / theirs
      : null
  })
  return median(present(ratios))
}

const formatNumber = (value: number, digits: number) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

export function renderTable(columns: readonly TargetColumn[]): string {
  const reference = columns.find((c) => c.name === REFERENCE && !c.skipped)
  const shown = columns.filter((c) => !c.skipped)
  const header = `| metric | ${shown.map((c) => c.title).join(' | ')} |`
  const rule = `| --- | ${shown.map(() => '---:').join(' | ')} |`
  const rows = METRICS.map((metric) => {
    const cells = shown.map((column) => {
      const value = medianOf(column, metric.key)
      if (value === null) return 'n/a'
      const ratio = column === reference ? null : ratioOf(column, reference, metric.key)
      return ratio === null
        ? formatNumber(value, metric.digits)
        : `${formatNumber(value, metric.digits)} (×${ratio.toFixed(2)})`
    })
    return `| ${metric.label} (${metric.better} is better) | ${cells.join(' | ')} |`
  })
  return [header, rule, ...rows].join('\n')
}

/** The targets for our server, each checked against this run's medians and ratios. */
export function renderTargets(columns: readonly TargetColumn[]): string {
  const byName = new Map(columns.filter((c) => !c.skipped).map((c) => [c.name, c]))
  const ours = byName.get('ours')
  if (!ours) return '_Targets not checked: our server did not run._'
  const ratio = (name: TargetName, key: string) => ratioOf(ours, byName.get(name), key)
  const checks: Array<[string, number | null, (v: number) => boolean, string]> = [
    [
      'fan-out deliveries/s ≥ 5× socket.io on Node',
      ratio('socketio-node', 'fanout_dps'),
      (v) => v >= 5,
      '×',
    ],
    [
      'fan-out deliveries/s ≥ 2× socket.io on Bun',
      ratio('socketio-bun', 'fanout_dps'),
      (v) => v >= 2,
      '×',
    ],
    ['fan-out deliveries/s ≥ 0.7× raw Bun', ratio('raw-bun', 'fanout_dps'), (v) => v >= 0.7, '×'],
    [
      'fan-out p99 < 50 ms at 100k deliveries/s',
      medianOf(ours, 'fanout_p99'),
      (v) => v < 50,
      ' ms',
    ],
    [
      'idle RSS ≤ 5 KB per authenticated connection',
      medianOf(ours, 'idle_kb'),
      (v) => v <= 5,
      ' KB',
    ],
    [
      'handshakes/s ≥ 3× socket.io on Node',
      ratio('socketio-node', 'storm_hps'),
      (v) => v >= 3,
      '×',
    ],
    // One sender has no target any more: it is bound by its connection's window (bench/README.md).
    [
      '≥ 50,000 persisted messages/s, 10 senders',
      medianOf(ours, 'persist_10'),
      (v) => v >= 50_000,
      ' msg/s',
    ],
    [
      '18,000 authenticated connections held by one process',
      medianOf(ours, 'conns_1_held'),
      (v) => v >= 18_000,
      ' sockets',
    ],
    [
      '36,000 held with WORKERS=2 and Redis on one port',
      medianOf(ours, 'conns_2_held'),
      (v) => v >= 36_000,
      ' sockets',
    ],
    [
      'history page p99 at 10M messages ≤ 1.5× its p99 at 10k',
      medianOf(ours, 'history_ratio'),
      (v) => v <= 1.5,
      '×',
    ],
    [
      'search p99 ≤ 50 ms, one word over 1M messages',
      medianOf(ours, 'search_p99'),
      (v) => v <= 50,
      ' ms',
    ],
    [
      'resume: 1,000 missed events replayed ≤ 50 ms',
      medianOf(ours, 'resume_ms'),
      (v) => v <= 50,
      ' ms',
    ],
  ]
  const lines = checks.map(([label, value, pass, unit]) => {
    if (value === null) return `| ${label} | n/a | not measured |`
    const shownValue = unit === '×' ? `×${value.toFixed(2)}` : `${formatNumber(value, 1)}${unit}`
    return `| ${label} | ${shownValue} | ${pass(value) ? 'met' : '**not met**'} |`
  })
  return ['| target | measured | |', '| --- | ---: | --- |', ...lines].join('\n')
}

export function machineDescription(nodeVersion: string | null): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const ram = (totalmem() / 2 ** 30).toFixed(1)
  return `${cpus().length} cores (nproc), ${cpu}, ${ram} GiB RAM, Linux ${release()}, Bun ${Bun.version}, Node ${nodeVersion ?? 'n/a'}`
}

const START = '<!-- bench:results:start -->'
const END = '<!-- bench:results:end -->'

/** Biome formats Markdown and JSON too (it aligns table columns); `biome ci` must stay green after a run. */
function formatWithBiome(path: string): void {
  const root = new URL('..', import.meta.url).pathname
  const formatted = Bun.spawnSync([`${root}node_modules/.bin/biome`, 'format', '--write', path], {
    cwd: root,
    stdout: 'ignore',
    stderr: 'pipe',
  })
  if (formatted.exitCode !== 0) {
    console.warn(`biome format ${path} failed: ${formatted.stderr.toString().trim().slice(0, 300)}`)
  }
}

/** Replaces the results block of bench/README.md (between the two markers) with `block`. */
export async function writeReadme(path: string, block: string): Promise<void> {
  const text = await Bun.file(path).text()
  const from = text.indexOf(START)
  const to = text.indexOf(END)
  if (from < 0 || to < from) throw new Error(`${path} has no ${START} … ${END} block`)
  await Bun.write(path, `${text.slice(0, from + START.length)}\n${block}\n${text.slice(to)}`)
  formatWithBiome(path)
}

/** One metric of one target as a run left it: its median, and its median ratio where it has one. */
interface StoredMetric {
  value: number | null
  ratio: number | null
  /** When it was measured (ISO time of the run's end). */
  at: string
}

/** What runs leave for the next run of the same mode: target → metric → the last measurement. */
type StoredResults = Record<string, Record<string, StoredMetric>>

/** The stored results at `path`, or none (first run, or a file from an older layout). */
export async function readLastResults(path: string): Promise<StoredResults> {
  const text = await Bun.file(path)
    .text()
    .catch(() => null)
  if (!text) return {}
  try {
    const parsed = JSON.parse(text) as unknown
    return parsed && typeof parsed === 'object' ? (parsed as StoredResults) : {}
  } catch {
    return {}
  }
}

/** This run's medians and ratios, per target that ran, for every metric it measured. */
function summarize(columns: readonly TargetColumn[], at: string): StoredResults {
  const reference = columns.find((c) => c.name === REFERENCE && !c.skipped)
  const summary: StoredResults = {}
  for (const column of columns) {
    if (column.skipped) continue
    const metrics: Record<string, StoredMetric> = {}
    for (const { key } of METRICS) {
      const value = medianOf(column, key)
      if (value === null) continue
      const ratio = column === reference ? null : ratioOf(column, reference, key)
      metrics[key] = { value, ratio, at }
    }
    summary[column.name] = metrics
  }
  return summary
}

/** How good a figure is, so that "fell" means worse whichever way the metric is better. */
const goodness = (figure: number, better: MetricDef['better']) =>
  better === 'higher' ? figure : 1 / figure

/**
 * The metrics of this run whose figure fell by more than `threshold` against the last run (worse by
 * that much: a ratio to socket.io on Node where both runs have one, else the median itself), as
 * lines to print; and the stored results with this run's measurements merged in (metrics this run
 * did not measure keep their last values).
 */
export function compareWithLast(
  columns: readonly TargetColumn[],
  last: StoredResults,
  at: string,
  threshold = 0.1
): { fell: string[]; next: StoredResults } {
  const now = summarize(columns, at)
  const fell: string[] = []
  for (const [target, metrics] of Object.entries(now)) {
    for (const metric of METRICS) {
      const current = metrics[metric.key]
      const before = last[target]?.[metric.key]
      if (!current || !before) continue
      const byRatio = current.ratio !== null && before.ratio !== null
      const [was, is] = byRatio
        ? [before.ratio as number, current.ratio as number]
        : [before.value, current.value]
      if (was === null || is === null || was <= 0 || is <= 0) continue
      const change = goodness(is, metric.better) / goodness(was, metric.better)
      if (change >= 1 - threshold) continue
      const shown = (v: number) => (byRatio ? `×${v.toFixed(2)}` : formatNumber(v, metric.digits))
      fell.push(
        `- ${target}: ${metric.label}: ${shown(was)} → ${shown(is)} (${Math.round((1 - change) * 100)} % worse; last measured ${before.at})`
      )
    }
  }
  const next: StoredResults = { ...last }
  for (const [target, metrics] of Object.entries(now)) {
    next[target] = { ...last[target], ...metrics }
  }
  return { fell, next }
}

/** Writes the stored results for the next run (formatted, so `biome ci` stays green). */
export async function writeLastResults(path: string, results: StoredResults): Promise<void> {
  await Bun.write(path, `${JSON.stringify(results, null, 2)}\n`)
  formatWithBiome(path)
}
