/** @module A mergeable log-bucketed latency histogram (about 1% relative error, 10 µs to 100 s). */

const GROWTH = 1.02
const LOG_GROWTH = Math.log(GROWTH)
const MIN_US = 10
/** Buckets needed to reach 100 s from 10 µs at 2% growth. */
const BUCKETS = Math.ceil(Math.log(100e6 / MIN_US) / LOG_GROWTH) + 1

export interface Histogram {
  counts: Uint32Array
  total: number
}

export const createHistogram = (): Histogram => ({ counts: new Uint32Array(BUCKETS), total: 0 })

export function record(histogram: Histogram, latencyMs: number): void {
  const us = Math.max(latencyMs * 1_000, MIN_US)
  const index = Math.min(BUCKETS - 1, Math.floor(Math.log(us / MIN_US) / LOG_GROWTH))
  histogram.counts[index] = (histogram.counts[index] ?? 0) + 1
  histogram.total += 1
}

/** Sparse form for IPC: `[bucket, count]` pairs of the non-empty buckets. */
export function toSparse(histogram: Histogram): Array<[number, number]> {
  const pairs: Array<[number, number]> = []
  histogram.counts.forEach((count, index) => {
    if (count > 0) pairs.push([index, count])
  })
  return pairs
}

export function mergeSparse(
  into: Histogram,
  pairs: ReadonlyArray<readonly [number, number]>
): void {
  for (const [index, count] of pairs) {
    if (index < 0 || index >= BUCKETS) continue
    into.counts[index] = (into.counts[index] ?? 0) + count
    into.total += count
  }
}

/** The latency in ms at quantile q (0..1): the geometric middle of the bucket it falls in. */
export function quantile(histogram: Histogram, q: number): number | null {
  if (histogram.total === 0) return null
  const rank = Math.max(1, Math.ceil(q * histogram.total))
  let seen = 0
  for (let index = 0; index < BUCKETS; index++) {
    seen += histogram.counts[index] ?? 0
    if (seen >= rank) return (MIN_US * GROWTH ** (index + 0.5)) / 1_000
  }
  return null
}

/** The exact value at quantile q (0..1) of latencies sorted ascending (few samples, kept whole). */
export function sortedQuantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? null
}
