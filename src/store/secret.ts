/** @module Development JWT secret: generated once and kept in the data directory so tokens survive restarts. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const FILE = 'jwt-secret'

/**
 * Reads `<dataDir>/jwt-secret`, creating it (mode 0600) on first use. Only used when JWT_SECRET
 * is unset outside production (config.ts refuses that combination in production).
 */
export function loadOrCreateSecret(dataDir: string): string {
  const path = join(dataDir, FILE)
  mkdirSync(dataDir, { recursive: true })
  try {
    const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString('base64url')
    // 'wx' fails if the file exists, so two processes starting together agree on one secret.
    writeFileSync(path, `${secret}\n`, { flag: 'wx', mode: 0o600 })
    return secret
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const secret = readFileSync(path, 'utf8').trim()
  if (secret.length < 32) throw new Error(`${path} holds a secret shorter than 32 characters`)
  return secret
}
