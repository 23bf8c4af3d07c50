/** @module Temporary databases for the store tests: migrated, optionally seeded, removed after each test. */
import { afterEach } from 'bun:test'
import type { Migration } from '../../src/store/migrate.ts'
import { SQLD_SKIP_REASON } from './sqld.ts'
import {
  migratedDatabase,
  type StoreKind,
  seededDatabase,
  type TempDatabaseOptions,
} from './temp-database.ts'

export type { StoreKind } from './temp-database.ts'

/** Every kind the store suites run over; sqld where it is installed (CI fetches it). */
export const STORE_KINDS: StoreKind[] = ['bun-sqlite', 'libsql']
if (!SQLD_SKIP_REASON) STORE_KINDS.push('sqld')

/**
 * Registers an afterEach that closes and removes every database the test opened.
 * @example const databases = tempDatabases(); const { database, author } = await databases.seeded()
 */
export function tempDatabases() {
  const opened: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const remove of opened.splice(0)) await remove()
  })
  return {
    /** A database of its own (helpers/temp-database.ts migratedDatabase). */
    async migrated(options: TempDatabaseOptions = {}, migrations?: Migration[]) {
      const { remove, ...migrated } = await migratedDatabase(options, migrations)
      opened.push(remove)
      return migrated
    },
    /** Migrated, the cities seeded, and one user to write as (`writer`). */
    async seeded(options: TempDatabaseOptions = {}) {
      const { remove, ...seeded } = await seededDatabase(options)
      opened.push(remove)
      return seeded
    },
  }
}
