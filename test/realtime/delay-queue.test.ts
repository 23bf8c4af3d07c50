/**
 * @module The heartbeat's timer queue (realtime/engine/delay-queue.ts): entries fire after their
 * delay in the order added, a re-added item fires once at its new time, a cancelled one never.
 */
import { expect, test } from 'bun:test'
import { createLogger } from '../../src/log.ts'
import { DelayQueue, type Queued } from '../../src/realtime/engine/delay-queue.ts'

interface Item extends Queued {
  name: string
}
const item = (name: string): Item => ({ name, queue: undefined, queueSlot: 0 })
const logger = createLogger({ level: 'error', base: {} })

test('fires each entry after the delay, in order; cancelled and moved entries fire once or never', async () => {
  const fired: Array<[string, number]> = []
  const start = performance.now()
  const queue = new DelayQueue<Item>(
    40,
    (i) => fired.push([i.name, performance.now() - start]),
    logger
  )
  const [a, b, c, d] = [item('a'), item('b'), item('c'), item('d')]
  queue.add(a)
  queue.add(b)
  queue.add(c)
  queue.cancel(b)
  await Bun.sleep(20)
  queue.add(a) // moved: 40 ms from now, not from the first add
  queue.add(d)
  await Bun.sleep(100)
  expect(fired.map(([name]) => name)).toEqual(['c', 'a', 'd'])
  for (const [name, at] of fired) expect(at).toBeGreaterThanOrEqual(name === 'c' ? 39 : 59)
  expect(a.queue).toBeUndefined()
  expect(b.queue).toBeUndefined()
})

test('an item moves between queues of two delays; a throwing callback does not stop the others', async () => {
  const fired: string[] = []
  const fire = (i: Item) => {
    fired.push(i.name)
    if (i.name === 'x') throw new Error('boom')
  }
  const slow = new DelayQueue<Item>(60, fire, logger)
  const fast = new DelayQueue<Item>(10, fire, logger)
  const [x, y, z] = [item('x'), item('y'), item('z')]
  slow.add(x)
  fast.add(x) // leaves the slow queue
  fast.add(y)
  slow.add(z)
  await Bun.sleep(30)
  expect(fired).toEqual(['x', 'y'])
  await Bun.sleep(60)
  expect(fired).toEqual(['x', 'y', 'z'])
})

test('thousands of entries re-added many times keep their places across compaction', async () => {
  const counts = new Map<string, number>()
  const queue = new DelayQueue<Item>(
    5,
    (i) => counts.set(i.name, (counts.get(i.name) ?? 0) + 1),
    logger
  )
  const items = Array.from({ length: 3_000 }, (_, i) => item(`i${i}`))
  for (let round = 0; round < 3; round++) for (const i of items) queue.add(i)
  for (const i of items.slice(0, 1_000)) queue.cancel(i)
  await Bun.sleep(40)
  expect(counts.size).toBe(2_000)
  expect([...counts.values()].every((n) => n === 1)).toBe(true)
  // Fired entries are dropped: adding again works from a compacted queue.
  for (const i of items) queue.add(i)
  await Bun.sleep(40)
  expect(counts.get('i0')).toBe(1)
  expect(counts.get('i2999')).toBe(2)
  queue.clear()
})
