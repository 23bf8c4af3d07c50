/**
 * @module Chat service: builds the domain once (auth, users, cities, chats, messages) over a
 * database, for REST routes and socket handlers alike.
 */
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import { createAuth } from './auth.ts'
import { createChats } from './chats.ts'
import { createCities } from './cities.ts'
import { createMessages } from './messages.ts'
import type { Tokens } from './tokens.ts'
import { createUsers } from './users.ts'

export interface ChatOptions {
  db: Db
  tokens: Tokens
  log: Logger
  refreshTtlMs: number
  argon2MemoryKib: number
}

/**
 * @example
 * const chat = createChat({ db, tokens, log, refreshTtlMs, argon2MemoryKib })
 * const user = await chat.verifyAccessToken(token)
 */
export function createChat(options: ChatOptions) {
  const { db } = options
  const cities = createCities({ db })
  const chats = createChats({ db })
  return {
    ...createAuth(options),
    ...createUsers({ db }),
    ...cities,
    ...chats,
    ...createMessages({ db, cities, chats }),
  }
}

export type Chat = ReturnType<typeof createChat>

/** The authenticated actor every domain function takes (a user row). */
export type { UserRow as User } from '../store/schema.ts'
