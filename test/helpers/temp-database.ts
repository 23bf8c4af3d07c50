/**
 * @module Throwaway databases: a file in a new temporary directory (or a new sqld of its own),
 * migrated, and when asked seeded with the cities and one user to write as. `remove` closes and
 * deletes one. The store tests get them through tempDatabases (helpers/store.ts), which removes
 * them after each test; the bench's standalone cost loops (bench/*-cost.ts) remove their own.
 */
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
import { startSqld } from './sqld.ts'

/** A driver on a local file, or libSQL against a libSQL server (sqld) of the test's own. */
export type StoreKind = DriverName | 'sqld'

export type TempDatabaseOptions = Omit<DatabaseOptions, 'url' | 'driver'> & { kind?: StoreKind }

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
 * A database of its own, migrated (by default through every migration). `path` is the file, or
 * the server's URL.
 */
export async function migratedDatabase(
  { kind = 'bun-sqlite', ...options }: TempDatabaseOptions = {},
  migrations?: Migration[]
): Promise<{ database: Database; path: string; remove(): Promise<void> }> {
  const { url, path, driver, remove: removePlace } = await place(kind)
  let database: Database
  try {
    database = await openDatabase({ url, ...options, ...driver })
  } catch (error) {
    await removePlace()
    throw error
  }
  const remove = async () => {
    await database.close()
    await removePlace()
  }
  try {
    await migrate(database, migrations)
  } catch (error) {
    await remove()
    throw error
  }
  return { database, path, remove }
}

/**
 * Migrated, the cities seeded, and one user to write as, named `name`.
 * @example
 * const { database, author, remove } = await seededDatabase({}, 'poll')
 * try { ... } finally { await remove() }
 */
export async function seededDatabase(options: TempDatabaseOptions = {}, name = 'writer') {
  const migrated = await migratedDatabase(options)
  try {
    await seedCities(migrated.database.db)
    const now = Date.now()
    const author = await insertUser(migrated.database.db, {
      id: newId(now),
      username: name,
      email: `${name}@example.com`,
      fullName: name,
      createdAt: now,
      updatedAt: now,
    })
    return { ...migrated, author }
  } catch (error) {
    await migrated.remove()
    throw error
  }
}
