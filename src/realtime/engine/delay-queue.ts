/**
 * @module Many timers of one fixed delay on one `setTimeout`: the heartbeat of every session.
 *
 * Every entry waits the same delay, so entries fall due in the order they were added and a plain
 * FIFO is already sorted. An entry costs two array slots instead of a `Timeout` object and its
 * native timer (10k idle sessions, one timer per delay). Each item remembers its place, so
 * cancelling is O(1) and drops the reference at once (a closed session is not kept until its
 * entry would have fired).
 */
import type { Logger } from '../../log.ts'

/** Where an item waits: its queue and absolute position, set and cleared by the queue. */
export interface Queued {
  queue: { cancel(item: Queued): void } | undefined
  queueSlot: number
}

/** Timers fire this much early at most (setTimeout's millisecond rounding). */
const EARLY_MS = 1

export class DelayQueue<T extends Queued> {
  /** Items and their due times, interleaved; cancelled entries are `undefined`. */
  private entries: Array<T | number | undefined> = []
  /** Absolute position of `entries[0]`, so an item's slot survives compaction. */
  private base = 0
  private head = 0
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    readonly delay: number,
    private readonly fire: (item: T) => void,
    private readonly logger: Logger
  ) {}

  /** `fire(item)` after `delay` ms, unless cancelled first; moves the item if already queued. */
  add(item: T): void {
    item.queue?.cancel(item)
    item.queue = this
    item.queueSlot = this.base + this.entries.length
    this.entries.push(item, performance.now() + this.delay)
    if (!this.timer) this.arm(this.delay)
  }

  cancel(item: T): void {
    if (item.queue !== this) return
    const index = item.queueSlot - this.base
    if (this.entries[index] === item) this.entries[index] = undefined
    item.queue = undefined
  }

  private arm(ms: number): void {
    this.timer = setTimeout(onDue, Math.max(0, ms), this)
  }

  /** @internal the head entry is due: fire every entry due now, then wait for the next one. */
  run(): void {
    this.timer = undefined
    const now = performance.now() + EARLY_MS
    const entries = this.entries
    while (this.head < entries.length) {
      const item = entries[this.head] as T | undefined
      const due = entries[this.head + 1] as number
      if (item !== undefined && due > now) break
      this.head += 2
      if (item === undefined) continue
      item.queue = undefined
      try {
        this.fire(item)
      } catch (error) {
        this.logger.error('timer callback threw', { error })
      }
    }
    this.compact()
    if (this.head < this.entries.length) {
      this.arm((this.entries[this.head + 1] as number) - performance.now())
    }
  }

  /** Drops fired entries once they are most of the array (amortised O(1) per entry). */
  private compact(): void {
    if (this.head === this.entries.length) {
      this.base += this.head
      this.entries = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.base += this.head
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
  }

  /** Cancels everything (engine shutdown). */
  clear(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    for (let i = this.head; i < this.entries.length; i += 2) {
      const item = this.entries[i] as T | undefined
      if (item) item.queue = undefined
    }
    this.base += this.entries.length
    this.entries = []
    this.head = 0
  }
}

/** Module-level so arming the queue's timer allocates no closure. */
function onDue<T extends Queued>(queue: DelayQueue<T>): void {
  queue.run()
}
