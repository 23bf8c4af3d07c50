/** @module Hono environment: the per-request variables every route can read. */
import type { User } from '../chat/service.ts'

export interface AppEnv {
  Variables: {
    requestId: string
    /** Set by requireUser on authenticated routes. */
    user: User
  }
}
