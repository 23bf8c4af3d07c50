/** @module Hono environment: the per-request variables every route can read. */
import type { UserRow } from '../store/schema.ts'

export interface AppEnv {
  Variables: {
    requestId: string
    /** Set by requireUser on authenticated routes. */
    user: UserRow
  }
}
