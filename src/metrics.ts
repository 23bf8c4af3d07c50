/**
 * @module Metrics: counters, gauges and histograms with labels, rendered in the Prometheus text
 * exposition format (version 0.0.4). No dependency: the format is a few lines per family.
 *
 * Format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

type Labels = Record<string, string>

interface Family {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram'
  render(): string[]
}

/** Label values escape backslash, double quote and newline (exposition format). */
function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
  )
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

/** The labels of an unlabelled series: one object, so its key is computed once too. */
const NO_LABELS: Labels = Object.freeze({})

/** Series keys by label object: hot callers pass the same constant object, so it is computed once. */
const keys = new WeakMap<Labels, string>()
const keyOf = (labels: Labels): string => {
  let key = keys.get(labels)
  if (key === undefined) {
    key = JSON.stringify(Object.entries(labels).sort())
    keys.set(labels, key)
  }
  return key
}

export interface Counter {
  inc(labels?: Labels, by?: number): void
}
export interface Gauge {
  set(value: number, labels?: Labels): void
}
export interface Histogram {
  observe(value: number, labels?: Labels): void
}

/** Seconds: 0.1 ms to 2.5 s, for latencies measured in milliseconds / 1000. */
const LATENCY_BUCKETS = [
  0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
]

/**
 * @example
 * const metrics = createMetrics()
 * const sent = metrics.counter('chat_messages_total', 'Messages stored')
 * sent.inc({ room: 'city' })
 * metrics.render() // '# HELP chat_messages_total ...'
 */
export function createMetrics() {
  const families: Family[] = []
  const collectors: (() => void)[] = []

  const series = <T>() => new Map<string, { labels: Labels; value: T }>()

  return {
    counter(name: string, help: string): Counter {
      const values = series<number>()
      families.push({
        name,
        help,
        type: 'counter',
        render: () =>
          [...values.values()].map(({ labels, value }) => `${name}${labelText(labels)} ${value}`),
      })
      return {
        inc(labels = NO_LABELS, by = 1) {
          const key = keyOf(labels)
          const entry = values.get(key)
          if (entry) entry.value += by
          else values.set(key, { labels, value: by })
        },
      }
    },
    gauge(name: string, help: string): Gauge {
      const values = series<number>()
      families.push({
        name,
        help,
        type: 'gauge',
        render: () =>
          [...values.values()].map(({ labels, value }) => `${name}${labelText(labels)} ${value}`),
      })
      return {
        set(value, labels = NO_LABELS) {
          values.set(keyOf(labels), { labels, value })
        },
      }
    },
    histogram(name: string, help: string, buckets = LATENCY_BUCKETS): Histogram {
      const values = series<{ counts: number[]; sum: number; count: number }>()
      families.push({
        name,
        help,
        type: 'histogram',
        render: () =>
          [...values.values()].flatMap(({ labels, value }) => [
            ...buckets.map(
              (le, i) =>
                `${name}_bucket${labelText({ ...labels, le: String(le) })} ${value.counts[i]}`
            ),
            `${name}_bucket${labelText({ ...labels, le: '+Inf' })} ${value.count}`,
            `${name}_sum${labelText(labels)} ${value.sum}`,
            `${name}_count${labelText(labels)} ${value.count}`,
          ]),
      })
      return {
        observe(value, labels = NO_LABELS) {
          const key = keyOf(labels)
          let entry = values.get(key)?.value
          if (!entry) {
            entry = { counts: buckets.map(() => 0), sum: 0, count: 0 }
            values.set(key, { labels, value: entry })
          }
          // Buckets are cumulative: an observation counts in every bucket at or above it.
          for (let i = 0; i < buckets.length; i++) {
            if (value <= (buckets[i] as number)) entry.counts[i] = (entry.counts[i] as number) + 1
          }
          entry.sum += value
          entry.count += 1
        },
      }
    },
    /** Runs before each render: for gauges read from live state (connections, rooms). */
    collect(fn: () => void) {
      collectors.push(fn)
    },
    render(): string {
      for (const fn of collectors) fn()
      const lines: string[] = []
      for (const family of families) {
        lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`)
        lines.push(...family.render())
      }
      return `${lines.join('\n')}\n`
    },
  }
}
