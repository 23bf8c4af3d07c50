/**
 * @module The message search index over every store (bun:sqlite, libSQL on a file, a libSQL
 * server): the writers, the triggers and the retention purge keep it in step with inserts, edits,
 * soft deletes and purges; existing rows
 * are indexed by the migration; diacritics fold, prefixes and phrases match; any `q` at all turns
 * into an expression FTS5 accepts.
 */
import { describe, expect, test } from 'bun:test'
import { inArray } from 'drizzle-orm'
import { toMatchExpression } from '../../src/chat/search-query.ts'
import { deleteChat, insertChat } from '../../src/store/chats.ts'
import type { Database } from '../../src/store/db.ts'
import { blankMessages } from '../../src/store/erasures.ts'
import { newId } from '../../src/store/ids.ts'
import {
  AGED_COLUMNS,
  markMessageDeleted,
  type NewMessageRow,
  purgeMessages,
  updateMessageContent,
} from '../../src/store/messages.ts'
import { loadMigrations, migrate } from '../../src/store/migrate.ts'
import { messages } from '../../src/store/schema.ts'
import { scopeOf, searchMessages } from '../../src/store/search.ts'
import { seedCities } from '../../src/store/seed.ts'
import { insertUser } from '../../src/store/users.ts'
import { STORE_KINDS, tempDatabases } from '../helpers/store.ts'

const databases = tempDatabases()

async function addAuthor(database: Database, username: string): Promise<string> {
  const now = Date.now()
  const user = await insertUser(database.db, {
    id: newId(now),
    username,
    email: `${username}@example.test`,
    fullName: username,
    createdAt: now,
    updatedAt: now,
  })
  return user.id
}

function search(
  database: Database,
  q: string,
  viewerId: string,
  cityIds = ['mumbai'],
  chatIds: string[] = []
) {
  const match = toMatchExpression(q)
  if (!match.ok) throw new Error(match.error.message)
  return searchMessages(database.db, {
    match: match.value,
    cityIds,
    chatIds,
    viewerId,
    limit: 50,
  })
}

/** Purges these messages as retention does (store/messages.ts purgeMessages, with their aged rows). */
async function purgeByIds(db: Database['db'], ids: string[]): Promise<void> {
  const aged = await db.select(AGED_COLUMNS).from(messages).where(inArray(messages.id, ids))
  await purgeMessages(db, aged)
}

const contents = async (database: Database, q: string, viewerId: string, cityIds?: string[]) =>
  (await search(database, q, viewerId, cityIds)).hits.map((hit) => hit.message.content)

describe.each(STORE_KINDS)('search index over %s', (kind) => {
  test('inserts, edits, soft and hard deletes keep the index in step', async () => {
    const { database } = await databases.seeded({ kind })
    const author = await addAuthor(database, 'indexer')
    const send = async (fields: Partial<NewMessageRow>) => {
      const row: NewMessageRow = {
        id: newId(),
        authorId: author,
        cityId: 'mumbai',
        content: '',
        createdAt: Date.now(),
        ...fields,
      }
      await database.writer.insertMessage(row)
      return row.id
    }
    const cafe = await send({ content: 'Meet at the Café Mondegar, Mumbai' })
    const other = await send({ content: 'rain in Delhi', cityId: 'delhi' })
    await send({ content: 'the mumbai local is late' })
    // Folded diacritics and case; a prefix; a phrase (in order only).
    expect(await contents(database, 'cafe', author)).toEqual(['Meet at the Café Mondegar, Mumbai'])
    expect(await contents(database, 'MUM*', author)).toEqual([
      'the mumbai local is late',
      'Meet at the Café Mondegar, Mumbai',
    ])
    expect(await contents(database, '"mumbai local"', author)).toEqual(['the mumbai local is late'])
    expect(await contents(database, '"local mumbai"', author)).toEqual([])
    // Rooms outside the scope are never read.
    expect(await contents(database, 'rain', author)).toEqual([])
    expect(await contents(database, 'rain', author, ['delhi'])).toEqual(['rain in Delhi'])
    // An edit re-indexes: the old words leave, the new ones arrive.
    await updateMessageContent(database.db, cafe, 'Meet at Leopold instead', Date.now())
    expect(await contents(database, 'mondegar', author)).toEqual([])
    expect(await contents(database, 'leopold', author)).toEqual(['Meet at Leopold instead'])
    // A soft delete blanks the content: the row leaves the index.
    await markMessageDeleted(database.db, cafe, Date.now())
    expect(await contents(database, 'leopold', author)).toEqual([])
    // Rows purged by retention leave with them, in the purge's own statement (no trigger: 0024):
    // an untouched one, and the soft-deleted one (its blank entry), in one slice.
    await purgeByIds(database.db, [other, cafe])
    expect(await contents(database, 'rain', author, ['delhi'])).toEqual([])
    expect(await contents(database, 'mumbai', author)).toEqual(['the mumbai local is late'])
    // A chat deleted with its messages takes their entries with them.
    const chatId = newId(Date.now())
    await insertChat(
      database.db,
      { id: chatId, name: null, createdBy: author, createdAt: Date.now() },
      [{ userId: author, role: 'owner' }]
    )
    await send({ content: 'a private word', cityId: null, chatId })
    const inChat = (await search(database, 'private', author, [], [chatId])).hits.length
    expect(inChat).toBe(1)
    await deleteChat(database.db, chatId)
    expect((await search(database, 'private', author, [], [chatId])).hits).toEqual([])
    const integrity = await database.db.all(
      "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"
    )
    expect(integrity).toEqual([])
  })

  test("others' shadowed messages are not found; their author finds them; a sender filter", async () => {
    const { database } = await databases.seeded({ kind })
    const shadow = await addAuthor(database, 'shadowed')
    const viewer = await addAuthor(database, 'viewer')
    const at = Date.now()
    await database.writer.insertMessage({
      id: newId(at),
      authorId: shadow,
      cityId: 'mumbai',
      content: 'secret vada pav',
      createdAt: at,
      shadowed: true,
    })
    await database.writer.insertMessage({
      id: newId(at),
      authorId: viewer,
      cityId: 'mumbai',
      content: 'public vada pav',
      createdAt: at,
    })
    expect(await contents(database, 'vada', viewer)).toEqual(['public vada pav'])
    expect(await contents(database, 'vada', shadow)).toEqual(['public vada pav', 'secret vada pav'])
    const match = toMatchExpression('vada')
    if (!match.ok) throw new Error('unreachable')
    const fromShadow = await searchMessages(database.db, {
      match: match.value,
      cityIds: ['mumbai'],
      chatIds: [],
      viewerId: shadow,
      authorId: shadow,
      limit: 10,
    })
    expect(fromShadow.hits.map((hit) => hit.message.content)).toEqual(['secret vada pav'])
  })

  test('whatever q holds, the expression is valid FTS5 or refused before it', async () => {
    const { database } = await databases.seeded({ kind })
    const author = await addAuthor(database, 'fuzzer')
    await database.writer.insertMessage({
      id: newId(),
      authorId: author,
      cityId: 'mumbai',
      content: 'NEAR the OR gate, content: AND "quotes" (parens) ^caret -minus col:umn',
      createdAt: Date.now(),
    })
    const hostile = [
      '"',
      '""',
      '"unbalanced',
      'NEAR(a b, 2)',
      'content:near',
      'a OR',
      'OR',
      'AND NOT',
      '(((',
      ')',
      '^caret',
      '-minus',
      '*',
      'near*',
      '"quotes"*',
      'col:umn',
      "'single'",
      '{a b}:c',
      '\u0000',
      'ǅ̈́\u0301',
      '👍',
      'a'.repeat(190),
    ]
    for (const q of hostile) {
      const match = toMatchExpression(q)
      if (!match.ok) continue
      // Must not throw: each would be a 500 at the route.
      await search(database, q, author)
    }
    expect(await contents(database, 'NEAR', author)).toHaveLength(1)
    expect(await contents(database, 'content:', author)).toHaveLength(1)
    expect(await contents(database, '"unbalanced', author)).toEqual([])
    // The scope tokens the index keeps beside the text are never matched by a user's words.
    for (const q of [
      'kcity',
      'cmumbai',
      'scope',
      `u${author}`,
      `cx${Buffer.from('mumbai').toString('hex')}`,
    ])
      expect(await contents(database, q, author)).toEqual([])
  })
})

test('the migration indexes the messages stored before it', async () => {
  const all = loadMigrations()
  const before = all.filter((m) => m.tag < '0016')
  const { database } = await databases.migrated({}, before)
  // Rows as that schema had them (today's Drizzle schema has columns it lacks).
  const now = Date.now()
  const author = newId(now)
  await database.executeAll([
    `INSERT INTO cities (id, name, country, created_at) VALUES ('mumbai', 'Mumbai', 'India', ${now})`,
    `INSERT INTO users (id, username, email, full_name, created_at, updated_at) VALUES ('${author}', 'early', 'early@example.test', 'Early', ${now}, ${now})`,
    `INSERT INTO messages (seq, id, city_id, author_id, content, created_at) VALUES (1, '${newId(now)}', 'mumbai', '${author}', 'written before search existed', ${now})`,
  ])
  const applied = await migrate(database, all)
  expect(applied).toContain('0016_search_index')
  expect(applied).toContain('0018_search_scope')
  expect(await contents(database, 'existed', author)).toEqual(['written before search existed'])
})

test("the writer's scope text is the view's, byte for byte, for ids of every shape", async () => {
  const { database } = await databases.seeded()
  const now = Date.now()
  // A hyphenated slug, and ids no store makes (upper case, punctuation, non-ASCII): these take
  // the hex; the ids the stores make and plain slugs are held as they are.
  await database.executeAll([
    `INSERT INTO cities (id, name, country, created_at) VALUES ('navi-mumbai', 'Navi Mumbai', 'India', ${now})`,
    `INSERT INTO users (id, username, email, full_name, created_at, updated_at) VALUES ('Odd-Id_ü', 'odd', 'odd@example.test', 'Odd', ${now}, ${now})`,
  ])
  const plain = await addAuthor(database, 'plain')
  const chatId = newId(now)
  await insertChat(database.db, { id: chatId, name: null, createdBy: plain, createdAt: now }, [
    { userId: plain, role: 'owner' },
    { userId: 'Odd-Id_ü', role: 'member' },
  ])
  const rows: NewMessageRow[] = [
    { cityId: 'mumbai', authorId: plain },
    { cityId: 'navi-mumbai', authorId: plain },
    { cityId: 'navi-mumbai', authorId: 'Odd-Id_ü' },
    { chatId, authorId: 'Odd-Id_ü' },
    { chatId, authorId: plain },
  ].map((r, i) => ({ id: newId(), content: `harbour line ${i}`, createdAt: now, ...r }))
  for (const row of rows) await database.writer.insertMessage(row)
  const viewed = await database.db.all<{ id: string; scope: string }>(
    'SELECT m.id AS id, v.scope AS scope FROM messages_search_source v JOIN messages m ON m.seq = v.seq'
  )
  const byId = new Map(viewed.map((row) => [row.id, row.scope]))
  for (const row of rows) expect(byId.get(row.id)).toBe(scopeOf(row))
  expect(scopeOf(rows[0] as NewMessageRow)).toBe(`cmumbai u${plain}`)
  // Narrowed by those tokens, each search finds exactly its rows.
  const found = async (cityIds: string[], chatIds: string[], authorId?: string) => {
    const match = toMatchExpression('harbour')
    if (!match.ok) throw new Error(match.error.message)
    const { hits } = await searchMessages(database.db, {
      match: match.value,
      cityIds,
      chatIds,
      viewerId: plain,
      authorId,
      limit: 50,
    })
    return hits.map((hit) => hit.message.content).sort()
  }
  expect(await found(['navi-mumbai'], [])).toEqual(['harbour line 1', 'harbour line 2'])
  expect(await found(['navi-mumbai'], [], 'Odd-Id_ü')).toEqual(['harbour line 2'])
  expect(await found([], [chatId], 'Odd-Id_ü')).toEqual(['harbour line 3'])
  expect(await found(['mumbai'], [chatId], plain)).toEqual(['harbour line 0', 'harbour line 4'])
  // Every one leaves by the view's text: a 'delete' that missed would fail the check.
  await blankMessages(database.db, [rows[2]?.id ?? ''], Date.now())
  await deleteChat(database.db, chatId)
  expect(await found(['navi-mumbai', 'mumbai'], [])).toEqual(['harbour line 0', 'harbour line 1'])
  const integrity = await database.db.all(
    "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"
  )
  expect(integrity).toEqual([])
})

test('a database indexed before the lean layout (0028): its messages are found, edited, erased and purged', async () => {
  const all = loadMigrations()
  const { database } = await databases.migrated(
    {},
    all.filter((m) => m.tag < '0028')
  )
  await seedCities(database.db)
  const author = await addAuthor(database, 'early')
  const now = Date.now()
  // Rows stored and indexed as the writer did before 0028 (the hex scope, from that view).
  const ids = [newId(now), newId(now), newId(now)]
  const texts = ['the old harbour', 'an old ferry', 'old tides']
  await database.executeAll([
    ...ids.map(
      (id, i) =>
        `INSERT INTO messages (seq, id, city_id, author_id, content, created_at) VALUES (${i + 1}, '${id}', 'mumbai', '${author}', '${texts[i]}', ${now})`
    ),
    'INSERT INTO messages_fts (rowid, content, scope) SELECT seq, content, scope FROM messages_search_source',
  ])
  const [before] = await database.db.all<{ scope: string }>(
    'SELECT scope FROM messages_search_source WHERE seq = 1'
  )
  expect(before?.scope).toBe(
    `c${Buffer.from('mumbai').toString('hex').toUpperCase()} u${Buffer.from(author).toString('hex').toUpperCase()}`
  )
  const applied = await migrate(database, all)
  expect(applied).toEqual(['0028_search_index_lean'])
  expect(await contents(database, 'old', author)).toEqual([
    'old tides',
    'an old ferry',
    'the old harbour',
  ])
  // Narrowed by the new tokens (a sender, one city).
  const match = toMatchExpression('old')
  if (!match.ok) throw new Error(match.error.message)
  const bySender = await searchMessages(database.db, {
    match: match.value,
    cityIds: ['mumbai'],
    chatIds: [],
    viewerId: author,
    authorId: author,
    limit: 50,
  })
  expect(bySender.hits).toHaveLength(3)
  // An edit, an erasure's blanking and a retention purge each take out what was indexed.
  await updateMessageContent(database.db, ids[0] ?? '', 'the new harbour', Date.now())
  await blankMessages(database.db, [ids[1] ?? ''], Date.now())
  await purgeByIds(database.db, [ids[2] ?? ''])
  expect(await contents(database, 'old', author)).toEqual([])
  expect(await contents(database, 'harbour', author)).toEqual(['the new harbour'])
  expect(await contents(database, 'ferry', author)).toEqual([])
  const integrity = await database.db.all(
    "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"
  )
  expect(integrity).toEqual([])
})
