/** @module Hono environment: the per-request variables every route can read. */
import type { User } from '../chat/service.ts'

export interface AppEnv {
  /** server.ts passes the Bun server, so routes can read the client address (login throttling). */
  Bindings: {
    server?: {
      requestIP(req: Request): { address: string } | null
      /** Bun's per-request idle timeout, in seconds (at most 255). */
      timeout?(req: Request, seconds: number): void
    }
  }
  Variables: {
    requestId: string
    /** Set by requireUser on authenticated routes. */
    user: User
    /** The login session the access token belongs to (its `sid`), when it names one. */
    sessionId: string | null
  }
}
