/**
 * @module Replacing the word filter is one write on every store kind: the old terms go and the new
 * ones come in together, so a replace that fails part-way (here a term the table refuses, NOT NULL)
 * leaves the filter as it was instead of empty.
 */
import { describe, expect, test } from 'bun:test'
import { listWordFilter, replaceWordFilter } from '../../src/store/moderation.ts'
import { rejectionOf } from '../helpers/rejection.ts'
import { STORE_KINDS, tempDatabases } from '../helpers/store.ts'

const databases = tempDatabases()

describe.each(STORE_KINDS)('the word filter over %s', (kind) => {
  test('a replace is all or nothing', async () => {
    const { database } = await databases.seeded({ kind })
    const { db } = database
    await replaceWordFilter(db, [{ term: 'spam', action: 'block' }])
    const refused = [
      { term: 'scam', action: 'flag' as const },
      { term: null as unknown as string, action: 'block' as const },
    ]
    expect((await rejectionOf(replaceWordFilter(db, refused))).message).toBeString()
    expect(await listWordFilter(db)).toEqual([{ term: 'spam', action: 'block' }])
    await replaceWordFilter(db, [{ term: 'scam', action: 'flag' }])
    expect(await listWordFilter(db)).toEqual([{ term: 'scam', action: 'flag' }])
    await replaceWordFilter(db, [])
    expect(await listWordFilter(db)).toEqual([])
  })
})
