/**
 * @module Chat service: builds the domain once (auth, users, cities, chats, messages) over a
 * database, for REST routes and socket handlers alike.
 */
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import type { GroupWriter } from '../store/group-commit.ts'
import type { MessageWithAuthor, Room } from '../store/messages.ts'
import { createAuth } from './auth.ts'
import type { RoomBroadcast } from './chat-events.ts'
import { createChats } from './chats.ts'
import { createCities } from './cities.ts'
import { createMessages } from './messages.ts'
import {
  createRateLimiter,
  type RateLimitOptions,
  type SharedDebitLimits,
  UNLIMITED,
  withSharedDebits,
} from './rate-limit.ts'
import { createRoomLog } from './recovery.ts'
import type { Tokens } from './tokens.ts'
import { createUserCache } from './user-cache.ts'
import { createUsers } from './users.ts'

export interface ChatOptions {
  db: Db
  /** Group-committed hot writes (messages, room event log rows). */
  writer: GroupWriter
  tokens: Tokens
  log: Logger
  refreshTtlMs: number
  argon2MemoryKib: number
  /**
   * Per-user message rate: `perMinute` sustained, `burst` at once; perMinute 0 turns it off.
   * `shared`: buckets every node debits (scale-out), so the rate holds across nodes.
   */
  messageRate?: { perMinute: number; burst: number; shared?: SharedDebitLimits | undefined }
  /** Connection state recovery bounds; windowMs 0 (the default) turns it off. */
  recovery?: { windowMs: number; maxReplay: number }
  /** How a new message is broadcast (events/broadcasts.ts): what the room log publishes and replays. */
  newMessageBroadcast(message: MessageWithAuthor): RoomBroadcast
  /** The stored room behind a broadcast room (events/rooms.ts), for replaying its messages. */
  storedRoom(room: string): Room | null
}

/**
 * @example
 * const chat = createChat({ db, tokens, log, refreshTtlMs, argon2MemoryKib })
 * const user = await chat.verifyAccessToken(token)
 */
export function createChat(options: ChatOptions) {
  const { db, writer } = options
  const cities = createCities({ db })
  const chats = createChats({ db })
  const sendLimiter = messageLimiter(options.messageRate)
  const roomLog = createRoomLog({
    db,
    writer,
    log: options.log,
    windowMs: options.recovery?.windowMs ?? 0,
    maxReplay: options.recovery?.maxReplay ?? 1_000,
    newMessageBroadcast: options.newMessageBroadcast,
    storedRoom: options.storedRoom,
  })
  const userCache = createUserCache()
  return {
    roomLog,
    ...createAuth({ ...options, userCache }),
    ...createUsers({ db, userCache }),
    ...cities,
    ...chats,
    ...createMessages({
      db,
      writer,
      cities,
      chats,
      roomLog,
      sendLimiter,
    }),
  }
}

export type Chat = ReturnType<typeof createChat>

function messageLimiter(rate: ChatOptions['messageRate']) {
  if (!rate || rate.perMinute === 0) return UNLIMITED
  const options: RateLimitOptions = {
    burst: rate.burst,
    refill: rate.perMinute,
    perMs: 60_000,
    message: 'too many messages; slow down',
  }
  const local = createRateLimiter(options)
  return rate.shared ? withSharedDebits(local, rate.shared('message', options), options) : local
}

/** The authenticated actor every domain function takes (a user row). */
export type { UserRow as User } from '../store/schema.ts'
