/** @module Polling for a state that has no event to wait on (a timer's work, another node's view). */

/** Polls `check` every 50 ms until it holds; throws after `ms`. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  ms = 8_000,
  what = 'condition'
): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return
    await Bun.sleep(50)
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}
