/** @module A migrated, seeded database file with one author, for the store tests. */
import { type Database, openDatabase } from '../../src/store/db.ts'
import { newId } from '../../src/store/ids.ts'
import { migrate } from '../../src/store/migrate.ts'
import { seedCities } from '../../src/store/seed.ts'
import { insertUser } from '../../src/store/users.ts'

/**
 * Opens `path` (the caller owns and removes its directory), migrates it, seeds the cities and
 * adds one user to write as.
 * @example const { database, author } = await seededDatabase(join(dir, 'x.db'))
 */
export async function seededDatabase(
  path: string,
  options: Omit<Parameters<typeof openDatabase>[0], 'url'> = {}
): Promise<{ database: Database; author: { id: string } }> {
  const database = await openDatabase({ url: `file:${path}`, ...options })
  await migrate(database)
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
  return { database, author }
}
