/**
 * @module Sessions and devices: the account's logins (refresh families) with a device label from
 * the user agent; signing one out, or all but the current one. The caller closes their sockets.
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Db } from '../store/db.ts'
import { revokeRefreshFamily } from '../store/refresh-tokens.ts'
import type { SessionRow, UserRow } from '../store/schema.ts'
import * as store from '../store/sessions.ts'
import type { EndedSessions } from './account.ts'

/** "Firefox on Linux", "Chrome on Android", "curl": enough to tell one's devices apart. */
function deviceLabel(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device'
  const browser =
    [
      [/Edg\//, 'Edge'],
      [/OPR\/|Opera/, 'Opera'],
      [/Firefox\//, 'Firefox'],
      [/HeadlessChrome\//, 'Headless Chrome'],
      [/Chrome\/|CriOS\//, 'Chrome'],
      [/Safari\//, 'Safari'],
      [/^curl\//, 'curl'],
      [/^Bun\//, 'Bun'],
      [/okhttp/i, 'Android app'],
      [/CFNetwork/, 'iOS app'],
    ].find(([pattern]) => (pattern as RegExp).test(userAgent))?.[1] ?? null
  const os =
    [
      [/Android/, 'Android'],
      [/iPhone|iPad|iOS/, 'iOS'],
      [/Windows/, 'Windows'],
      [/Mac OS X|Macintosh/, 'macOS'],
      [/CrOS/, 'ChromeOS'],
      [/Linux/, 'Linux'],
    ].find(([pattern]) => (pattern as RegExp).test(userAgent))?.[1] ?? null
  if (browser && os) return `${browser} on ${os}`
  return (browser ?? os ?? userAgent.split(/[\s/]/)[0] ?? 'Unknown device') as string
}

export interface SessionInfo extends SessionRow {
  device: string
  current: boolean
}

export function createSessions({ db }: { db: Db }) {
  async function listSessions(actor: UserRow, currentId: string | null): Promise<SessionInfo[]> {
    const rows = await store.listSessions(db, actor.id, Date.now())
    return rows.map((row) => ({
      ...row,
      device: deviceLabel(row.userAgent),
      current: row.id === currentId,
    }))
  }

  /** Another user's session answers not_found, as an unknown one does. */
  async function revokeSession(actor: UserRow, sessionId: string): Promise<Result<EndedSessions>> {
    const row = await store.findSession(db, sessionId)
    if (!row || row.userId !== actor.id) return fail('not_found', 'no such session')
    await revokeRefreshFamily(db, sessionId, Date.now())
    await store.deleteSession(db, sessionId)
    return ok({ userId: actor.id, sessionIds: [sessionId] })
  }

  return { listSessions, revokeSession }
}
