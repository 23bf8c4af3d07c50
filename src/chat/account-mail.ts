/**
 * @module Account mail: the mails the server sends about an account (verify an address, reset a
 * password, someone registered with your address, your address changed) and the single-use
 * tokens their links carry. A mail goes out in the background: the answer to the request that
 * caused it does not wait for SMTP, so it costs the same whether a mail was sent or not.
 */
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import { claimEmailToken, insertEmailToken, voidEmailTokens } from '../store/email-tokens.ts'
import { newId } from '../store/ids.ts'
import type { Mail, Mailer } from '../store/mail.ts'
import type { EmailTokenPurpose, EmailTokenRow, UserRow } from '../store/schema.ts'
import { randomToken, sha256 } from './credentials.ts'

export interface AccountMailOptions {
  db: Db
  mailer: Mailer
  log: Logger
  /** Base URL of the web client the links open (`#verify=` / `#reset=` fragments). */
  publicUrl: string
  tokenTtlMs: number
}

export interface AccountMail {
  /** False when mail is off (production without SMTP_URL). */
  readonly enabled: boolean
  /** Mails `email` (the account's, or a new one it changes to) a link that verifies it. */
  sendVerification(user: UserRow, email?: string): Promise<void>
  /**
   * Mails a password reset link to the account's address, all in the background (the token row
   * too): forgot-password answers as fast for a known address as for an unknown one.
   */
  sendReset(user: UserRow): void
  /** Tells the owner that someone tried to register with their address. */
  notifyRegistrationAttempt(user: UserRow): void
  /** Tells the old address that the account's address was changed to another. */
  notifyEmailChanged(oldEmail: string, user: UserRow): void
  /** The token's row if it is valid for `purpose` now; it is used up by this call. */
  claim(token: string, purpose: EmailTokenPurpose): Promise<EmailTokenRow | undefined>
  /** Every outstanding link of the user for `purpose` stops working. */
  voidTokens(userId: string, purpose: EmailTokenPurpose): Promise<void>
  /** Resolves once every mail started so far was handed over (tests, shutdown). */
  settled(): Promise<void>
}

/** @example const mail = createAccountMail({ db, mailer, log, publicUrl, tokenTtlMs: 86_400_000 }) */
export function createAccountMail({
  db,
  mailer,
  log,
  publicUrl,
  tokenTtlMs,
}: AccountMailOptions): AccountMail {
  const pending = new Set<Promise<void>>()
  const base = publicUrl.replace(/\/+$/, '')
  const hours = Math.max(1, Math.round(tokenTtlMs / 3_600_000))

  /** In the background; a failure is logged, never the requester's error. */
  function background(subject: string, work: () => Promise<void>): void {
    // A little later: the answer has gone out before any of the work starts (a query on the
    // embedded driver runs synchronously once started, and would delay the answer it follows).
    const done = Bun.sleep(10)
      .then(work)
      .catch((error) => log.error('sending mail failed', { subject, error }))
      .finally(() => pending.delete(done))
    pending.add(done)
  }
  const send = (mail: Mail) => background(mail.subject, () => mailer.send(mail))

  async function issue(user: UserRow, purpose: EmailTokenPurpose, email: string): Promise<string> {
    const token = randomToken()
    const now = Date.now()
    await insertEmailToken(db, {
      id: newId(now),
      userId: user.id,
      purpose,
      email,
      tokenHash: sha256(token),
      createdAt: now,
      expiresAt: now + tokenTtlMs,
    })
    return token
  }

  return {
    enabled: mailer.enabled,
    async sendVerification(user, email = user.email) {
      if (!mailer.enabled) return
      const token = await issue(user, 'verify', email)
      send({
        to: email,
        subject: 'Verify your email address',
        text: [
          `Hello ${user.fullName},`,
          '',
          `Open this link to verify ${email} for your account @${user.username}:`,
          `${base}/#verify=${token}`,
          '',
          `The link works once, for ${hours} hours. If you did not ask for it, ignore this mail.`,
        ].join('\n'),
      })
    },
    sendReset(user) {
      if (!mailer.enabled) return
      background('reset', async () => {
        const token = await issue(user, 'reset', user.email)
        await mailer.send({
          to: user.email,
          subject: 'Reset your password',
          text: [
            `Hello ${user.fullName},`,
            '',
            `Someone asked to reset the password of your account @${user.username}. To choose a new one, open:`,
            `${base}/#reset=${token}`,
            '',
            `The link works once, for ${hours} hours. If it was not you, ignore this mail: your password stays as it is.`,
          ].join('\n'),
        })
      })
    },
    notifyRegistrationAttempt(user) {
      send({
        to: user.email,
        subject: 'Someone tried to register with your address',
        text: [
          `Hello ${user.fullName},`,
          '',
          `Someone tried to create a new account with ${user.email}, which already belongs to your account @${user.username}. No account was created.`,
          `If it was you, log in instead, or reset your password at ${base}/#forgot.`,
        ].join('\n'),
      })
    },
    notifyEmailChanged(oldEmail, user) {
      send({
        to: oldEmail,
        subject: 'Your email address was changed',
        text: [
          `Hello ${user.fullName},`,
          '',
          `The email address of your account @${user.username} was changed from ${oldEmail} to ${user.email}.`,
          'If you did not do this, reset your password and contact the administrator.',
        ].join('\n'),
      })
    },
    claim: (token, purpose) => claimEmailToken(db, sha256(token), purpose, Date.now()),
    voidTokens: (userId, purpose) => voidEmailTokens(db, userId, purpose, Date.now()),
    async settled() {
      while (pending.size > 0) await Promise.all(pending)
    },
  }
}
