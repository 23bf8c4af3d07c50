/**
 * @module Message search: which rooms a user's search looks in (every room `canEnter` lets them
 * read now, or the one they name) and the page of matches, newest first, with a snippet each.
 * The index itself is store/search.ts; the query language is chat/search-query.ts.
 */
import { fail, ok, type Result } from '../errors.ts'
import { listChatIdsForUser } from '../store/chats.ts'
import { listCities } from '../store/cities.ts'
import type { Db } from '../store/db.ts'
import type { MessageWithAuthor } from '../store/messages.ts'
import type { UserRow } from '../store/schema.ts'
import * as store from '../store/search.ts'
import type { RoomAccess } from './room-access.ts'
import { chatRoom, cityRoom, isInRoom, type RoomRef } from './rooms.ts'
import { readSnippet, type Snippet, toMatchExpression } from './search-query.ts'

export interface SearchInput {
  q: string
  /** One room instead of all the user's (at most one of the two). */
  cityId?: string | undefined
  chatId?: string | undefined
  /** Only messages sent by this user. */
  from?: string | undefined
  /** The previous page's `next`: a message id; the page holds only older matches. */
  before?: string | undefined
  limit: number
}

export interface SearchResult {
  message: MessageWithAuthor
  snippet: Snippet
  /** How well it matched: -bm25, higher is better, comparable within one query. */
  rank: number
}

const MARKS = { start: store.MATCH_START, end: store.MATCH_END }

export function createSearch({ db, access }: { db: Db; access: RoomAccess }) {
  /** The rooms the actor may read, each asked of canEnter: `rooms` if named, else all of theirs. */
  async function readableRooms(actor: UserRow, named: RoomRef | null): Promise<Result<RoomRef[]>> {
    if (named) {
      const entry = await access.canEnter(actor, named, 'read')
      return entry.ok ? ok([named]) : entry
    }
    const [cities, chatIds] = await Promise.all([listCities(db), listChatIdsForUser(db, actor.id)])
    const candidates = [...cities.map((city) => cityRoom(city.id)), ...chatIds.map(chatRoom)]
    const entries = await Promise.all(
      candidates.map((room) => access.canEnter(actor, room, 'read'))
    )
    return ok(candidates.filter((_, i) => entries[i]?.ok))
  }

  /**
   * Matches of `q` in the rooms the actor may read now, newest first; `next` is the cursor of the
   * following page (null on the last).
   * @example const page = await chat.searchMessages(user, { q: 'mum*', limit: 20 })
   */
  async function searchMessages(
    actor: UserRow,
    input: SearchInput
  ): Promise<Result<{ results: SearchResult[]; next: string | null }>> {
    const match = toMatchExpression(input.q)
    if (!match.ok) return match
    const named = input.cityId
      ? cityRoom(input.cityId)
      : input.chatId
        ? chatRoom(input.chatId)
        : null
    const rooms = await readableRooms(actor, named)
    if (!rooms.ok) return rooms
    let beforeSeq: number | undefined
    if (input.before !== undefined) {
      // The cursor must be a message this search could have returned: anything else (unknown,
      // another room's, someone's shadowed one) is refused alike, so it tells nothing.
      const cursor = await store.findMessageWithSeq(db, input.before)
      const inScope =
        cursor &&
        (!cursor.shadowed || cursor.authorId === actor.id) &&
        rooms.value.some((room) => isInRoom(cursor, room))
      if (!inScope) return fail('invalid_input', 'before is not a message of this search')
      beforeSeq = cursor.seq
    }
    const page = await store.searchMessages(db, {
      match: match.value,
      cityIds: rooms.value.filter((room) => room.kind === 'city').map((room) => room.id),
      chatIds: rooms.value.filter((room) => room.kind === 'chat').map((room) => room.id),
      viewerId: actor.id,
      authorId: input.from,
      beforeSeq,
      limit: input.limit,
    })
    const results = page.hits.map((hit) => ({
      message: hit.message,
      snippet: readSnippet(hit.snippet, hit.message.content, MARKS),
      rank: -hit.bm25,
    }))
    const last = results.at(-1)
    return ok({ results, next: page.hasMore && last ? last.message.id : null })
  }

  return { searchMessages }
}
