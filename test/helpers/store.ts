/** @module Temporary database files for the store tests: migrated, optionally seeded, removed after each test. */
import { afterEach } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Database, type DatabaseOptions, openDatabase } from '../../src/store/db.ts'
import { newId } from '../../src/store/ids.ts'
import { type Migration, migrate } from '../../src/store/migrate.ts'
import { seedCities } from '../../src/store/seed.ts'
import { insertUser } from '../../src/store/users.ts'

type Options = Omit<DatabaseOptions, 'url'>

/**
 * Registers an afterEach that closes and removes every database the test opened.
 * @example const databases = tempDatabases(); const { database, author } = await databases.seeded()
 */
export function tempDatabases() {
  const opened: Array<{ database: Database; dir: string }> = []
  afterEach(async () => {
    for (const { database, dir } of opened.splice(0)) {
      await database.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  /** A database file in a new temporary directory, migrated (by default through every migration). */
  async function migrated(
    options: Options = {},
    migrations?: Migration[]
  ): Promise<{ database: Database; path: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'chat-store-'))
    const path = join(dir, 'chat.db')
    const database = await openDatabase({ url: `file:${path}`, ...options })
    opened.push({ database, dir })
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
