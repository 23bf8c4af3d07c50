/**
 * @module Credentials: opaque random tokens and their sha256 (only hashes are stored), and the
 * argon2id password hasher with a dummy hash, so a path that finds nobody costs the same work.
 */

export const sha256 = (text: string): string =>
  new Bun.CryptoHasher('sha256').update(text).digest('hex')

/** 256 random bits, base64url. */
export function randomToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}

export interface Passwords {
  hash(password: string): Promise<string>
  /** Verifies against `hash`, or against a dummy hash when there is none (same cost, false). */
  verify(password: string, hash: string | null | undefined): Promise<boolean>
}

/** @example const passwords = createPasswords(65_536); await passwords.verify(input, user.passwordHash) */
export function createPasswords(memoryKib: number): Passwords {
  const options = { algorithm: 'argon2id', memoryCost: memoryKib, timeCost: 2 } as const
  const dummy = Bun.password.hash(randomToken(), options)
  return {
    hash: (password) => Bun.password.hash(password, options),
    async verify(password, hash) {
      const matches = await Bun.password.verify(password, hash ?? (await dummy))
      return Boolean(hash) && matches
    },
  }
}
