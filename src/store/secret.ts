/**
 * @module Generated secrets: made once and kept in the data directory (mode 0600), so they
 * survive restarts: the development JWT secret and the VAPID key pair when the environment sets
 * none. Every node that shares the data directory shares them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Reads `<dataDir>/<file>`, writing `create()` there first if it does not exist yet. `create`
 * runs only when the file is missing; two processes starting together agree on one value.
 */
export function loadOrCreateDataFile(dataDir: string, file: string, create: () => string): string {
  const path = join(dataDir, file)
  mkdirSync(dataDir, { recursive: true })
  if (!existsSync(path)) {
    const value = create()
    try {
      // 'wx' fails if the file exists, so two processes starting together agree on one value.
      writeFileSync(path, `${value}\n`, { flag: 'wx', mode: 0o600 })
      return value
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  return readFileSync(path, 'utf8').trim()
}

/**
 * `<dataDir>/jwt-secret`. Only used when JWT_SECRET is unset outside production (config.ts
 * refuses that combination in production).
 */
export function loadOrCreateSecret(dataDir: string): string {
  const secret = loadOrCreateDataFile(dataDir, 'jwt-secret', () =>
    Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString('base64url')
  )
  if (secret.length < 32) {
    throw new Error(`${join(dataDir, 'jwt-secret')} holds a secret shorter than 32 characters`)
  }
  return secret
}
