/** @module REST client: every call returns a Result-like value; a 401 refreshes the token once. */
import {
  COOKIE_MODE,
  clearSession,
  readAccessToken,
  refreshAccessToken,
  saveAccessToken,
  saveUser,
} from './session.ts'
import type {
  Chat,
  City,
  FeedNotification,
  Message,
  PublicUser,
  SearchResult,
  User,
  WireError,
} from './types.ts'
import { toChat } from './types.ts'

export type ApiResult<T> = { ok: true; value: T } | { ok: false; status: number; error: WireError }

type Handler = () => void
let onSessionLost: Handler = () => {}
let onTokens: (accessToken: string) => void = () => {}

/** The app learns here when the session ends and when the access token changes (for the socket). */
export function setSessionHooks(hooks: { lost: Handler; tokens: (token: string) => void }): void {
  onSessionLost = hooks.lost
  onTokens = hooks.tokens
}

async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Promise<ApiResult<T>> {
  const send = (token: string | null) =>
    fetch(path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  try {
    const token = readAccessToken()
    let res = await send(token)
    if (res.status === 401 && token) {
      const fresh = await refreshAccessToken()
      if (!fresh) {
        onSessionLost()
        return { ok: false, status: 401, error: { code: 'unauthorized', message: 'Please log in' } }
      }
      onTokens(fresh)
      res = await send(fresh)
    }
    if (res.status === 204) return { ok: true, value: undefined as T }
    const data = (await res.json().catch(() => null)) as unknown
    if (res.ok) return { ok: true, value: data as T }
    const error = (data as { error?: WireError } | null)?.error
    return {
      ok: false,
      status: res.status,
      error: error ?? { code: 'internal', message: `Request failed (${res.status})` },
    }
  } catch {
    return {
      ok: false,
      status: 0,
      error: { code: 'network', message: 'The server is unreachable' },
    }
  }
}

const map = <T, U>(result: ApiResult<T>, fn: (value: T) => U): ApiResult<U> =>
  result.ok ? { ok: true, value: fn(result.value) } : result

/** In cookie mode the refresh token is a cookie, never in the body. */
interface AuthAnswer {
  user: User
  accessToken: string
}

function keepSession(result: ApiResult<AuthAnswer>): ApiResult<User> {
  if (!result.ok) return result
  const { user, accessToken } = result.value
  saveAccessToken(accessToken)
  saveUser(user)
  return { ok: true, value: user }
}

export const register = async (input: {
  username: string
  email: string
  full_name: string
  password: string
}) => keepSession(await request<AuthAnswer>('POST', '/api/auth/register', input, COOKIE_MODE))

export const login = async (input: { login: string; password: string }) =>
  keepSession(await request<AuthAnswer>('POST', '/api/auth/login', input, COOKIE_MODE))

/** Ends this session on the server (by the access token) and clears the refresh cookie. */
export async function logout(): Promise<void> {
  if (readAccessToken()) await request('POST', '/api/auth/logout', undefined, COOKIE_MODE)
  clearSession()
}

export const me = async () =>
  map(await request<{ user: User }>('GET', '/api/auth/me'), (v) => v.user)

export const listCities = async () =>
  map(await request<{ cities: City[] }>('GET', '/api/cities'), (v) => v.cities)

export const listChats = async () =>
  map(await request<{ chats: unknown[] }>('GET', '/api/chats'), (v) =>
    v.chats.map(toChat).filter((c): c is Chat => c !== null)
  )

export const getChat = async (chatId: string) =>
  map(await request<{ chat: unknown }>('GET', `/api/chats/${encodeURIComponent(chatId)}`), (v) =>
    toChat(v.chat)
  )

export const createChat = async (input: { name?: string; memberIds: string[] }) =>
  map(await request<{ chat: unknown }>('POST', '/api/chats', input), (v) => toChat(v.chat))

/** The owner makes a member an admin (`admin`) or a member again (`member`). */
export const setMemberRole = async (chatId: string, userId: string, role: 'admin' | 'member') =>
  map(
    await request<{ chat: unknown }>(
      'PUT',
      `/api/chats/${encodeURIComponent(chatId)}/members/${encodeURIComponent(userId)}/role`,
      { role }
    ),
    (v) => toChat(v.chat)
  )

export const searchUsers = async (search: string) =>
  map(
    await request<{ users: PublicUser[] }>(
      'GET',
      `/api/users?search=${encodeURIComponent(search)}&limit=10`
    ),
    (v) => v.users
  )

export interface Page {
  messages: Message[]
  hasMore: boolean
  /** Only for an `around` page: newer messages follow its last one. */
  hasNewer?: boolean
}

/**
 * One page of history, oldest first; `before`/`after` are message ids (time-sortable cursors),
 * `around` the page centred on a message (a search result opened in its room).
 */
export function history(
  kind: 'city' | 'chat',
  id: string,
  cursor: { before?: string; after?: string; around?: string } = {},
  limit = 30
): Promise<ApiResult<Page>> {
  const base = kind === 'city' ? '/api/cities' : '/api/chats'
  const query = new URLSearchParams({ limit: String(limit) })
  if (cursor.before) query.set('before', cursor.before)
  if (cursor.after) query.set('after', cursor.after)
  if (cursor.around) query.set('around', cursor.around)
  return request<Page>('GET', `${base}/${encodeURIComponent(id)}/messages?${query}`)
}

/** One page of GET /api/search: newest first; `next` is the `before` of the following page. */
export const searchMessages = (q: string, before?: string) => {
  const query = new URLSearchParams({ q, limit: '20' })
  if (before) query.set('before', before)
  return request<{ results: SearchResult[]; next: string | null }>('GET', `/api/search?${query}`)
}

/** One page of a message's thread, oldest first. */
export function replies(messageId: string, limit = 50): Promise<ApiResult<Page>> {
  return request<Page>(
    'GET',
    `/api/messages/${encodeURIComponent(messageId)}/replies?limit=${limit}`
  )
}

export interface Pin {
  messageId: string
  pinned_by: string
  pinned_at: string
  message: Message
}

/** A room's pinned messages, newest pin first. */
export const listPins = async (kind: 'city' | 'chat', id: string) =>
  map(
    await request<{ pins: Pin[] }>(
      'GET',
      `/api/${kind === 'city' ? 'cities' : 'chats'}/${encodeURIComponent(id)}/pins`
    ),
    (v) => v.pins
  )

/** Pins (or unpins) a message: city moderators, chat owners and admins. */
export const setPinned = async (messageId: string, pinned: boolean) =>
  request<object>(pinned ? 'PUT' : 'DELETE', `/api/messages/${encodeURIComponent(messageId)}/pin`)

// ---- Notifications ------------------------------------------------------------------------

/** My notification feed, newest first, and how many of mine are unread. */
export const listNotifications = (limit = 50) =>
  request<{ notifications: FeedNotification[]; hasMore: boolean; unreadCount: number }>(
    'GET',
    `/api/notifications?limit=${limit}`
  )

/** Marks mine up to and including `upTo` read; answers how many stay unread. */
export const markNotificationsRead = (upTo: string) =>
  request<{ updated: number; unreadCount: number }>('POST', '/api/notifications/read', { upTo })

// ---- Moderation ---------------------------------------------------------------------------

export interface Report {
  _id: string
  messageId: string
  /** One of the two: a city's report, or a private chat's (admins resolve those). */
  cityId: string | null
  chatId: string | null
  reason: string
  status: string
  message?: Message
}

export const reportMessage = async (messageId: string, reason: string) =>
  request<{ report: Report }>('POST', `/api/messages/${encodeURIComponent(messageId)}/reports`, {
    reason,
  })

export const openReports = async () =>
  map(await request<{ reports: Report[] }>('GET', '/api/reports?status=open'), (v) => v.reports)

export const resolveReport = async (reportId: string, status: string, action?: string) =>
  request<{ report: Report }>('PATCH', `/api/reports/${encodeURIComponent(reportId)}`, {
    status,
    ...(action ? { action } : {}),
  })

export const restrictUser = async (cityId: string, userId: string, kind: string, reason = '') =>
  request<object>('POST', `/api/cities/${encodeURIComponent(cityId)}/restrictions`, {
    userId,
    kind,
    ...(reason ? { reason } : {}),
  })

// ---- Blocks -------------------------------------------------------------------------------

export const listBlocks = async () =>
  map(
    await request<{ blocks: Array<{ user: PublicUser; created_at: string }> }>(
      'GET',
      '/api/users/me/blocks'
    ),
    (v) => v.blocks
  )

export const setBlock = async (userId: string, on: boolean) =>
  request<undefined>(on ? 'PUT' : 'DELETE', `/api/users/me/blocks/${encodeURIComponent(userId)}`)

// ---- Account: password reset, verification, settings ---------------------------------------

/** Always 202 for a well-formed address, known or not (the server does not say which). */
export const forgotPassword = async (email: string) =>
  request<{ status: string }>('POST', '/api/auth/forgot-password', { email })

/** The mailed `#reset=` token and the new password; 204, and every session of the account ends. */
export const resetPassword = async (token: string, password: string) =>
  request<void>('POST', '/api/auth/reset-password', { token, password })

/** The mailed `#verify=` token: the account's (or its new) address is proven. */
export const verifyEmail = async (token: string) =>
  map(await request<{ user: User }>('POST', '/api/auth/verify-email', { token }), (v) => v.user)

export const resendVerification = async () => request<void>('POST', '/api/auth/resend-verification')

/** Keeps this session, ends the others. */
export const changePassword = async (currentPassword: string, newPassword: string) =>
  request<void>('POST', '/api/auth/change-password', { currentPassword, newPassword })

export interface Device {
  _id: string
  device: string
  user_agent: string | null
  address: string | null
  created_at: string
  last_used_at: string
  current: boolean
}

export const listSessions = async () =>
  map(await request<{ sessions: Device[] }>('GET', '/api/auth/sessions'), (v) => v.sessions)

export const revokeSession = async (id: string) =>
  request<void>('DELETE', `/api/auth/sessions/${encodeURIComponent(id)}`)

export const revokeOtherSessions = async () => request<void>('DELETE', '/api/auth/sessions')

export interface DataExport {
  _id: string
  state: string
  messages: number
  bytes: number | null
  download_url: string
}

/** Starts an export (409 while one is being made: its answer carries no export). */
export const requestExport = async () =>
  map(await request<{ export: DataExport }>('POST', '/api/users/me/export'), (v) => v.export)

/**
 * The newest export: its state while it is being made, or the archive itself once ready (a Blob
 * to save; the route needs the access token, so a plain link cannot fetch it).
 */
export async function fetchExport(): Promise<
  ApiResult<{ state: string; archive: Blob | null; name: string }>
> {
  const send = (token: string | null) =>
    fetch('/api/users/me/export', {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    })
  try {
    let res = await send(readAccessToken())
    if (res.status === 401) {
      const fresh = await refreshAccessToken()
      if (!fresh) {
        onSessionLost()
        return { ok: false, status: 401, error: { code: 'unauthorized', message: 'Please log in' } }
      }
      onTokens(fresh)
      res = await send(fresh)
    }
    if (res.ok && (res.headers.get('content-type') ?? '').startsWith('application/x-ndjson')) {
      const id = res.headers.get('x-export-id') ?? 'archive'
      return {
        ok: true,
        value: { state: 'ready', archive: await res.blob(), name: `export-${id}.ndjson` },
      }
    }
    const data = (await res.json().catch(() => null)) as {
      export?: DataExport
      error?: WireError
    } | null
    if (res.ok && data?.export)
      return { ok: true, value: { state: data.export.state, archive: null, name: '' } }
    return {
      ok: false,
      status: res.status,
      error: data?.error ?? { code: 'internal', message: `Request failed (${res.status})` },
    }
  } catch {
    return {
      ok: false,
      status: 0,
      error: { code: 'network', message: 'The server is unreachable' },
    }
  }
}

/** The server's VAPID public key (base64url), for PushManager.subscribe. */
export const vapidPublicKey = async () =>
  map(await request<{ publicKey: string }>('GET', '/api/push/vapid-public-key'), (v) => v.publicKey)

/** Saves this browser's push subscription (PushSubscription.toJSON()) for the signed-in user. */
export const savePushSubscription = async (subscription: PushSubscriptionJSON) =>
  request<{ subscription: { endpoint: string } }>('POST', '/api/push/subscriptions', subscription)

export const removePushSubscription = async (endpoint: string) =>
  request<undefined>('DELETE', '/api/push/subscriptions', { endpoint })

/** Erases the account for good (its password confirms it); every session ends with it. */
export const deleteAccount = async (password: string) =>
  request<{ erasure: unknown }>('DELETE', '/api/users/me', { password, erase: true })
