/**
 * @module The idle collector (src/idle-collector.ts): one full collection after the open-connection
 * count moved by at least `minChurn` and then held still for a sample while the process was idle;
 * none while the count is moving, while the process is busy, or again without new churn.
 */
import { expect, test } from 'bun:test'
import { createIdleCollector } from '../src/idle-collector.ts'
import { createLogger } from '../src/log.ts'

const logger = createLogger({ level: 'error', base: {} })

/** A collector over readings the test sets; each `sample` advances the clock by 500 ms. */
function rig(minChurn = 1_000) {
  const state = { connections: 0, cpuMs: 0, at: 0, collections: 0 }
  const collector = createIdleCollector({
    connections: () => state.connections,
    cpuMs: () => state.cpuMs,
    now: () => state.at,
    collect: () => {
      state.collections++
    },
    log: logger,
    minChurn,
  })
  /** One sample after `cpuMs` of CPU in the last 500 ms with `connections` open. */
  const sample = (connections: number, cpuMs = 0) => {
    state.connections = connections
    state.cpuMs += cpuMs
    state.at += 500
    return collector.tick()
  }
  return { state, sample }
}

test('collects once after a burst settles and the process is idle, not while it is still moving', () => {
  const { state, sample } = rig()
  expect(sample(400, 450)).toBe(false)
  expect(sample(900, 450)).toBe(false)
  expect(sample(1_200, 300)).toBe(false)
  // Still, but the last half second was busy (the burst's tail): not yet.
  expect(sample(1_200, 200)).toBe(false)
  expect(sample(1_200, 10)).toBe(true)
  expect(state.collections).toBe(1)
  // Nothing new: never again, however long it stays idle.
  for (let i = 0; i < 5; i++) expect(sample(1_200, 0)).toBe(false)
  expect(state.collections).toBe(1)
})

test('a leaving burst counts as churn too; a trickle below minChurn never collects', () => {
  const { state, sample } = rig()
  sample(2_000, 100)
  sample(2_000, 0)
  expect(state.collections).toBe(1)
  // 900 left one by one, then it holds still: below minChurn, nothing to give back yet.
  for (let open = 1_990; open >= 1_100; open -= 10) sample(open, 0)
  for (let i = 0; i < 3; i++) sample(1_100, 0)
  expect(state.collections).toBe(1)
  // 100 more make it worth one.
  sample(1_000, 0)
  expect(state.collections).toBe(1)
  sample(1_000, 0)
  expect(state.collections).toBe(2)
})

test('no collection while the process stays busy, even with the count still', () => {
  const { state, sample } = rig(100)
  sample(500, 400)
  for (let i = 0; i < 10; i++) sample(500, 300)
  expect(state.collections).toBe(0)
  sample(500, 20)
  expect(state.collections).toBe(1)
})
