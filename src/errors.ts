/** @module Error codes: the one table of expected refusals, their HTTP status, and the Result type. */

export const ERROR_CODES = {
  /** The request or payload failed validation: fix the input, do not retry as is. */
  invalid_input: { status: 400, temporary: false },
  /** No valid credentials: log in or refresh the access token, then retry. */
  unauthorized: { status: 401, temporary: false },
  /** Authenticated but not allowed: do not retry. */
  forbidden: { status: 403, temporary: false },
  /** Not a member of that private chat (or not joined to that room): join first. */
  not_member: { status: 403, temporary: false },
  /** Only the author may do this to the message: do not retry. */
  not_author: { status: 403, temporary: false },
  /** The account's email is not verified yet (REQUIRE_VERIFIED_EMAIL): verify it, then retry. */
  unverified: { status: 403, temporary: false },
  /** The thing does not exist (or is not visible to you): do not retry. */
  not_found: { status: 404, temporary: false },
  /** It clashes with existing state (taken username, duplicate member): change the input. */
  conflict: { status: 409, temporary: false },
  /** Body or message is over the size limit: shorten it. */
  payload_too_large: { status: 413, temporary: false },
  /** The city is archived: it keeps its history but takes no joins or messages. */
  archived: { status: 403, temporary: false },
  /** Banned from this city (until `details.until`, or until lifted when null). */
  banned: { status: 403, temporary: false },
  /** Muted in this city: reading works, sending does not (until `details.until`). */
  muted: { status: 403, temporary: false },
  /** This city is in slow mode: wait `details.retryAfterMs`, then send again. */
  slow_mode: { status: 429, temporary: true },
  /** The message contains a blocked term: change it. */
  content_blocked: { status: 422, temporary: false },
  /** That user does not accept this from you: do not retry. */
  blocked: { status: 403, temporary: false },
  /** The upload's type (read from its bytes) is not accepted here: send another kind of file. */
  unsupported_media_type: { status: 415, temporary: false },
  /** Too many requests: wait (see details.retryAfterMs) and retry. */
  rate_limited: { status: 429, temporary: true },
  /** Our fault: retry later. The message is generic on purpose. */
  internal: { status: 500, temporary: true },
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export interface AppError {
  code: ErrorCode
  message: string
  details?: unknown
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError }

export const ok = <T>(value: T): Result<T> => ({ ok: true, value })

export const fail = (code: ErrorCode, message: string, details?: unknown): Result<never> => ({
  ok: false,
  error: details === undefined ? { code, message } : { code, message, details },
})

export const httpStatus = (code: ErrorCode): number => ERROR_CODES[code].status
