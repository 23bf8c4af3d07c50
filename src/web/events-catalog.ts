/**
 * @module Socket events catalog: one table of every event in the guide (plus `error` and acks).
 * events-docs.ts renders it as docs/events.md and AsyncAPI 3.0; docs.ts renders it on /docs.
 */

import { EMOJI_NAMES } from '../chat/emoji.ts'

/** Field types: primitives, `A | B`, `X[]`, or a shared schema name from SCHEMAS. */
export type Fields = Record<string, string>

export interface EventDoc {
  name: string
  /** From the client's point of view: `emit` = client → server, `receive` = server → client. */
  direction: 'emit' | 'receive'
  group: (typeof GROUPS)[number]
  /** Object payload fields (a trailing `?` on the name = optional), or a schema/primitive name. */
  payload: Fields | string | null
  /** emit: what the server answers and to whom. receive: who gets it. */
  result: string
}

/** Shared shapes; names here may be used as field types. */
export const SCHEMAS: Record<string, Fields> = {
  PublicUser: {
    _id: 'string',
    username: 'string',
    full_name: 'string',
    profile_photo_url: 'string | null',
  },
  Message: {
    _id: 'string (24 hex, time-sortable)',
    sender_id: 'PublicUser',
    content: "string ('' when deleted)",
    message_type: "'text' | 'image' | 'file'",
    media_url: 'string | null',
    'attachment?':
      '{ _id, url, thumbnail_url, content_type, size, name, width, height } (sent with media_id; width, height and thumbnail_url null but for images)',
    reply_to: 'string | null',
    'reply_to_deleted?': 'true (the message replied to was deleted, or purged by retention)',
    is_edited: 'boolean',
    is_deleted: 'boolean',
    created_at: 'string (ISO 8601 UTC)',
    edited_at: 'string | null',
    'cityId?': 'string (city messages)',
    'chatId?': 'string (private messages)',
    'clientId?': 'string (echoed when the sender supplied one)',
    reactions: 'Reaction[] (most first; [] on a new or deleted message)',
    reply_count: 'number (replies in its thread)',
    last_reply_at: 'string | null (ISO 8601 UTC of the newest reply)',
  },
  Reaction: {
    emoji: 'string (one emoji)',
    count: 'number',
    userIds: 'string[] (the first 10 users who reacted)',
  },
  Pin: {
    messageId: 'string',
    'cityId | chatId': 'string',
    pinned_by: 'string (user id)',
    pinned_at: 'string (ISO 8601 UTC)',
    message: 'Message',
  },
  OnlineUser: {
    userId: 'string',
    username: 'string',
    full_name: 'string',
    profile_photo_url: 'string | null',
  },
  Ack: {
    ok: 'boolean',
    '...': 'on success, the fields named in the event (e.g. message)',
    'error?': '{ code: string, message: string } (when ok is false)',
  },
}

const CITY = { cityId: "string (slug, e.g. 'mumbai')" }
const CHAT = { chatId: 'string (24 hex)' }
const SEND = {
  content: 'string (≤ 4000 chars; required for text)',
  'message_type?': "'text' | 'image' | 'file' (default 'text')",
  'media_url?': 'string | null (http(s); image/file need it or media_id)',
  'media_id?':
    'string | null (an upload of the sender from POST /api/media, not sent before; with image/file, without media_url)',
  'reply_to?': 'string | null (message id)',
  'clientId?': 'string (≤ 64 chars; echoed back to reconcile optimistic UI)',
}
const TYPING_EVENT = { userId: 'string', username: 'string', full_name: 'string' }
const JOIN_NOTICE = {
  userId: 'string',
  username: 'string',
  full_name: 'string',
  profile_photo_url: 'string | null',
}

const REACTION = {
  messageId: 'string',
  emoji: `string (one emoji, or a short name: ${Object.keys(EMOJI_NAMES).join(', ')})`,
  'cityId | chatId': 'string (the room the message is in)',
}
const REACTED = {
  messageId: 'string',
  emoji: 'string (the emoji; a short name arrives as its emoji)',
  userId: 'string',
  action: "'add' | 'remove'",
  count: "number (the emoji's count after it)",
}
const THREAD = {
  messageId: 'string (the parent)',
  reply_count: 'number',
  last_reply_at: 'string (ISO 8601 UTC)',
}
const UNPIN = { messageId: 'string', unpinned_by: 'string (user id)' }

/** The reaction, thread and pin events of one room kind. */
function roomExtras(label: 'city' | 'private', room: Fields, where: string): EventDoc[] {
  const group = 'Reactions, threads and pins'
  return [
    {
      name: `${label}-message-reaction`,
      direction: 'receive',
      group,
      payload: { ...REACTED, ...room },
      result: `Everyone in the ${where} (replayed on recovery). A shadow-restricted user's reaction goes to that user only.`,
    },
    {
      name: `${label}-message-thread-updated`,
      direction: 'receive',
      group,
      payload: { ...THREAD, ...room },
      result: `Everyone in the ${where}, right after the new-* of a reply (replayed on recovery). GET /api/messages/:messageId/replies pages the thread.`,
    },
    {
      name: `${label}-message-pinned`,
      direction: 'receive',
      group,
      payload: 'Pin',
      result: `Everyone in the ${where} (replayed on recovery), after PUT /api/messages/:messageId/pin by ${label === 'city' ? 'a moderator of the city' : 'the chat owner or an admin'}.`,
    },
    {
      name: `${label}-message-unpinned`,
      direction: 'receive',
      group,
      payload: { ...UNPIN, ...room },
      result: `Everyone in the ${where} (replayed on recovery), after DELETE /api/messages/:messageId/pin, or when a pinned message is deleted.`,
    },
  ]
}

export const EVENTS: EventDoc[] = [
  {
    name: 'connect_error',
    direction: 'receive',
    group: 'Connection',
    payload: { message: "'Authentication error'" },
    result:
      'The handshake was refused (missing, invalid or expired token, inactive user). Refresh the token, set socket.auth.token and call socket.connect().',
  },
  {
    name: 'error',
    direction: 'receive',
    group: 'Connection',
    payload: {
      message: 'string',
      code: 'string (errors.ts code, e.g. not_member)',
      event: "string (the event that was refused; 'auth' when the access token expired)",
    },
    result:
      "Only the offending socket, for every refused or invalid action. An ack, if passed, is answered too. { code: 'unauthorized', event: 'auth' } means the token expired: the socket is then disconnected; reconnect with a refreshed token (socket.auth.token = new; socket.connect()) and it resumes with its rooms and missed messages.",
  },
  {
    name: 'refresh-auth',
    direction: 'emit',
    group: 'Connection',
    payload: { token: 'string (a newer access token of the same user)' },
    result:
      "Opt-in: renews the token on the open connection so it is not disconnected at expiry. Ack { ok: true, expiresAt } or { ok: false, error } (another user's token is refused).",
  },
  {
    name: 'join-city-chat',
    direction: 'emit',
    group: 'City chat',
    payload: CITY,
    result:
      'joined-city-chat to the socket, user-joined-city-chat to the others in the room (once per user). Ack { ok: true, cityId, cityName }.',
  },
  {
    name: 'joined-city-chat',
    direction: 'receive',
    group: 'City chat',
    payload: {
      ...CITY,
      cityName: 'string',
      message: 'string',
      slowModeSeconds: 'number',
      pinnedCount: 'number',
      'muted?': '{ until: ISO 8601 | null, reason: string | null }',
    },
    result:
      'The socket that joined. slowModeSeconds: the wait between two messages of a member (0: off; moderators are exempt). pinnedCount: pinned messages in the city (GET /api/cities/:cityId/pins lists them). muted, only for a muted user: they may read, sends are refused with muted, until then (null: until lifted), and why.',
  },
  {
    name: 'user-joined-city-chat',
    direction: 'receive',
    group: 'City chat',
    payload: { ...JOIN_NOTICE, ...CITY },
    result: 'The others in the city room.',
  },
  {
    name: 'leave-city-chat',
    direction: 'emit',
    group: 'City chat',
    payload: CITY,
    result: 'left-city-chat to the socket, user-left-city-chat to the others in the room.',
  },
  {
    name: 'left-city-chat',
    direction: 'receive',
    group: 'City chat',
    payload: {
      ...CITY,
      'reason?': "'banned'",
      'until?': 'ISO 8601 | null',
      'note?': "string | null (the moderator's reason)",
    },
    result:
      "The socket that left; with reason 'banned' every socket of a user a moderator banned (on every node), which is out of the room at once.",
  },
  {
    name: 'report-created',
    direction: 'receive',
    group: 'City chat',
    payload: { reportId: 'string', messageId: 'string', 'cityId | chatId': 'string' },
    result:
      'When a user reports a message or the word filter flags one, on every node: for a city message every online moderator of the city (its moderators, global moderators, admins); for a private-chat message every online admin (a private chat has no moderators).',
  },
  {
    name: 'user-left-city-chat',
    direction: 'receive',
    group: 'City chat',
    payload: { userId: 'string', username: 'string', full_name: 'string', ...CITY },
    result:
      "The others in the city room, when the user's last socket in it leaves, disconnects or its node dies.",
  },
  {
    name: 'send-city-message',
    direction: 'emit',
    group: 'City chat',
    payload: { ...CITY, ...SEND },
    result:
      'Requires having joined the room with this socket. new-city-message to the whole room (sender included). Ack { ok: true, message, duplicate } (a repeated clientId answers the first message with duplicate: true and no new broadcast).',
  },
  {
    name: 'new-city-message',
    direction: 'receive',
    group: 'City chat',
    payload: 'Message',
    result: 'Everyone in the city room, sender included.',
  },
  {
    name: 'edit-city-message',
    direction: 'emit',
    group: 'City chat',
    payload: { messageId: 'string', ...CITY, content: 'string (≤ 4000 chars, not empty)' },
    result: 'Author only. city-message-edited to the room. Ack { ok: true, message }.',
  },
  {
    name: 'city-message-edited',
    direction: 'receive',
    group: 'City chat',
    payload: 'Message',
    result: 'Everyone in the city room.',
  },
  {
    name: 'delete-city-message',
    direction: 'emit',
    group: 'City chat',
    payload: { messageId: 'string', ...CITY },
    result:
      'The author, or a moderator of the city (never on an admin\'s message; audited). city-message-deleted to the room; the row stays with is_deleted: true, content: "". Ack { ok: true, messageId, cityId }.',
  },
  {
    name: 'city-message-deleted',
    direction: 'receive',
    group: 'City chat',
    payload: { messageId: 'string', ...CITY },
    result: 'Everyone in the city room.',
  },
  {
    name: 'city-typing',
    direction: 'emit',
    group: 'City chat',
    payload: CITY,
    result: 'user-typing-city to the others in the room. Expires by itself after a few seconds.',
  },
  {
    name: 'city-stop-typing',
    direction: 'emit',
    group: 'City chat',
    payload: CITY,
    result: 'user-stopped-typing-city to the others in the room.',
  },
  {
    name: 'user-typing-city',
    direction: 'receive',
    group: 'City chat',
    payload: { ...TYPING_EVENT, ...CITY },
    result: 'The others in the city room (not the typist).',
  },
  {
    name: 'user-stopped-typing-city',
    direction: 'receive',
    group: 'City chat',
    payload: { ...TYPING_EVENT, ...CITY },
    result: 'The others in the city room: on city-stop-typing, expiry, leave or disconnect.',
  },
  {
    name: 'join-private-chat',
    direction: 'emit',
    group: 'Private chat',
    payload: CHAT,
    result:
      'Members only. joined-private-chat to the socket, user-joined-private-chat to the others in the room (once per user). Ack { ok: true, chatId, chatName }.',
  },
  {
    name: 'joined-private-chat',
    direction: 'receive',
    group: 'Private chat',
    payload: { ...CHAT, chatName: 'string | null', message: 'string', pinnedCount: 'number' },
    result:
      'The socket that joined. pinnedCount: pinned messages in the chat (GET /api/chats/:chatId/pins lists them).',
  },
  {
    name: 'user-joined-private-chat',
    direction: 'receive',
    group: 'Private chat',
    payload: { ...JOIN_NOTICE, ...CHAT },
    result: 'The others in the chat room.',
  },
  {
    name: 'leave-private-chat',
    direction: 'emit',
    group: 'Private chat',
    payload: CHAT,
    result:
      'left-private-chat to the socket, user-left-private-chat to the others. (Leaves the room, not the membership: that is POST /api/chats/:chatId/leave.)',
  },
  {
    name: 'left-private-chat',
    direction: 'receive',
    group: 'Private chat',
    payload: CHAT,
    result: 'The socket that left.',
  },
  {
    name: 'user-left-private-chat',
    direction: 'receive',
    group: 'Private chat',
    payload: { userId: 'string', username: 'string', full_name: 'string', ...CHAT },
    result:
      "The others in the chat room, when the user's last socket in it leaves, disconnects or its node dies.",
  },
  {
    name: 'send-private-message',
    direction: 'emit',
    group: 'Private chat',
    payload: { ...CHAT, ...SEND },
    result:
      'Members who joined the room with this socket. new-private-message to the room. Ack { ok: true, message, duplicate }.',
  },
  {
    name: 'new-private-message',
    direction: 'receive',
    group: 'Private chat',
    payload: 'Message',
    result: 'Everyone in the chat room, sender included.',
  },
  {
    name: 'edit-private-message',
    direction: 'emit',
    group: 'Private chat',
    payload: { messageId: 'string', ...CHAT, content: 'string (≤ 4000 chars, not empty)' },
    result: 'Author only. private-message-edited to the room. Ack { ok: true, message }.',
  },
  {
    name: 'private-message-edited',
    direction: 'receive',
    group: 'Private chat',
    payload: 'Message',
    result: 'Everyone in the chat room.',
  },
  {
    name: 'delete-private-message',
    direction: 'emit',
    group: 'Private chat',
    payload: { messageId: 'string', ...CHAT },
    result:
      'The author or a chat owner/admin. private-message-deleted to the room. Ack { ok: true, messageId, chatId }.',
  },
  {
    name: 'private-message-deleted',
    direction: 'receive',
    group: 'Private chat',
    payload: { messageId: 'string', ...CHAT },
    result: 'Everyone in the chat room.',
  },
  {
    name: 'private-typing',
    direction: 'emit',
    group: 'Private chat',
    payload: CHAT,
    result: 'user-typing-private to the others in the room.',
  },
  {
    name: 'private-stop-typing',
    direction: 'emit',
    group: 'Private chat',
    payload: CHAT,
    result: 'user-stopped-typing-private to the others in the room.',
  },
  {
    name: 'user-typing-private',
    direction: 'receive',
    group: 'Private chat',
    payload: { ...TYPING_EVENT, ...CHAT },
    result: 'The others in the chat room (not the typist).',
  },
  {
    name: 'user-stopped-typing-private',
    direction: 'receive',
    group: 'Private chat',
    payload: { ...TYPING_EVENT, ...CHAT },
    result: 'The others in the chat room: on private-stop-typing, expiry, leave or disconnect.',
  },
  {
    name: 'mark-messages-read',
    direction: 'emit',
    group: 'Private chat',
    payload: { 'chatId | cityId': 'string' },
    result:
      'Members only. Stores the read position; messages-read to the chat room (a city: to my own sockets). Same as POST /api/chats/:chatId/read and POST /api/cities/:cityId/read.',
  },
  {
    name: 'messages-read',
    direction: 'receive',
    group: 'Private chat',
    payload: {
      ...CHAT,
      userId: 'string',
      readAt: 'string (ISO 8601)',
      'lastReadMessageId?': 'string | null',
    },
    result: 'Everyone in the chat room: show ✓✓ on messages created at or before readAt.',
  },
  {
    name: 'notification',
    direction: 'receive',
    group: 'Private chat',
    payload: {
      _id: 'string',
      kind: "'mention' | 'reply' | 'added' | 'message'",
      'chatId | cityId': 'string',
      actor_id: 'string',
      message: 'Message | null',
      read: 'boolean',
      created_at: 'string (ISO 8601)',
    },
    result:
      'Every socket of the notified user, on every node: a mention, a reply, being added to a chat, or a message while offline (GET /api/notifications lists them).',
  },
  {
    name: 'added-to-chat',
    direction: 'receive',
    group: 'Private chat',
    payload: CHAT,
    result:
      "Every socket of each user who became a member (POST /api/chats, including the creator's; POST /api/chats/:chatId/members): fetch the chat and join it.",
  },
  {
    name: 'removed-from-chat',
    direction: 'receive',
    group: 'Private chat',
    payload: CHAT,
    result:
      'Every socket of each user who stopped being a member (removed, or left): drop the chat. Sockets in its room also get left-private-chat.',
  },
  {
    name: 'chat-members-added',
    direction: 'receive',
    group: 'Private chat',
    payload: {
      ...CHAT,
      actorId: 'string (user id: who added them, or created the chat with them)',
      userIds: 'string[] (the new members)',
    },
    result:
      'Everyone in the chat room (replayed on recovery), after POST /api/chats (the creator is not listed) and POST /api/chats/:chatId/members (users already in it are not listed; none new: no event). The new members themselves get added-to-chat on their own sockets.',
  },
  {
    name: 'chat-members-removed',
    direction: 'receive',
    group: 'Private chat',
    payload: {
      ...CHAT,
      actorId: "string (user id: who removed them; the leaver's own when they left)",
      userIds: 'string[] (who is no longer a member)',
    },
    result:
      'Everyone in the chat room (replayed on recovery), after DELETE /api/chats/:chatId/members/:userId and POST /api/chats/:chatId/leave. The removed user gets removed-from-chat on their own sockets and leaves the room; resuming a session later, they get nothing more of the chat.',
  },
  {
    name: 'chat-member-role-changed',
    direction: 'receive',
    group: 'Private chat',
    payload: {
      ...CHAT,
      userId: 'string (the member)',
      role: "'admin' | 'member' (their role now)",
      changed_by: 'string (user id: the owner)',
    },
    result:
      'Everyone in the chat room (replayed on recovery), after PUT /api/chats/:chatId/members/:userId/role by the owner. Admins add and remove members and pin; GET /api/chats/:chatId lists every role.',
  },
  {
    name: 'get-online-count',
    direction: 'emit',
    group: 'Presence',
    payload: null,
    result: 'online-users to the socket.',
  },
  {
    name: 'online-users',
    direction: 'receive',
    group: 'Presence',
    payload: 'number (distinct users online; several tabs count once)',
    result: 'The asking socket, and broadcast to everyone on every change.',
  },
  {
    name: 'get-city-online-users',
    direction: 'emit',
    group: 'Presence',
    payload: CITY,
    result: 'city-online-users to the socket.',
  },
  {
    name: 'city-online-users',
    direction: 'receive',
    group: 'Presence',
    payload: { ...CITY, count: 'number', users: 'OnlineUser[]' },
    result:
      'The asking socket: distinct users in the city room (the whole list). Also pushed to the room when its members change (a first socket joins, a last one leaves), coalesced over 25 ms; a push lists at most 100 users, and its count is the whole room.',
  },
  {
    name: 'get-chat-online-users',
    direction: 'emit',
    group: 'Presence',
    payload: CHAT,
    result: 'Members only. chat-online-users to the socket.',
  },
  {
    name: 'chat-online-users',
    direction: 'receive',
    group: 'Presence',
    payload: { ...CHAT, count: 'number', users: 'OnlineUser[]' },
    result: "The asking socket: the chat's members who are online.",
  },
  {
    name: 'check-user-online',
    direction: 'emit',
    group: 'Presence',
    payload: { userId: 'string' },
    result: 'user-online-status to the socket.',
  },
  {
    name: 'user-online-status',
    direction: 'receive',
    group: 'Presence',
    payload: { userId: 'string', isOnline: 'boolean', lastSeen: 'string | null (ISO 8601)' },
    result: 'The asking socket.',
  },
  {
    name: 'user-offline',
    direction: 'receive',
    group: 'Presence',
    payload: { userId: 'string', username: 'string', lastSeen: 'string (ISO 8601)' },
    result:
      "When a user's last connection closes: everyone (PRESENCE_SCOPE=all, the default), or with PRESENCE_SCOPE=shared only the sockets in a city or private chat room the user was in, each once.",
  },
  {
    name: 'heartbeat',
    direction: 'emit',
    group: 'Presence',
    payload: { 'timestamp?': 'number (ms since epoch)' },
    result: 'heartbeat-ack to the socket.',
  },
  {
    name: 'heartbeat-ack',
    direction: 'receive',
    group: 'Presence',
    payload: { timestamp: 'number (echoes the client’s, else server time)', serverTime: 'number' },
    result: 'The asking socket. Latency = Date.now() - timestamp.',
  },
  {
    name: 'react-message',
    direction: 'emit',
    group: 'Reactions, threads and pins',
    payload: REACTION,
    result:
      "Adds the user's reaction (one of each emoji per user; a message has at most 50 different ones: conflict; through the message rate limit: rate_limited). *-message-reaction to the room. Ack { ok: true, messageId, emoji, action: 'add', count, changed } (changed false: it was there already, nothing announced). REST: PUT /api/messages/:messageId/reactions/:emoji.",
  },
  {
    name: 'unreact-message',
    direction: 'emit',
    group: 'Reactions, threads and pins',
    payload: REACTION,
    result:
      "Removes the user's own reaction. *-message-reaction with action 'remove' to the room. Ack as for react-message (changed false: there was none). REST: DELETE /api/messages/:messageId/reactions/:emoji.",
  },
  ...roomExtras('city', CITY, 'city room'),
  ...roomExtras('private', CHAT, 'chat room'),
]

export const GROUPS = [
  'Connection',
  'City chat',
  'Private chat',
  'Reactions, threads and pins',
  'Presence',
] as const

/** A payload as one line of text: `{ key: type, ... }`. */
export function payloadText(payload: EventDoc['payload']): string {
  if (payload === null) return '(none)'
  if (typeof payload === 'string') return payload
  return `{ ${Object.entries(payload)
    .map(([key, type]) => `${key}: ${type}`)
    .join(', ')} }`
}
