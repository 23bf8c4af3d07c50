/** @module Temporary databases for the store tests: migrated, optionally seeded, removed after each test. */
import { afterEach } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Database,
  type DatabaseOptions,
  type DriverName,
  openDatabase,
} from '../../src/store/db.ts'
import { newId } from '../../src/store/ids.ts'
import { type Migration, migrate } from '../../src/store/migrate.ts'
import { seedCities } from '../../src/store/seed.ts'
import { insertUser } from '../../src/store/users.ts'
import { SQLD_SKIP_REASON, startSqld } from './sqld.ts'

/** A driver on a local file, or libSQL against a libSQL server (sqld) of the test's own. */
export type StoreKind = DriverName | 'sqld'

/** Every kind the store suites run over; sqld where it is installed (CI fetches it). */
export const STORE_KINDS: StoreKind[] = ['bun-sqlite', 'libsql']
if (!SQLD_SKIP_REASON) STORE_KINDS.push('sqld')

type Options = Omit<DatabaseOptions, 'url' | 'driver'> & { kind?: StoreKind }

/** Where a new database of that kind lives, and how to remove it. */
async function place(kind: StoreKind) {
  if (kind === 'sqld') {
    const sqld = await startSqld()
    return { url: sqld.url, path: sqld.url, driver: {}, remove: sqld.stop }
  }
  const dir = mkdtempSync(join(tmpdir(), 'chat-store-'))
  const path = join(dir, 'chat.db')
  const remove = () => rmSync(dir, { recursive: true, force: true })
  return { url: `file:${path}`, path, driver: { driver: kind }, remove }
}

/**
 * Registers an afterEach that closes and removes every database the test opened.
 * @example const databases = tempDatabases(); const { database, author } = await databases.seeded()
 */
export function tempDatabases() {
  const opened: Array<{ database: Database; remove(): Promise<void> | void }> = []
  afterEach(async () => {
    for (const { database, remove } of opened.splice(0)) {
      await database.close()
      await remove()
    }
  })

  /**
   * A database of its own (a file in a new temporary directory, or a new sqld), migrated (by
   * default through every migration). `path` is the file, or the server's URL.
   */
  async function migrated(
    { kind = 'bun-sqlite', ...options }: Options = {},
    migrations?: Migration[]
  ): Promise<{ database: Database; path: string }> {
    const { url, path, driver, remove } = await place(kind)
    const database = await openDatabase({ url, ...options, ...driver })
    opened.push({ database, remove })
    await migrate(database, migrations)
    return { database, path }
  }

  /** Migrated, the cities seeded, and one user to write as. */
  async function seeded(options: Options = {}) {
    const { database, path } = await migrated(options)
    await seedCities(database.db)
    const now = Date.now()
    const author = await insertUser(database.db, {
      id: newId(now),
      username: 'writer',
      email: 'writer@example.com',
      fullName: 'Writer',
      createdAt: now,
      updatedAt: now,
    })
    return { database, path, author }
  }

  return { migrated, seeded }
}
