/** @module Client info: the caller's address and user agent as the device list and limits see them. */
import type { Context } from 'hono'
import type { ClientInfo } from '../chat/auth.ts'
import type { AppEnv } from './env.ts'

/** The caller's address as Bun saw it; behind a proxy every client shares the proxy's. */
export function addressOf(c: Context<AppEnv>): string {
  return c.env?.server?.requestIP(c.req.raw)?.address ?? 'unknown'
}

export function clientInfo(c: Context<AppEnv>): ClientInfo {
  return { userAgent: c.req.header('user-agent') ?? null, address: addressOf(c) }
}
