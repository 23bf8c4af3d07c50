/** @module Migrator: applies the embedded drizzle-kit migrations with drizzle's `__drizzle_migrations` semantics. */
import type { Database } from './db.ts'
import { JOURNAL_ENTRIES, type JournalEntry, MIGRATION_SQL } from './migrations.ts'

export interface Migration {
  tag: string
  /** The journal's `when`; drizzle stores it as created_at and applies anything newer. */
  folderMillis: number
  /** sha256 of the file, as drizzle's readMigrationFiles computes it. */
  hash: string
  statements: string[]
}

const TABLE = '__drizzle_migrations'

/** Same split and hash as drizzle-orm/migrator's readMigrationFiles. */
export function loadMigrations(
  entries: JournalEntry[] = JOURNAL_ENTRIES,
  files: Record<string, string> = MIGRATION_SQL
): Migration[] {
  return entries.map((entry) => {
    const text = files[entry.tag]
    if (text === undefined)
      throw new Error(`migration ${entry.tag} is in the journal but not embedded`)
    return {
      tag: entry.tag,
      folderMillis: entry.when,
      hash: new Bun.CryptoHasher('sha256').update(text).digest('hex'),
      statements: text
        .split('--> statement-breakpoint')
        .map((statement) => statement.trim())
        .filter(Boolean),
    }
  })
}

/**
 * Applies every migration newer than the last one recorded, in one transaction per migration,
 * recording each in `__drizzle_migrations` exactly as drizzle's own migrator does, so
 * `drizzle-kit migrate` and this function can take turns on the same database.
 * @returns the tags applied
 */
export async function migrate(
  database: Database,
  migrations = loadMigrations()
): Promise<string[]> {
  await database.executeAll([
    `CREATE TABLE IF NOT EXISTS "${TABLE}" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
  ])
  const rows = await database.queryRows(
    `SELECT id, hash, created_at FROM "${TABLE}" ORDER BY created_at DESC LIMIT 1`
  )
  const last = rows[0] ? Number(rows[0][2]) : Number.NEGATIVE_INFINITY
  const applied: string[] = []
  for (const migration of migrations) {
    if (migration.folderMillis <= last) continue
    const hash = migration.hash.replace(/'/g, '')
    await database.executeAll([
      ...migration.statements,
      `INSERT INTO "${TABLE}" ("hash", "created_at") VALUES ('${hash}', ${migration.folderMillis})`,
    ])
    applied.push(migration.tag)
  }
  return applied
}
