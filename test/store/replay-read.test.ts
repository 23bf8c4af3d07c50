/**
 * @module The replay read over every store kind (bun:sqlite and libSQL files, a libSQL server):
 * `listRoomMessagesAfter` reads its rows as arrays through a prepared query and builds them
 * itself, so it must give exactly the records Drizzle's own row mapping gives (every column
 * decoded: booleans, JSON attachments, nulls, the author, a reply whose parent is gone), in seq
 * order, after the offset, within the limit, without others' shadowed messages, room by room.
 */
import { describe, expect, test } from 'bun:test'
import { and, asc, gt } from 'drizzle-orm'
import { insertChat } from '../../src/store/chats.ts'
import { newId } from '../../src/store/ids.ts'
import {
  flatten,
  markMessageDeleted,
  type NewMessageRow,
  type RoomRef,
  roomCondition,
  selectWithAuthor,
  updateMessageContent,
  visibleTo,
} from '../../src/store/messages.ts'
import { listRoomMessagesAfter } from '../../src/store/room-stream.ts'
import { type Attachment, messages } from '../../src/store/schema.ts'
import { insertUser } from '../../src/store/users.ts'
import { STORE_KINDS, type StoreKind, tempDatabases } from '../helpers/store.ts'

const databases = tempDatabases()

const attachment: Attachment = {
  id: 'media-1',
  contentType: 'image/jpeg',
  size: 1234,
  name: 'photo.jpg',
  width: 640,
  height: 480,
  thumbnail: true,
}

async function filled(kind: StoreKind) {
  const { database, author } = await databases.seeded({ kind })
  const now = Date.now()
  const other = await insertUser(database.db, {
    id: newId(now),
    username: 'other',
    email: 'other@example.com',
    fullName: 'Other Person',
    profilePhotoUrl: '/api/media/avatars/custom',
    createdAt: now,
    updatedAt: now,
  })
  const chatId = newId(now)
  await insertChat(database.db, { id: chatId, name: null, createdBy: author.id, createdAt: now }, [
    { userId: author.id, role: 'admin' },
    { userId: other.id, role: 'member' },
  ])
  const ids: string[] = []
  const store = async (fields: Partial<NewMessageRow>) => {
    const id = newId()
    const result = await database.writer.insertMessage({
      id,
      cityId: 'mumbai',
      authorId: author.id,
      content: `message ${ids.length}`,
      messageType: 'text',
      createdAt: now + ids.length,
      ...fields,
    })
    if (!result.stored) throw new Error('not stored')
    ids.push(id)
    return id
  }
  const parent = await store({})
  const doomed = await store({ authorId: other.id })
  await store({ replyTo: parent, mentions: JSON.stringify([other.id]), clientId: 'c-1' })
  await store({ replyTo: doomed })
  await store({ messageType: 'image', mediaUrl: '/api/media/media-1', attachment })
  await store({ chatId, cityId: null, content: 'in the chat' })
  await store({ authorId: other.id, shadowed: true, content: 'shadowed, by other' })
  await store({ shadowed: true, content: 'shadowed, by the viewer' })
  const edited = await store({ authorId: other.id })
  await updateMessageContent(database.db, edited, 'edited text', now + 100)
  await markMessageDeleted(database.db, doomed, now + 200)
  for (let i = 0; i < 20; i++) await store({ authorId: i % 2 ? other.id : author.id })
  await store({ chatId, cityId: null, authorId: other.id, content: 'later in the chat' })
  return { database, author, other, chatId, ids }
}

/** The same read through Drizzle's own row mapping (what history and the notifier use). */
async function reference(
  database: Awaited<ReturnType<typeof filled>>['database'],
  room: RoomRef,
  after: number,
  limit: number,
  viewerId: string
) {
  const rows = await selectWithAuthor(database.db)
    .where(and(roomCondition(room), gt(messages.seq, after), visibleTo(viewerId)))
    .orderBy(asc(messages.seq))
    .limit(limit)
  return rows.map(flatten)
}

describe.each(STORE_KINDS)('the replay read over %s', (kind) => {
  test('gives the records Drizzle maps, every column decoded, in seq order', async () => {
    const { database, author, other } = await filled(kind)
    const city: RoomRef = { kind: 'city', id: 'mumbai' }
    const read = await listRoomMessagesAfter(database.db, city, 0, 1_000, author.id)
    expect(read).toEqual(await reference(database, city, 0, 1_000, author.id))
    // Exactly, key order included: the replay's JSON is built from these records.
    expect(JSON.stringify(read)).toBe(
      JSON.stringify(await reference(database, city, 0, 1_000, author.id))
    )
    expect(read.map((m) => m.seq)).toEqual([...read.map((m) => m.seq)].sort((a, b) => a - b))
    const image = read.find((m) => m.messageType === 'image')
    expect(image?.attachment).toEqual(attachment)
    const reply = read.find((m) => m.mentions !== null)
    expect(reply?.mentions).toBe(JSON.stringify([other.id]))
    expect(reply?.clientId).toBe('c-1')
    expect(reply?.replyToDeleted).toBeUndefined()
    expect(read.filter((m) => m.replyToDeleted === true)).toHaveLength(1)
    const deleted = read.find((m) => m.isDeleted)
    expect(deleted?.deletedAt).toBeNumber()
    expect(deleted?.isEdited).toBe(false)
    const edited = read.find((m) => m.content === 'edited text')
    expect(edited?.isEdited).toBe(true)
    expect(edited?.author).toEqual({
      id: other.id,
      username: 'other',
      fullName: 'Other Person',
      profilePhotoUrl: '/api/media/avatars/custom',
    })
    expect(read[0]?.author.profilePhotoUrl).toBeNull()
    expect(typeof read[0]?.shadowed).toBe('boolean')
    // The viewer's own shadowed message is there, the other user's is not.
    expect(read.map((m) => m.content)).toContain('shadowed, by the viewer')
    expect(read.map((m) => m.content)).not.toContain('shadowed, by other')
    expect(read.every((m) => m.cityId === 'mumbai' && m.chatId === null)).toBe(true)
  })

  test('after the offset, within the limit, room by room, as each viewer may see', async () => {
    const { database, author, other, chatId, ids } = await filled(kind)
    const city: RoomRef = { kind: 'city', id: 'mumbai' }
    const chat: RoomRef = { kind: 'chat', id: chatId }
    const all = await listRoomMessagesAfter(database.db, city, 0, 1_000, other.id)
    expect(all.map((m) => m.content)).toContain('shadowed, by other')
    expect(all.map((m) => m.content)).not.toContain('shadowed, by the viewer')
    const middle = (all[5] as { seq: number }).seq
    const after = await listRoomMessagesAfter(database.db, city, middle, 4, other.id)
    expect(after).toEqual(await reference(database, city, middle, 4, other.id))
    expect(after.map((m) => m.seq)).toEqual(all.slice(6, 10).map((m) => m.seq))
    const chatRead = await listRoomMessagesAfter(database.db, chat, 0, 1_000, author.id)
    expect(chatRead.map((m) => m.content)).toEqual(['in the chat', 'later in the chat'])
    expect(chatRead).toEqual(await reference(database, chat, 0, 1_000, author.id))
    const newest = (chatRead[1] as { seq: number }).seq
    expect(await listRoomMessagesAfter(database.db, chat, newest, 10, author.id)).toEqual([])
    expect(
      await listRoomMessagesAfter(database.db, { kind: 'city', id: 'delhi' }, 0, 10, author.id)
    ).toEqual([])
    // Every stored message is in exactly one of the two rooms' reads (for its author).
    const seen = new Set(
      [
        ...(await listRoomMessagesAfter(database.db, city, 0, 1_000, author.id)),
        ...all,
        ...chatRead,
      ].map((m) => m.id)
    )
    expect(ids.filter((id) => !seen.has(id))).toEqual([])
  })
})
