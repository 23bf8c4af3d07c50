/**
 * @module Outgoing mail: SMTP through nodemailer when SMTP_URL is set; otherwise, outside
 * production, every mail is written to the log and to `DATA_DIR/outbox/` (so `npm start` needs
 * nothing else running); in production without SMTP_URL mail is off and says so.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import type { Logger } from '../log.ts'

export interface Mail {
  to: string
  subject: string
  text: string
}

/** Two implementations (SMTP | outbox) and a switched-off one. */
export interface Mailer {
  /** False in production without SMTP_URL: mail-dependent features are off. */
  readonly enabled: boolean
  /** Resolves once the SMTP server accepted the mail (or the outbox file is written). */
  send(mail: Mail): Promise<void>
  close(): void
}

export interface MailerOptions {
  smtpUrl?: string | undefined
  from: string
  production: boolean
  dataDir: string
  log: Logger
}

/** @example const mailer = createMailer({ smtpUrl, from, production, dataDir, log }) */
export function createMailer({ smtpUrl, from, production, dataDir, log }: MailerOptions): Mailer {
  if (smtpUrl) {
    // nodemailer upgrades smtp:// with STARTTLS when the server offers it; smtps:// is TLS at once.
    const transport = nodemailer.createTransport(smtpUrl)
    return {
      enabled: true,
      async send(mail) {
        await transport.sendMail({ from, ...mail })
      },
      close: () => transport.close(),
    }
  }
  if (production) {
    return {
      enabled: false,
      async send(mail) {
        log.warn('mail is off (no SMTP_URL); not sent', { subject: mail.subject })
      },
      close() {},
    }
  }
  const outbox = join(dataDir, 'outbox')
  let count = 0
  return {
    enabled: true,
    async send(mail) {
      mkdirSync(outbox, { recursive: true })
      const name = `${Date.now()}-${++count}.eml`
      const text = `From: ${from}\nTo: ${mail.to}\nSubject: ${mail.subject}\n\n${mail.text}\n`
      writeFileSync(join(outbox, name), text)
      log.info('mail written to the outbox (no SMTP_URL)', { to: mail.to, file: name, text })
    },
    close() {},
  }
}
