/**
 * @module Awaiting a rejection. bun:test's `expect(promise).rejects` spins a nested event loop while
 * the promise is still pending (oven-sh/bun#14950): one settled from `setImmediate` (the group
 * writer) or a socket event can then wait seconds, or past the test's timeout, in a full run. So
 * tests await the rejection first and assert on the error.
 */

/**
 * The error `promise` rejects with; throws when it resolves instead, or rejects with a non-Error.
 * @example expect((await rejectionOf(connectAs(url, user))).message).toContain('Authentication error')
 */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ resolved: value }),
    (error: unknown) => ({ rejected: error })
  )
  if ('resolved' in outcome) throw new Error('expected a rejection, the promise resolved')
  if (!(outcome.rejected instanceof Error))
    throw new Error(`expected an Error, got ${String(outcome.rejected)}`)
  return outcome.rejected
}
