/**
 * @module The notifier's poll read (store/notifications.ts messagesToNotify), on every store kind:
 * what it returns (private-chat messages, replies, mentions, and plain city messages only in the
 * cities where someone chose `all`, or every message when told so), in seq order within its
 * bounds and limit; and, on a file, that SQLite answers it through messages_notify_idx and
 * messages_city_idx, never by walking the messages in range. The log half of the poll
 * (store/room-stream.ts listNotifiedEvents): only the kinds the notifier handles, through
 * room_events_notify_idx.
 */

import { Database as BunDatabase } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { CHAT_MEMBERS_ADDED, CHAT_MEMBERS_REMOVED, CITY, PRIVATE } from '../../src/chat/rooms.ts'
import { messagesToNotify, messagesToNotifyQuery } from '../../src/store/notifications.ts'
import { listNotifiedEvents, notifiedEventsQuery } from '../../src/store/room-stream.ts'
import { NOTIFIED_EVENTS } from '../../src/store/schema.ts'
import { STORE_KINDS, tempDatabases } from '../helpers/store.ts'

const databases = tempDatabases()

/** seq → what the row is; plain pune rows around each relevant one. */
const ROWS: Array<[number, string]> = [
  [1, 'plain'],
  [2, 'mention'],
  [3, 'plain'],
  [4, 'reply'],
  [5, 'plain'],
  [6, 'chat'],
  [7, 'plain'],
  [8, 'delhi'],
  [9, 'plain'],
]

async function seeded(kind: (typeof STORE_KINDS)[number]) {
  const { database, path, author } = await databases.seeded({ kind })
  const row = (seq: number, what: string) => {
    const [city, chat, mentions, replyTo] = {
      plain: [`'pune'`, 'NULL', 'NULL', 'NULL'],
      mention: [`'pune'`, 'NULL', `'["${author.id}"]'`, 'NULL'],
      reply: [`'pune'`, 'NULL', 'NULL', `'m1'`],
      chat: ['NULL', `'c1'`, 'NULL', 'NULL'],
      delhi: [`'delhi'`, 'NULL', 'NULL', 'NULL'],
    }[what] as string[]
    return `INSERT INTO messages (seq, id, city_id, chat_id, author_id, content, created_at,
      mentions, reply_to) VALUES (${seq}, 'm${seq}', ${city}, ${chat}, '${author.id}', '${what}',
      ${seq}, ${mentions}, ${replyTo})`
  }
  await database.executeAll([
    `INSERT INTO chats (id, name, created_by, created_at) VALUES ('c1', NULL, '${author.id}', 0)`,
    ...ROWS.map(([seq, what]) => row(seq, what)),
  ])
  return { db: database.db, path }
}

const contents = (rows: Array<{ content: string; seq: number }>) =>
  rows.map((row) => `${row.seq}:${row.content}`)

describe.each(STORE_KINDS)('the notifier poll over %s', (kind) => {
  test('reads what may notify, in seq order, within its bounds and limit', async () => {
    const { db } = await seeded(kind)
    expect(contents(await messagesToNotify(db, 0, 9, 256, ['delhi']))).toEqual([
      '2:mention',
      '4:reply',
      '6:chat',
      '8:delhi',
    ])
    // Nobody chose `all` anywhere: a city's plain messages are left out.
    expect(contents(await messagesToNotify(db, 0, 9, 256, []))).toEqual([
      '2:mention',
      '4:reply',
      '6:chat',
    ])
    // A webhook takes message.created: every message.
    expect(await messagesToNotify(db, 0, 9, 256, null)).toHaveLength(9)
    // The bounds: (after, until].
    expect(contents(await messagesToNotify(db, 2, 6, 256, ['delhi']))).toEqual([
      '4:reply',
      '6:chat',
    ])
    // The limit keeps the smallest seqs across both arms.
    expect(contents(await messagesToNotify(db, 0, 9, 2, ['delhi']))).toEqual([
      '2:mention',
      '4:reply',
    ])
    expect(contents(await messagesToNotify(db, 5, 9, 1, ['delhi']))).toEqual(['6:chat'])
    expect(contents(await messagesToNotify(db, 0, 9, 3, null))).toEqual([
      '1:plain',
      '2:mention',
      '3:plain',
    ])
  })
})

test('the poll walks messages_notify_idx and messages_city_idx, not the messages in range', async () => {
  const { db, path } = await seeded('bun-sqlite')
  const sqlite = new BunDatabase(path, { readonly: true })
  try {
    const query = messagesToNotifyQuery(db, 256, true).toSQL()
    const params = query.params.map((param) =>
      (param as { name?: string }).name === 'cities' ? '["delhi"]' : 0
    )
    const plan = (
      sqlite.query(`EXPLAIN QUERY PLAN ${query.sql}`).all(...(params as number[])) as Array<{
        detail: string
      }>
    ).map((row) => row.detail)
    expect(plan).toContain('SEARCH messages USING INDEX messages_notify_idx (seq>? AND seq<?)')
    expect(plan).toContain(
      'SEARCH messages USING INDEX messages_city_idx (city_id=? AND rowid>? AND rowid<?)'
    )
    // The outer read looks up each seq the arms found; nothing walks a range of the table.
    expect(plan.filter((step) => /messages USING INTEGER PRIMARY KEY/.test(step))).toEqual([
      'SEARCH messages USING INTEGER PRIMARY KEY (rowid=?)',
    ])
    expect(plan.filter((step) => /^SCAN messages/.test(step))).toEqual([])
  } finally {
    sqlite.close()
  }
})

/** The log after the messages: ids 10 on, of every kind the room stream logs. */
const LOGGED: Array<[number, string]> = [
  [10, 'city-message-thread-updated'],
  [11, 'city-message-edited'],
  [12, 'city-message-pinned'],
  [13, 'private-message-reaction'],
  [14, 'chat-member-role-changed'],
  [15, 'chat-members-added'],
  [16, 'city-message-deleted'],
  [17, 'chat-members-removed'],
  [18, 'private-message-unpinned'],
]

describe.each(STORE_KINDS)('the notifier log read over %s', (kind) => {
  test('reads the kinds the notifier handles, in id order, within its bounds and limit', async () => {
    const { database } = await databases.seeded({ kind })
    await database.executeAll(
      LOGGED.map(
        ([id, event]) =>
          `INSERT INTO room_events (id, room, packet, created_at) VALUES (${id}, 'city:pune', '${JSON.stringify([event, { n: id }])}', ${id})`
      )
    )
    const read = async (after: number, until: number, limit = 256) =>
      (await listNotifiedEvents(database.db, after, until, limit)).map(
        (row) => `${row.id}:${JSON.parse(row.packet)[0]}`
      )
    expect(await read(0, 18)).toEqual([
      '11:city-message-edited',
      '13:private-message-reaction',
      '15:chat-members-added',
      '16:city-message-deleted',
      '17:chat-members-removed',
    ])
    expect(await read(11, 16)).toEqual([
      '13:private-message-reaction',
      '15:chat-members-added',
      '16:city-message-deleted',
    ])
    expect(await read(0, 18, 2)).toEqual(['11:city-message-edited', '13:private-message-reaction'])
    expect(await read(18, 18)).toEqual([])
  })
})

test('the log read walks room_events_notify_idx, not the log rows in range', async () => {
  const { db, path } = await seeded('bun-sqlite')
  const sqlite = new BunDatabase(path, { readonly: true })
  try {
    const query = notifiedEventsQuery(db, 256).toSQL()
    const plan = (
      sqlite
        .query(`EXPLAIN QUERY PLAN ${query.sql}`)
        .all(...(query.params.map(() => 0) as number[])) as Array<{
        detail: string
      }>
    ).map((row) => row.detail)
    expect(plan).toEqual(['SEARCH room_events USING INDEX room_events_notify_idx (id>? AND id<?)'])
  } finally {
    sqlite.close()
  }
})

test('the notifier reads every room event it handles, under the names the rooms use', () => {
  const handled = [
    CHAT_MEMBERS_ADDED,
    CHAT_MEMBERS_REMOVED,
    ...[CITY, PRIVATE].flatMap((kind) => [
      kind.events.edited,
      kind.events.deleted,
      kind.events.reaction,
    ]),
  ]
  expect([...handled].sort()).toEqual([...NOTIFIED_EVENTS].sort())
})
