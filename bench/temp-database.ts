/**
 * @module A throwaway database for the standalone cost loops (bench/*-cost.ts): a WAL file in a new
 * temporary directory, migrated, with the cities seeded and one user to write as.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../src/store/db.ts'
import { newId } from '../src/store/ids.ts'
import { migrate } from '../src/store/migrate.ts'
import { seedCities } from '../src/store/seed.ts'
import { insertUser } from '../src/store/users.ts'

/**
 * @example
 * const { database, author, remove } = await tempDatabase('poll')
 * try { ... } finally { await remove() }
 */
export async function tempDatabase(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`))
  const database = await openDatabase({ url: `file:${join(dir, 'chat.db')}` })
  const remove = async () => {
    await database.close()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await migrate(database)
    await seedCities(database.db)
    const now = Date.now()
    const author = await insertUser(database.db, {
      id: newId(now),
      username: name,
      email: `${name}@bench.test`,
      fullName: name,
      createdAt: now,
      updatedAt: now,
    })
    return { database, author, remove }
  } catch (error) {
    await remove()
    throw error
  }
}
