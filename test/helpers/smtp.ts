/**
 * @module Test SMTP server: a real one (smtp-server) on 127.0.0.1, with STARTTLS and AUTH, that
 * parses every mail it receives (mailparser) so a test can wait for one and open its link.
 */
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface ReceivedMail {
  to: string
  subject: string
  text: string
  /** Whether the session was upgraded with STARTTLS. */
  secure: boolean
}

export interface TestSmtp {
  /** SMTP_URL for the server under test (STARTTLS with the server's self-signed certificate). */
  url: string
  mails: ReceivedMail[]
  /** The next mail (already received or still to come) to `to` that matches. */
  next(to: string, subject?: RegExp): Promise<ReceivedMail>
  stop(): Promise<void>
}

/** The token of a mailed `#verify=` / `#reset=` link. */
export function linkToken(mail: ReceivedMail, kind: 'verify' | 'reset'): string {
  const match = new RegExp(`#${kind}=([A-Za-z0-9_-]+)`).exec(mail.text)
  if (!match?.[1]) throw new Error(`no ${kind} link in: ${mail.text}`)
  return match[1]
}

/** @example const smtp = await startSmtp(); await startServer({ SMTP_URL: smtp.url }) */
export async function startSmtp(): Promise<TestSmtp> {
  const mails: ReceivedMail[] = []
  const waiting: Array<{ match(mail: ReceivedMail): boolean; resolve(mail: ReceivedMail): void }> =
    []
  const taken = new Set<ReceivedMail>()
  const matcher = (to: string, subject?: RegExp) => (mail: ReceivedMail) =>
    !taken.has(mail) && mail.to === to && (!subject || subject.test(mail.subject))
  const server = new SMTPServer({
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'mailer' && auth.password === 'secret')
        callback(null, { user: auth.username })
      else callback(new Error('bad credentials'))
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed: ParsedMail) => {
          const to = Array.isArray(parsed.to) ? parsed.to[0]?.text : parsed.to?.text
          const mail = {
            to: to ?? '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            secure: session.secure,
          }
          mails.push(mail)
          const index = waiting.findIndex((w) => w.match(mail))
          if (index !== -1) {
            taken.add(mail)
            waiting.splice(index, 1)[0]?.resolve(mail)
          }
          callback()
        })
        .catch(callback)
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.server.address() as { port: number }
  return {
    url: `smtp://mailer:secret@127.0.0.1:${port}/?tls.rejectUnauthorized=false`,
    mails,
    next(to, subject) {
      const match = matcher(to, subject)
      const ready = mails.find(match)
      if (ready) {
        taken.add(ready)
        return Promise.resolve(ready)
      }
      return new Promise((resolve) => waiting.push({ match, resolve }))
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
