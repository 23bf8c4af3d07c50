/** @module Ids: 24-hex, time-sortable (ms timestamp + per-ms counter), so they double as cursors. */

/** 2^48 - 1: a Number holds it exactly (2^53), so no BigInt on the send path. */
const COUNTER_MAX = 0xffff_ffff_ffff

/** 47 random bits; the low half of the id starts here each millisecond and counts up. */
function randomStart(): number {
  const [high = 0, low = 0] = crypto.getRandomValues(new Uint32Array(2))
  // 15 bits of `high` and 32 of `low`: headroom so counting up within one millisecond never wraps.
  return (high & 0x7fff) * 0x1_0000_0000 + low
}

/**
 * An id source. Each id is 12 hex of milliseconds then 12 hex of a counter that starts at a random
 * point each millisecond and increments, so one source's ids are strictly increasing (a clock that
 * steps back keeps counting in the last millisecond) and different sources' ids still sort by
 * creation time. Each source keeps its own clock.
 * @example const nextId = createIdSource(); nextId() // '018f3a2b4c5d7e9a0b1c2d3e'
 */
export function createIdSource(): (now?: number) => string {
  let lastMs = 0
  let counter = 0
  return (now = Date.now()) => {
    if (now <= lastMs) {
      counter = counter < COUNTER_MAX ? counter + 1 : counter
      now = lastMs
    } else {
      lastMs = now
      counter = randomStart()
    }
    return now.toString(16).padStart(12, '0') + counter.toString(16).padStart(12, '0')
  }
}

/** The process's ids, from one source: every id it makes is greater than the one before. */
export const newId = createIdSource()

export const ID_PATTERN = /^[0-9a-f]{24}$/

/** The creation time encoded in an id. */
export function idTime(id: string): number {
  return Number.parseInt(id.slice(0, 12), 16)
}
