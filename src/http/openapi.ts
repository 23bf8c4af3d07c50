/**
 * @module OpenAPI 3.1 document for the REST API, built from the same zod schemas that validate
 * the requests (chat/inputs.ts) and type the answers (chat/view-schemas.ts; the error body from
 * middleware/errors.ts). test/http/openapi.test.ts checks every mounted route is listed, and
 * test/http/openapi-responses.test.ts checks a real answer of each against its schema here.
 */
import { z } from 'zod'
import {
  addMembersBody,
  auditQuery,
  changeEmailBody,
  changePasswordBody,
  chatIdParam,
  chatMemberParam,
  cityIdParam,
  cityUserParam,
  createChatBody,
  createCityBody,
  createWebhookBody,
  deleteMeBody,
  editMessageBody,
  emailTokenBody,
  eraseUserBody,
  exportIdParam,
  forgotPasswordBody,
  historyQuery,
  loginBody,
  memberRoleBody,
  messageBody,
  messageEmojiParam,
  messageIdParam,
  messageSearchQuery,
  notificationSettingBody,
  notificationsQuery,
  notificationsReadBody,
  pushEndpointBody,
  pushSubscriptionBody,
  refreshOrCookieBody,
  registerBody,
  reportBody,
  reportIdParam,
  reportsQuery,
  resetPasswordBody,
  resolveReportBody,
  restrictionBody,
  roomSettingParam,
  sessionIdParam,
  setRoleBody,
  slowModeBody,
  updateCityBody,
  updateMeBody,
  userIdParam,
  userRefParam,
  userSearchQuery,
  webhookDeliveriesQuery,
  webhookIdParam,
  wordFilterBody,
} from '../chat/inputs.ts'
import {
  auditViewSchema,
  chatViewSchema,
  cityForViewerViewSchema,
  cityViewSchema,
  cityWithCountsViewSchema,
  erasureViewSchema,
  exportViewSchema,
  mediaViewSchema,
  messageViewSchema,
  notificationSettingViewSchema,
  notificationViewSchema,
  pinViewSchema,
  publicUserViewSchema,
  readViewSchema,
  reportViewSchema,
  restrictionViewSchema,
  searchResultViewSchema,
  sessionViewSchema,
  userViewSchema,
  webhookDeliveryViewSchema,
  webhookViewSchema,
} from '../chat/view-schemas.ts'
import { errorBodySchema } from './middleware/errors.ts'

interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  /** Hono path (`:param`). */
  path: string
  summary: string
  auth: boolean
  params?: z.ZodObject
  query?: z.ZodObject
  body?: z.ZodType
  /** multipart/form-data with a `file` part (and these text fields) instead of JSON. */
  upload?: Record<string, string>
  /** Success status, what it holds in words, and its body's schema. */
  status: number
  returns: string
  response: ResponseBody
  /** Other answers that are not `{ error }` (a second success, a body-less refusal). */
  also?: Record<number, { returns: string; response: ResponseBody }>
}

/**
 * A JSON body's zod schema (from chat/view-schemas.ts), null for no body, or content types whose
 * bytes are not JSON ('binary') or are (a schema).
 */
type ResponseBody = z.ZodType | null | Record<string, 'binary' | z.ZodType>

/** A user as an admin's role change answers it. */
const roleUserSchema = publicUserViewSchema.extend({ role: userViewSchema.shape.role })

/** Another user's profile, with when they were last seen (null: never, or hidden). */
const seenUserSchema = publicUserViewSchema.extend({ last_seen: z.iso.datetime().nullable() })

const blockSchema = z.strictObject({ user: publicUserViewSchema, created_at: z.iso.datetime() })

const wordFilterSchema = z.array(
  z.strictObject({ term: z.string(), action: wordFilterBody.shape.terms.element.shape.action })
)

const READINESS = z.strictObject({
  status: z.enum(['ok', 'unavailable']),
  checks: z.record(z.string(), z.enum(['ok', 'down'])),
})

/** A new session; in cookie mode (X-Refresh-Cookie: 1) the refresh token is the cookie instead. */
const TOKENS = z.strictObject({ accessToken: z.string(), refreshToken: z.string().optional() })
const SESSION = TOKENS.extend({ user: userViewSchema })

const PUSH_SUBSCRIPTION = z.strictObject({ subscription: z.strictObject({ endpoint: z.string() }) })

/** A reaction added or taken back; `changed` false: it was already so. */
const REACTION_CHANGE = z.strictObject({
  messageId: z.string(),
  emoji: z.string(),
  action: z.enum(['add', 'remove']),
  count: z.number().int(),
  changed: z.boolean(),
})

/** An export's answer (GET /api/users/me/export and by id): the archive once ready, else its state. */
const EXPORT = z.strictObject({ export: exportViewSchema })
const EXPORT_ANSWER: Pick<Operation, 'status' | 'returns' | 'response' | 'also'> = {
  status: 200,
  returns: 'the archive (application/x-ndjson), or { export }',
  response: { 'application/x-ndjson': 'binary', 'application/json': EXPORT },
  also: { 202: { returns: '{ export } while it is being made', response: EXPORT } },
}

const HISTORY = z.strictObject({
  messages: z.array(messageViewSchema),
  hasMore: z.boolean(),
  hasNewer: z.boolean().optional(),
})

/** Moderation: roles, cities, restrictions, slow mode, the word filter, reports, blocks, audit. */
const MODERATION: Operation[] = [
  {
    method: 'patch',
    path: '/api/admin/users/:userId',
    summary: "Set a user's role (admins)",
    auth: true,
    params: userIdParam,
    body: setRoleBody,
    status: 200,
    returns: '{ user }',
    response: z.strictObject({ user: roleUserSchema }),
  },
  {
    method: 'post',
    path: '/api/admin/users/:userId/erase',
    summary: "Erase a user's account (admins; audited; never another admin)",
    auth: true,
    params: userIdParam,
    body: eraseUserBody,
    status: 202,
    returns: '{ erasure: { user_id, state, phase, messages, started_at, finished_at } }',
    response: z.strictObject({ erasure: erasureViewSchema }),
  },
  {
    method: 'post',
    path: '/api/admin/cities',
    summary: 'Create a city (admins)',
    auth: true,
    body: createCityBody,
    status: 201,
    returns: '{ city }',
    response: z.strictObject({ city: cityViewSchema }),
  },
  {
    method: 'patch',
    path: '/api/admin/cities/:cityId',
    summary:
      'Rename or archive a city, or set its message retention in days (null: MESSAGE_RETENTION) (admins)',
    auth: true,
    params: cityIdParam,
    body: updateCityBody,
    status: 200,
    returns: '{ city }',
    response: z.strictObject({ city: cityViewSchema }),
  },
  {
    method: 'get',
    path: '/api/admin/word-filter',
    summary: 'The word filter (admins)',
    auth: true,
    status: 200,
    returns: '{ terms }',
    response: z.strictObject({ terms: wordFilterSchema }),
  },
  {
    method: 'put',
    path: '/api/admin/word-filter',
    summary: 'Replace the word filter (admins)',
    auth: true,
    body: wordFilterBody,
    status: 200,
    returns: '{ terms }',
    response: z.strictObject({ terms: wordFilterSchema }),
  },
  {
    method: 'post',
    path: '/api/admin/webhooks',
    summary:
      'Register a webhook for some event types (admins); its signing secret is in this answer only',
    auth: true,
    body: createWebhookBody,
    status: 201,
    returns: '{ webhook: { _id, url, events, created_by, created_at }, secret }',
    response: z.strictObject({ webhook: webhookViewSchema, secret: z.string() }),
  },
  {
    method: 'get',
    path: '/api/admin/webhooks',
    summary: 'The registered webhooks (admins)',
    auth: true,
    status: 200,
    returns: '{ webhooks }',
    response: z.strictObject({ webhooks: z.array(webhookViewSchema) }),
  },
  {
    method: 'delete',
    path: '/api/admin/webhooks/:id',
    summary: 'Remove a registered webhook and its undelivered events (admins)',
    auth: true,
    params: webhookIdParam,
    status: 204,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'get',
    path: '/api/admin/webhooks/:id/deliveries',
    summary: "A webhook's deliveries, newest first (admins; id env: WEBHOOK_URL's)",
    auth: true,
    params: webhookIdParam,
    query: webhookDeliveriesQuery,
    status: 200,
    returns:
      '{ deliveries: [{ _id, event_id, type, state, attempts, last_status, last_error, created_at, next_at, done_at }], hasMore }',
    response: z.strictObject({
      deliveries: z.array(webhookDeliveryViewSchema),
      hasMore: z.boolean(),
    }),
  },
  {
    method: 'get',
    path: '/api/admin/audit',
    summary: 'The audit log, newest first (admins)',
    auth: true,
    query: auditQuery,
    status: 200,
    returns: '{ entries }',
    response: z.strictObject({ entries: z.array(auditViewSchema) }),
  },
  {
    method: 'patch',
    path: '/api/cities/:cityId',
    summary: 'Set slow mode (moderators of the city)',
    auth: true,
    params: cityIdParam,
    body: slowModeBody,
    status: 200,
    returns: '{ city }',
    response: z.strictObject({ city: cityViewSchema }),
  },
  {
    method: 'put',
    path: '/api/cities/:cityId/moderators/:userId',
    summary: 'Make a user a moderator of the city (admins)',
    auth: true,
    params: cityUserParam,
    status: 204,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'delete',
    path: '/api/cities/:cityId/moderators/:userId',
    summary: 'Remove a city moderator (admins)',
    auth: true,
    params: cityUserParam,
    status: 204,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'get',
    path: '/api/cities/:cityId/restrictions',
    summary: 'Restrictions in force (moderators)',
    auth: true,
    params: cityIdParam,
    status: 200,
    returns: '{ restrictions }',
    response: z.strictObject({ restrictions: z.array(restrictionViewSchema) }),
  },
  {
    method: 'post',
    path: '/api/cities/:cityId/restrictions',
    summary: 'Ban, mute or shadow a user (moderators)',
    auth: true,
    params: cityIdParam,
    body: restrictionBody,
    status: 201,
    returns: '{ restriction }',
    response: z.strictObject({ restriction: restrictionViewSchema }),
  },
  {
    method: 'delete',
    path: '/api/cities/:cityId/restrictions/:userId',
    summary: "Lift a user's restrictions (moderators)",
    auth: true,
    params: cityUserParam,
    status: 204,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'post',
    path: '/api/messages/:messageId/reports',
    summary: 'Report a message you can see, in a city or a private chat of yours (once)',
    auth: true,
    params: messageIdParam,
    body: reportBody,
    status: 201,
    returns: '{ report }',
    response: z.strictObject({ report: reportViewSchema }),
  },
  {
    method: 'get',
    path: '/api/reports',
    summary: 'Reports of the cities you moderate (admins: private chats too)',
    auth: true,
    query: reportsQuery,
    status: 200,
    returns: '{ reports }',
    response: z.strictObject({ reports: z.array(reportViewSchema) }),
  },
  {
    method: 'patch',
    path: '/api/reports/:reportId',
    summary: 'Resolve a report, carrying out its action',
    auth: true,
    params: reportIdParam,
    body: resolveReportBody,
    status: 200,
    returns: '{ report }',
    response: z.strictObject({ report: reportViewSchema }),
  },
  {
    method: 'get',
    path: '/api/users/me/blocks',
    summary: 'Users you blocked',
    auth: true,
    status: 200,
    returns: '{ blocks }',
    response: z.strictObject({ blocks: z.array(blockSchema) }),
  },
  {
    method: 'put',
    path: '/api/users/me/blocks/:userId',
    summary: 'Block a user',
    auth: true,
    params: userIdParam,
    status: 204,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'delete',
    path: '/api/users/me/blocks/:userId',
    summary: 'Unblock a user',
    auth: true,
    params: userIdParam,
    status: 204,
    returns: 'nothing',
    response: null,
  },
]

const OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    auth: false,
    status: 200,
    returns: '{ status }',
    response: z.strictObject({ status: z.literal('ok') }),
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness (database, Redis when configured)',
    auth: false,
    status: 200,
    returns: '{ status, checks }',
    response: READINESS,
    also: {
      503: { returns: "a check is down: { status: 'unavailable', checks }", response: READINESS },
    },
  },
  {
    method: 'post',
    path: '/api/auth/register',
    summary: 'Create an account',
    auth: false,
    body: registerBody,
    status: 201,
    returns: '{ user, accessToken, refreshToken }',
    response: SESSION,
  },
  {
    method: 'post',
    path: '/api/auth/login',
    summary: 'Log in with username or email',
    auth: false,
    body: loginBody,
    status: 200,
    returns: '{ user, accessToken, refreshToken }',
    response: SESSION,
  },
  {
    method: 'post',
    path: '/api/auth/refresh',
    summary:
      "Rotate the refresh token (reuse revokes the session, except within REFRESH_REUSE_GRACE). Without refreshToken: the web client's cookie, with header X-Refresh-Cookie: 1",
    auth: false,
    body: refreshOrCookieBody,
    status: 200,
    returns: '{ accessToken, refreshToken } (cookie mode: { accessToken } and Set-Cookie)',
    response: TOKENS,
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    summary:
      'Revoke the session of refreshToken, or (cookie mode, X-Refresh-Cookie: 1) of the bearer token',
    auth: false,
    body: refreshOrCookieBody,
    status: 204,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'post',
    path: '/api/auth/verify-email',
    summary: 'Verify an address with the mailed single-use token (an email change takes effect)',
    auth: false,
    body: emailTokenBody,
    status: 200,
    returns: '{ user }',
    response: z.strictObject({ user: userViewSchema }),
  },
  {
    method: 'post',
    path: '/api/auth/resend-verification',
    summary: 'Mail a new verification link',
    auth: true,
    status: 202,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'post',
    path: '/api/auth/forgot-password',
    summary: 'Mail a reset link if the address has an account; the answer is the same either way',
    auth: false,
    body: forgotPasswordBody,
    status: 202,
    returns: '{ status }',
    response: z.strictObject({ status: z.literal('accepted') }),
  },
  {
    method: 'post',
    path: '/api/auth/reset-password',
    summary: 'Set a new password with the mailed token; every session ends',
    auth: false,
    body: resetPasswordBody,
    status: 204,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'post',
    path: '/api/auth/change-password',
    summary: 'Change the password; this session stays, the others end',
    auth: true,
    body: changePasswordBody,
    status: 204,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'post',
    path: '/api/auth/change-email',
    summary: "Mail a verification link to a new address; it becomes the account's when opened",
    auth: true,
    body: changeEmailBody,
    status: 202,
    returns: '{ status }',
    response: z.strictObject({ status: z.literal('verification_sent') }),
  },
  {
    method: 'get',
    path: '/api/auth/sessions',
    summary: "The account's sessions (devices), the current one marked",
    auth: true,
    status: 200,
    returns: '{ sessions }',
    response: z.strictObject({ sessions: z.array(sessionViewSchema) }),
  },
  {
    method: 'delete',
    path: '/api/auth/sessions',
    summary: 'Sign out every other session (their sockets close)',
    auth: true,
    status: 204,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'delete',
    path: '/api/auth/sessions/:id',
    summary: 'Sign out one session (its sockets close at once, on every node)',
    auth: true,
    params: sessionIdParam,
    status: 204,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'get',
    path: '/api/auth/me',
    summary: 'The current user',
    auth: true,
    status: 200,
    returns: '{ user }',
    response: z.strictObject({ user: userViewSchema }),
  },
  {
    method: 'get',
    path: '/api/users',
    summary: 'Search users',
    auth: true,
    query: userSearchQuery,
    status: 200,
    returns: '{ users } (public projection)',
    response: z.strictObject({ users: z.array(publicUserViewSchema) }),
  },
  {
    method: 'get',
    path: '/api/users/me',
    summary: 'The current user',
    auth: true,
    status: 200,
    returns: '{ user }',
    response: z.strictObject({ user: userViewSchema }),
  },
  {
    method: 'patch',
    path: '/api/users/me',
    summary: 'Update my profile',
    auth: true,
    body: updateMeBody,
    status: 200,
    returns: '{ user }',
    response: z.strictObject({ user: userViewSchema }),
  },
  {
    method: 'post',
    path: '/api/users/me/export',
    summary: 'Start an export of my data (made in the background); 409 while one is being made',
    auth: true,
    status: 202,
    returns: '{ export: { _id, state, messages, created_at, download_url, ... } }',
    response: EXPORT,
  },
  {
    method: 'get',
    path: '/api/users/me/export',
    summary:
      'My newest export: the NDJSON archive once ready (200, attachment), else its state (202 while running)',
    auth: true,
    ...EXPORT_ANSWER,
  },
  {
    method: 'get',
    path: '/api/users/me/export/:exportId',
    summary: 'One of my exports by id, answered as GET /api/users/me/export; another user’s is 404',
    auth: true,
    params: exportIdParam,
    ...EXPORT_ANSWER,
  },
  {
    method: 'delete',
    path: '/api/users/me',
    summary:
      'Deactivate my account (no body), or erase it for real ({ password, erase: true }: 202, profile anonymised, messages blanked in the background)',
    auth: true,
    body: deleteMeBody,
    status: 204,
    returns: 'nothing; with erase: 202 { erasure }',
    response: null,
    also: {
      202: {
        returns: 'with erase: the erasure, carried out in the background',
        response: z.strictObject({ erasure: erasureViewSchema }),
      },
    },
  },
  {
    method: 'get',
    path: '/api/users/:userId',
    summary: 'A user by id or username',
    auth: true,
    params: userRefParam,
    status: 200,
    returns: '{ user } (public projection, and last_seen: ISO 8601 or null)',
    response: z.strictObject({ user: seenUserSchema }),
  },
  {
    method: 'get',
    path: '/api/cities',
    summary: 'All cities, with my counts and canModerate',
    auth: true,
    status: 200,
    returns: '{ cities }',
    response: z.strictObject({ cities: z.array(cityWithCountsViewSchema) }),
  },
  {
    method: 'get',
    path: '/api/cities/:cityId',
    summary: 'One city',
    auth: true,
    params: cityIdParam,
    status: 200,
    returns: '{ city }',
    response: z.strictObject({ city: cityForViewerViewSchema }),
  },
  {
    method: 'get',
    path: '/api/cities/:cityId/messages',
    summary: 'City history, oldest first (around: the page centred on a message)',
    auth: true,
    params: cityIdParam,
    query: historyQuery,
    status: 200,
    returns: '{ messages, hasMore, hasNewer? }',
    response: HISTORY,
  },
  {
    method: 'post',
    path: '/api/cities/:cityId/messages',
    summary: 'Send to a city (broadcast as new-city-message)',
    auth: true,
    params: cityIdParam,
    body: messageBody,
    status: 201,
    returns: '{ message }',
    response: z.strictObject({ message: messageViewSchema }),
    also: {
      200: {
        returns: 'a repeated clientId: the first message, not sent again',
        response: z.strictObject({ message: messageViewSchema, duplicate: z.literal(true) }),
      },
    },
  },
  {
    method: 'post',
    path: '/api/chats',
    summary: 'Create a private chat (creator is owner)',
    auth: true,
    body: createChatBody,
    status: 201,
    returns: '{ chat }',
    response: z.strictObject({ chat: chatViewSchema }),
  },
  {
    method: 'get',
    path: '/api/chats',
    summary: 'My chats with members, last message and unreadCount',
    auth: true,
    status: 200,
    returns: '{ chats }',
    response: z.strictObject({ chats: z.array(chatViewSchema) }),
  },
  {
    method: 'get',
    path: '/api/chats/:chatId',
    summary: 'One chat (members only)',
    auth: true,
    params: chatIdParam,
    status: 200,
    returns: '{ chat }',
    response: z.strictObject({ chat: chatViewSchema }),
  },
  {
    method: 'post',
    path: '/api/chats/:chatId/members',
    summary: 'Add members (owner/admin)',
    auth: true,
    params: chatIdParam,
    body: addMembersBody,
    status: 200,
    returns: '{ chat }',
    response: z.strictObject({ chat: chatViewSchema }),
  },
  {
    method: 'delete',
    path: '/api/chats/:chatId/members/:userId',
    summary: 'Remove a member (owner/admin)',
    auth: true,
    params: chatMemberParam,
    status: 200,
    returns: '{ chat }',
    response: z.strictObject({ chat: chatViewSchema }),
  },
  {
    method: 'put',
    path: '/api/chats/:chatId/members/:userId/role',
    summary:
      'Make a member an admin or a member again (the owner only; chat-member-role-changed to the room; changed false when it was so)',
    auth: true,
    params: chatMemberParam,
    body: memberRoleBody,
    status: 200,
    returns: '{ chat, changed }',
    response: z.strictObject({ chat: chatViewSchema, changed: z.boolean() }),
  },
  {
    method: 'post',
    path: '/api/chats/:chatId/leave',
    summary: 'Leave a chat',
    auth: true,
    params: chatIdParam,
    status: 204,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'get',
    path: '/api/chats/:chatId/messages',
    summary: 'Chat history, oldest first (members only)',
    auth: true,
    params: chatIdParam,
    query: historyQuery,
    status: 200,
    returns: '{ messages, hasMore, hasNewer? }',
    response: HISTORY,
  },
  {
    method: 'post',
    path: '/api/chats/:chatId/messages',
    summary: 'Send to a chat (broadcast as new-private-message)',
    auth: true,
    params: chatIdParam,
    body: messageBody,
    status: 201,
    returns: '{ message }',
    response: z.strictObject({ message: messageViewSchema }),
    also: {
      200: {
        returns: 'a repeated clientId: the first message, not sent again',
        response: z.strictObject({ message: messageViewSchema, duplicate: z.literal(true) }),
      },
    },
  },
  {
    method: 'post',
    path: '/api/chats/:chatId/read',
    summary: 'Mark read (broadcast as messages-read)',
    auth: true,
    params: chatIdParam,
    status: 200,
    returns: '{ chatId, userId, readAt }',
    response: readViewSchema,
  },
  {
    method: 'post',
    path: '/api/cities/:cityId/read',
    summary: 'Mark a city read (my read position; my own sockets hear messages-read)',
    auth: true,
    params: cityIdParam,
    status: 200,
    returns: '{ cityId, userId, readAt, lastReadMessageId }',
    response: readViewSchema,
  },
  {
    method: 'get',
    path: '/api/notification-settings/:roomKind/:roomId',
    summary: 'My notification setting for a room (default: all for chats, mentions for cities)',
    auth: true,
    params: roomSettingParam,
    status: 200,
    returns: '{ setting: { cityId | chatId, level, muteUntil } }',
    response: z.strictObject({ setting: notificationSettingViewSchema }),
  },
  {
    method: 'put',
    path: '/api/notification-settings/:roomKind/:roomId',
    summary: 'Set my notification level and mute for a room',
    auth: true,
    params: roomSettingParam,
    body: notificationSettingBody,
    status: 200,
    returns: '{ setting: { cityId | chatId, level, muteUntil } }',
    response: z.strictObject({ setting: notificationSettingViewSchema }),
  },
  {
    method: 'get',
    path: '/api/notifications',
    summary: 'My notification feed, newest first',
    auth: true,
    query: notificationsQuery,
    status: 200,
    returns: '{ notifications, hasMore, unreadCount }',
    response: z.strictObject({
      notifications: z.array(notificationViewSchema),
      hasMore: z.boolean(),
      unreadCount: z.number().int(),
    }),
  },
  {
    method: 'post',
    path: '/api/notifications/read',
    summary: 'Mark my notifications up to upTo read',
    auth: true,
    body: notificationsReadBody,
    status: 200,
    returns: '{ updated, unreadCount }',
    response: z.strictObject({ updated: z.number().int(), unreadCount: z.number().int() }),
  },
  {
    method: 'get',
    path: '/api/push/vapid-public-key',
    summary: 'The VAPID public key to subscribe with (PushManager.subscribe applicationServerKey)',
    auth: false,
    status: 200,
    returns: '{ publicKey } (base64url)',
    response: z.strictObject({ publicKey: z.string() }),
  },
  {
    method: 'post',
    path: '/api/push/subscriptions',
    summary:
      "Save this browser's PushSubscription: Web Push reaches me here while I have no live socket",
    auth: true,
    body: pushSubscriptionBody,
    status: 201,
    returns: '{ subscription: { endpoint } } (200 when it was already mine)',
    response: PUSH_SUBSCRIPTION,
    also: { 200: { returns: 'it was already mine', response: PUSH_SUBSCRIPTION } },
  },
  {
    method: 'delete',
    path: '/api/push/subscriptions',
    summary: 'Remove one of my push subscriptions, by endpoint',
    auth: true,
    body: pushEndpointBody,
    status: 204,
    returns: 'nothing',
    response: null,
  },
  {
    method: 'patch',
    path: '/api/messages/:messageId',
    summary: 'Edit my message (broadcast)',
    auth: true,
    params: messageIdParam,
    body: editMessageBody,
    status: 200,
    returns: '{ message }',
    response: z.strictObject({ message: messageViewSchema }),
  },
  {
    method: 'get',
    path: '/api/search',
    summary:
      'Search messages in the rooms I may read now, newest first; snippet is { text, highlights } (docs/search.md)',
    auth: true,
    query: messageSearchQuery,
    status: 200,
    returns: '{ results: [{ message, snippet, rank }], next }',
    response: z.strictObject({
      results: z.array(searchResultViewSchema),
      next: z.string().nullable(),
    }),
  },
  {
    method: 'delete',
    path: '/api/messages/:messageId',
    summary: 'Delete a message (author or chat owner/admin; broadcast)',
    auth: true,
    params: messageIdParam,
    status: 200,
    returns: '{ message }',
    response: z.strictObject({ message: messageViewSchema }),
  },
  {
    method: 'put',
    path: '/api/messages/:messageId/reactions/:emoji',
    summary:
      'React with one emoji (or a short name, docs/events.md); once per user, at most 50 emojis per message (broadcast as *-message-reaction)',
    auth: true,
    params: messageEmojiParam,
    status: 200,
    returns: '{ messageId, emoji, action, count, changed }',
    response: REACTION_CHANGE,
  },
  {
    method: 'delete',
    path: '/api/messages/:messageId/reactions/:emoji',
    summary: 'Take my reaction back (broadcast as *-message-reaction)',
    auth: true,
    params: messageEmojiParam,
    status: 200,
    returns: '{ messageId, emoji, action, count, changed }',
    response: REACTION_CHANGE,
  },
  {
    method: 'get',
    path: '/api/messages/:messageId/replies',
    summary: "A page of the message's thread (its replies, oldest first)",
    auth: true,
    params: messageIdParam,
    query: historyQuery,
    status: 200,
    returns: '{ messages, hasMore }',
    response: z.strictObject({ messages: z.array(messageViewSchema), hasMore: z.boolean() }),
  },
  {
    method: 'put',
    path: '/api/messages/:messageId/pin',
    summary:
      'Pin a message (city moderators; chat owner/admins; at most 20 per room; broadcast as *-message-pinned)',
    auth: true,
    params: messageIdParam,
    status: 200,
    returns: '{ pin: { messageId, cityId | chatId, pinned_by, pinned_at, message }, changed }',
    response: z.strictObject({ pin: pinViewSchema, changed: z.boolean() }),
  },
  {
    method: 'delete',
    path: '/api/messages/:messageId/pin',
    summary: 'Unpin a message (as for pinning; broadcast as *-message-unpinned)',
    auth: true,
    params: messageIdParam,
    status: 200,
    returns: '{ messageId, changed }',
    response: z.strictObject({ messageId: z.string(), changed: z.boolean() }),
  },
  {
    method: 'get',
    path: '/api/cities/:cityId/pins',
    summary: "The city's pinned messages, newest pin first",
    auth: true,
    params: cityIdParam,
    status: 200,
    returns: '{ pins }',
    response: z.strictObject({ pins: z.array(pinViewSchema) }),
  },
  {
    method: 'get',
    path: '/api/chats/:chatId/pins',
    summary: "The chat's pinned messages, newest pin first (members only)",
    auth: true,
    params: chatIdParam,
    status: 200,
    returns: '{ pins }',
    response: z.strictObject({ pins: z.array(pinViewSchema) }),
  },
  {
    method: 'put',
    path: '/api/users/me/photo',
    summary: 'Upload my profile photo (multipart `file`; stored square, 256 and 64 px)',
    auth: true,
    upload: {},
    status: 200,
    returns: '{ user }',
    response: z.strictObject({ user: userViewSchema }),
  },
  {
    method: 'post',
    path: '/api/media',
    summary:
      'Upload a file (multipart `file`, optional `purpose` message | avatar); type from its bytes, MEDIA_MAX_BYTES',
    auth: true,
    upload: { purpose: 'message | avatar (default message)' },
    status: 201,
    returns: '{ media: { _id, url, thumbnail_url, content_type, size, name, width, height } }',
    response: z.strictObject({ media: mediaViewSchema }),
  },
  {
    method: 'get',
    path: '/api/media/:id',
    summary:
      'An upload (Range, ETag). Bearer token or the media_token cookie; avatars public, city media any user, chat media members',
    auth: false,
    status: 200,
    returns: 'the bytes (206 for a Range)',
    response: { '*/*': 'binary' },
    also: {
      206: { returns: 'the requested range', response: { '*/*': 'binary' } },
      416: { returns: 'the range is outside the file (no body)', response: null },
    },
  },
  {
    method: 'get',
    path: '/api/media/:id/thumbnail',
    summary: 'An image upload’s thumbnail (WebP, at most 320 px); same rules',
    auth: false,
    status: 200,
    returns: 'image/webp',
    response: { 'image/webp': 'binary' },
  },
  {
    method: 'get',
    path: '/api/media/avatars/:userId',
    summary: 'A user’s generated default avatar (initials on a colour); public',
    auth: false,
    status: 200,
    returns: 'image/svg+xml',
    response: { 'image/svg+xml': 'binary' },
  },
  {
    method: 'post',
    path: '/api/media/session',
    summary: 'Set the media_token cookie (Path=/api/media, HttpOnly) for <img> and <video> tags',
    auth: true,
    status: 204,
    returns: 'no body',
    response: null,
  },
  {
    method: 'delete',
    path: '/api/media/session',
    summary: 'Clear the media_token cookie',
    auth: false,
    status: 204,
    returns: 'no body',
    response: null,
  },
]

function uploadBody(fields: Record<string, string>) {
  return {
    required: true,
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          required: ['file'],
          properties: {
            file: { type: 'string', format: 'binary' },
            ...Object.fromEntries(
              Object.entries(fields).map(([name, description]) => [
                name,
                { type: 'string', description },
              ])
            ),
          },
        },
      },
    },
  }
}

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' })

/** An answer's schema; a time says `format: date-time` without zod's long pattern for it. */
const outputSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, {
    io: 'output',
    unrepresentable: 'any',
    target: 'draft-2020-12',
    override: ({ jsonSchema }) => {
      if (jsonSchema.format === 'date-time') delete jsonSchema.pattern
    },
  })

function response(description: string, body: ResponseBody) {
  if (body === null) return { description }
  const media = body instanceof z.ZodType ? { 'application/json': body } : body
  return {
    description,
    content: Object.fromEntries(
      Object.entries(media).map(([type, schema]) => [
        type,
        {
          schema: schema === 'binary' ? { type: 'string', format: 'binary' } : outputSchema(schema),
        },
      ])
    ),
  }
}

const ERROR_RESPONSE = response('Error: `{ error: { code, message, details? } }`', errorBodySchema)

function parameters(op: Operation) {
  const list: object[] = []
  for (const [where, schema] of [
    ['path', op.params],
    ['query', op.query],
  ] as const) {
    if (!schema) continue
    for (const [name, field] of Object.entries(schema.shape)) {
      list.push({
        name,
        in: where,
        required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
        schema: jsonSchema(field as z.ZodType),
      })
    }
  }
  return list
}

function operation(op: Operation) {
  return {
    summary: op.summary,
    ...(op.auth ? { security: [{ bearer: [] }] } : {}),
    parameters: parameters(op),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchema(op.body) } },
          },
        }
      : {}),
    ...(op.upload ? { requestBody: uploadBody(op.upload) } : {}),
    responses: {
      [op.status]: response(op.returns, op.response),
      ...Object.fromEntries(
        Object.entries(op.also ?? {}).map(([status, { returns, response: body }]) => [
          status,
          response(returns, body),
        ])
      ),
      default: ERROR_RESPONSE,
    },
  }
}

/** Hono's `:param` is OpenAPI's `{param}`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}')

/**
 * @example app.get('/api/openapi.json', (c) => c.json(openApiDocument()))
 */
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of [...OPERATIONS, ...MODERATION]) {
    const path = openApiPath(op.path)
    paths[path] = { ...paths[path], [op.method]: operation(op) }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'myCommunity chat API',
      version: '0.1.0',
      description:
        'REST half of the chat backend. Live events use socket.io at /socket.io/ (see /docs and /api/asyncapi.json).',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths,
  }
}
