/** @module Migrations: embedded SQL matches drizzle-kit's journal and drizzle's own migrator bookkeeping. */

import { Database as BunDatabase } from 'bun:sqlite'
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { migrate as drizzleMigrate } from 'drizzle-orm/bun-sqlite/migrator'
import { type DriverName, openDatabase } from '../../src/store/db.ts'
import { loadMigrations, migrate } from '../../src/store/migrate.ts'
import { JOURNAL_ENTRIES, MIGRATION_SQL } from '../../src/store/migrations.ts'
import { rejectionOf } from '../helpers/rejection.ts'

const dirs: string[] = []
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chat-migrate-'))
  dirs.push(dir)
  return join(dir, 'test.db')
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const bookkeeping = (path: string) => {
  const db = new BunDatabase(path)
  const rows = db
    .query('SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at')
    .all()
  db.close()
  return rows
}

describe('embedded migrations', () => {
  test('every drizzle/*.sql file is in the journal and embedded byte for byte', () => {
    const files = readdirSync('drizzle').filter((f) => f.endsWith('.sql'))
    expect(files.map((f) => f.replace(/\.sql$/, '')).sort()).toEqual(
      JOURNAL_ENTRIES.map((e) => e.tag).sort()
    )
    for (const file of files) {
      expect(MIGRATION_SQL[file.replace(/\.sql$/, '')]).toBe(
        readFileSync(join('drizzle', file), 'utf8')
      )
    }
  })

  test('a journal entry without embedded SQL is a clear error', () => {
    expect(() =>
      loadMigrations([{ idx: 9, when: 1, tag: '0009_missing', breakpoints: true }], {})
    ).toThrow(/0009_missing/)
  })
})

describe.each(['bun-sqlite', 'libsql'] as DriverName[])('migrate over %s', (driver) => {
  test('applies once, then nothing; records what drizzle records', async () => {
    const path = tempFile()
    const database = await openDatabase({ url: `file:${path}`, driver })
    expect(database.driver).toBe(driver)
    expect(await migrate(database)).toEqual(JOURNAL_ENTRIES.map((e) => e.tag))
    expect(await migrate(database)).toEqual([])
    await database.close()

    const reference = tempFile()
    const sqlite = new BunDatabase(reference)
    drizzleMigrate(drizzle(sqlite), { migrationsFolder: './drizzle' })
    sqlite.close()
    expect(bookkeeping(path)).toEqual(bookkeeping(reference))
  })

  test('a database migrated by drizzle itself needs nothing more', async () => {
    const path = tempFile()
    const sqlite = new BunDatabase(path)
    drizzleMigrate(drizzle(sqlite), { migrationsFolder: './drizzle' })
    sqlite.close()
    const database = await openDatabase({ url: `file:${path}`, driver })
    expect(await migrate(database)).toEqual([])
    await database.close()
  })

  test('a failing migration rolls back and records nothing', async () => {
    const database = await openDatabase({ url: `file:${tempFile()}`, driver })
    const broken = [
      { tag: 'x', folderMillis: 1, hash: 'h', statements: ['CREATE TABLE t (a int)', 'NOT SQL'] },
    ]
    await rejectionOf(migrate(database, broken))
    expect(await database.queryRows("SELECT name FROM sqlite_master WHERE name = 't'")).toEqual([])
    expect(await database.queryRows('SELECT * FROM __drizzle_migrations')).toEqual([])
    await database.close()
  })
})
