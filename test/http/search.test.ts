/**
 * @module GET /api/search over REST: the scope (every readable city, the private chats one is a
 * member of now, or one named room), what is never found (chats one is not in, left or was
 * removed from, a city that banned one, others' shadowed messages, deleted ones), edits, order
 * and paging, the snippet, the sender filter, and every refusal. Also GET …/messages?around=.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, as, type RegisteredUser, registerUser } from '../helpers/api.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let server: TestServer
let url: string
let admin: RegisteredUser

beforeAll(async () => {
  server = await startServer({ ADMIN_USERNAMES: 'search_admin', MESSAGE_RATE_PER_MINUTE: '0' })
  url = server.url
  admin = await registerUser(url, { username: 'search_admin' })
})
afterAll(() => server.stop())

let wordCounter = 0
/** A word no other test's message holds, so each test owns its results. */
const uniqueWord = () => `zq${(++wordCounter).toString(36)}${Date.now().toString(36)}`

async function post(who: RegisteredUser, room: string, content: string) {
  const res = await api(url, 'POST', `/api/${room}/messages`, { ...as(who), body: { content } })
  expect(res.status).toBe(201)
  return res.body.message as { _id: string; content: string }
}

async function search(who: RegisteredUser, query: string) {
  return api(url, 'GET', `/api/search?${query}`, as(who))
}

/** The contents found for q (default scope unless `extra` names one). */
async function found(who: RegisteredUser, q: string, extra = ''): Promise<string[]> {
  const res = await search(who, `q=${encodeURIComponent(q)}${extra}`)
  expect(res.status).toBe(200)
  return res.body.results.map((r: { message: { content: string } }) => r.message.content)
}

async function newChat(owner: RegisteredUser, members: RegisteredUser[]): Promise<string> {
  const res = await api(url, 'POST', '/api/chats', {
    ...as(owner),
    body: { name: 'search', memberIds: members.map((m) => m.user._id) },
  })
  expect(res.status).toBe(201)
  return res.body.chat._id
}

describe('what a search finds', () => {
  test('every city and private chat of mine, diacritics folded, prefixes, phrases; the answer shape', async () => {
    const [alice, bob] = [await registerUser(url), await registerUser(url)]
    const word = uniqueWord()
    const chatId = await newChat(alice, [bob])
    const inMumbai = await post(bob, 'cities/mumbai', `Café ${word} near the station`)
    await post(bob, 'cities/delhi', `${word} in Delhi`)
    await post(bob, `chats/${chatId}`, `private ${word} plan`)
    const res = await search(alice, `q=${encodeURIComponent(`cafe ${word.slice(0, 5)}*`)}`)
    expect(res.status).toBe(200)
    expect(res.body.next).toBeNull()
    expect(res.body.results).toHaveLength(1)
    const [hit] = res.body.results
    expect(hit.message).toMatchObject({
      _id: inMumbai._id,
      cityId: 'mumbai',
      content: `Café ${word} near the station`,
      sender_id: { _id: bob.user._id, username: bob.user.username },
    })
    expect(typeof hit.rank).toBe('number')
    expect(hit.rank).toBeGreaterThan(0)
    const { text, highlights } = hit.snippet
    expect(text).toBe(`Café ${word} near the station`)
    expect(highlights.map(([start, end]: [number, number]) => text.slice(start, end))).toEqual([
      'Café',
      word,
    ])
    expect(await found(alice, word)).toEqual([
      `private ${word} plan`,
      `${word} in Delhi`,
      `Café ${word} near the station`,
    ])
    expect(await found(alice, `"${word} plan"`)).toEqual([`private ${word} plan`])
    expect(await found(alice, `"plan ${word}"`)).toEqual([])
    // One room by name.
    expect(await found(alice, word, '&cityId=delhi')).toEqual([`${word} in Delhi`])
    expect(await found(alice, word, `&chatId=${chatId}`)).toEqual([`private ${word} plan`])
  })

  test('the snippet is plain text with ranges: markup in a message stays text', async () => {
    const alice = await registerUser(url)
    const word = uniqueWord()
    const evil = `<img src=x onerror="alert(1)"> ${word} </script><b>bold</b>`
    await post(alice, 'cities/mumbai', evil)
    const res = await search(alice, `q=${word}`)
    const { text, highlights } = res.body.results[0].snippet
    expect(text).toBe(evil)
    expect(highlights).toEqual([[evil.indexOf(word), evil.indexOf(word) + word.length]])
    // The marker code points in a message cannot forge a highlight.
    const other = uniqueWord()
    const forged = `\uE000${word}\uE001 ${other}`
    await post(alice, 'cities/delhi', forged)
    const forgedHit = (await search(alice, `q=${other}`)).body.results[0].snippet
    expect(forgedHit).toEqual({ text: forged, highlights: [] })
  })

  test('edits re-index, deletes remove', async () => {
    const alice = await registerUser(url)
    const [before, after] = [uniqueWord(), uniqueWord()]
    const message = await post(alice, 'cities/mumbai', `plan ${before}`)
    const edit = await api(url, 'PATCH', `/api/messages/${message._id}`, {
      ...as(alice),
      body: { content: `plan ${after}` },
    })
    expect(edit.status).toBe(200)
    expect(await found(alice, before)).toEqual([])
    expect(await found(alice, after)).toEqual([`plan ${after}`])
    expect((await api(url, 'DELETE', `/api/messages/${message._id}`, as(alice))).status).toBe(200)
    expect(await found(alice, after)).toEqual([])
  })

  test('newest first, paged by next; from filters by sender; limit above the cap is clamped', async () => {
    const [alice, bob] = [await registerUser(url), await registerUser(url)]
    const word = uniqueWord()
    const sent: string[] = []
    for (let i = 0; i < 5; i++) {
      const who = i % 2 === 0 ? alice : bob
      sent.push((await post(who, 'cities/pune', `${word} number ${i}`))._id)
    }
    const at = (i: number) => sent[i] ?? ''
    const ids = (res: { body: { results: Array<{ message: { _id: string } }> } }) =>
      res.body.results.map((r) => r.message._id)
    const first = await search(alice, `q=${word}&limit=2`)
    expect(ids(first)).toEqual([at(4), at(3)])
    expect(first.body.next).toBe(at(3))
    const second = await search(alice, `q=${word}&limit=2&before=${first.body.next}`)
    expect(ids(second)).toEqual([at(2), at(1)])
    const third = await search(alice, `q=${word}&limit=2&before=${second.body.next}`)
    expect(ids(third)).toEqual([at(0)])
    expect(third.body.next).toBeNull()
    const fromBob = await search(alice, `q=${word}&from=${bob.user._id}`)
    expect(ids(fromBob)).toEqual([at(3), at(1)])
    const clamped = await search(alice, `q=${word}&limit=1000`)
    expect(clamped.status).toBe(200)
    expect(ids(clamped)).toHaveLength(5)
  })
})

describe('membership: never a message of a room one may not read now', () => {
  test("a chat I am not in, one I left, one I was removed from: never found; others' still are", async () => {
    const owner = await registerUser(url)
    const stayer = await registerUser(url)
    const leaver = await registerUser(url)
    const removed = await registerUser(url)
    const outsider = await registerUser(url)
    const word = uniqueWord()
    const chatId = await newChat(owner, [stayer, leaver, removed])
    await post(owner, `chats/${chatId}`, `secret ${word} before`)
    for (const member of [stayer, leaver, removed])
      expect(await found(member, word)).toEqual([`secret ${word} before`])
    expect(await found(outsider, word)).toEqual([])
    expect((await api(url, 'POST', `/api/chats/${chatId}/leave`, as(leaver))).status).toBe(204)
    const removal = await api(url, 'DELETE', `/api/chats/${chatId}/members/${removed.user._id}`, {
      ...as(owner),
    })
    expect(removal.status).toBeLessThan(300)
    await post(owner, `chats/${chatId}`, `secret ${word} after`)
    for (const gone of [leaver, removed, outsider]) {
      expect(await found(gone, word)).toEqual([])
      expect((await search(gone, `q=${word}&chatId=${chatId}`)).body.error.code).toBe('not_member')
    }
    expect(await found(stayer, word)).toEqual([`secret ${word} after`, `secret ${word} before`])
    // A cursor from a room one cannot read is refused like an unknown one (400, not the message).
    const page = await search(stayer, `q=${word}&limit=1`)
    const cursor = await search(leaver, `q=${word}&before=${page.body.next}`)
    expect(cursor.status).toBe(400)
    expect(cursor.body.error.code).toBe('invalid_input')
  })

  test("a city that banned me is out of my search; archived cities stay in; others' shadowed messages never show", async () => {
    const [alice, bob, shadow] = [
      await registerUser(url),
      await registerUser(url),
      await registerUser(url),
    ]
    const word = uniqueWord()
    const cityId = `srch-${Date.now().toString(36)}`
    const city = await api(url, 'POST', '/api/admin/cities', {
      ...as(admin),
      body: { id: cityId, name: 'Search Town', country: 'Testland' },
    })
    expect(city.status).toBe(201)
    const restrict = (who: RegisteredUser, kind: string) =>
      api(url, 'POST', `/api/cities/${cityId}/restrictions`, {
        ...as(admin),
        body: { userId: who.user._id, kind },
      })
    expect((await restrict(shadow, 'shadow')).status).toBe(201)
    await post(shadow, `cities/${cityId}`, `shadowed ${word}`)
    await post(alice, `cities/${cityId}`, `open ${word}`)
    expect(await found(bob, word)).toEqual([`open ${word}`])
    expect(await found(bob, `shadowed ${word}`)).toEqual([])
    expect(await found(shadow, word)).toEqual([`open ${word}`, `shadowed ${word}`])
    expect((await restrict(bob, 'ban')).status).toBe(201)
    expect(await found(bob, word)).toEqual([])
    expect((await search(bob, `q=${word}&cityId=${cityId}`)).body.error.code).toBe('banned')
    const archive = await api(url, 'PATCH', `/api/admin/cities/${cityId}`, {
      ...as(admin),
      body: { archived: true },
    })
    expect(archive.status).toBe(200)
    expect(await found(alice, word, `&cityId=${cityId}`)).toEqual([`open ${word}`])
  })
})

describe('refusals', () => {
  test('bad q, limit, rooms and cursors: 400/401/403/404 with codes, never 500', async () => {
    const [alice, bob] = [await registerUser(url), await registerUser(url)]
    const chatId = await newChat(alice, [bob])
    const stranger = await registerUser(url)
    const code = async (query: string, who = alice) => {
      const res = await search(who, query)
      return `${res.status} ${res.body?.error?.code ?? ''}`.trim()
    }
    expect(await code('')).toBe('400 invalid_input')
    expect(await code('q=')).toBe('400 invalid_input')
    expect(await code('q=%20%20')).toBe('400 invalid_input')
    expect(await code('q=!!!%20...')).toBe('400 invalid_input')
    expect(await code(`q=${'a'.repeat(201)}`)).toBe('400 invalid_input')
    expect(await code(`q=${Array.from({ length: 17 }, (_, i) => `w${i}`).join('+')}`)).toBe(
      '400 invalid_input'
    )
    expect(await code('q=a*')).toBe('400 invalid_input')
    for (const limit of ['0', '-1', 'abc', '1.5'])
      expect(await code(`q=hello&limit=${limit}`)).toBe('400 invalid_input')
    expect(await code(`q=hello&cityId=mumbai&chatId=${chatId}`)).toBe('400 invalid_input')
    expect(await code('q=hello&cityId=Not%20A%20Slug')).toBe('400 invalid_input')
    expect(await code('q=hello&cityId=atlantis')).toBe('404 not_found')
    expect(await code('q=hello&chatId=0123456789abcdef01234567')).toBe('404 not_found')
    expect(await code(`q=hello&chatId=${chatId}`, stranger)).toBe('403 not_member')
    expect(await code('q=hello&from=nobody')).toBe('400 invalid_input')
    expect(await code('q=hello&before=nope')).toBe('400 invalid_input')
    expect(await code('q=hello&before=0123456789abcdef01234567')).toBe('400 invalid_input')
    const unauthenticated = await api(url, 'GET', '/api/search?q=hello')
    expect(unauthenticated.status).toBe(401)
    // FTS5 syntax in q is only ever text.
    for (const q of ['"', 'NEAR(a b)', 'content:x', 'a OR', 'AND', '(((', '^x', '-x', '"x"*', '*'])
      expect(['200', '400 invalid_input']).toContain(await code(`q=${encodeURIComponent(q)}`))
  })
})

describe('history around a message', () => {
  test('GET …/messages?around= centres the page on the message, oldest first', async () => {
    const [alice, bob] = [await registerUser(url), await registerUser(url)]
    const chatId = await newChat(alice, [bob])
    const ids: string[] = []
    for (let i = 0; i < 9; i++) ids.push((await post(alice, `chats/${chatId}`, `m${i}`))._id)
    const page = await api(url, 'GET', `/api/chats/${chatId}/messages?around=${ids[4]}&limit=4`, {
      ...as(bob),
    })
    expect(page.status).toBe(200)
    expect(page.body.messages.map((m: { content: string }) => m.content)).toEqual([
      'm3',
      'm4',
      'm5',
      'm6',
    ])
    expect(page.body).toMatchObject({ hasMore: true, hasNewer: true })
    const edge = await api(url, 'GET', `/api/chats/${chatId}/messages?around=${ids[8]}&limit=4`, {
      ...as(bob),
    })
    expect(edge.body.messages.map((m: { content: string }) => m.content)).toEqual(['m7', 'm8'])
    expect(edge.body).toMatchObject({ hasMore: true, hasNewer: false })
    const bad = [
      `around=${ids[4]}&before=${ids[2]}`,
      'around=0123456789abcdef01234567',
      'around=xyz',
    ]
    for (const query of bad) {
      const res = await api(url, 'GET', `/api/chats/${chatId}/messages?${query}`, as(bob))
      expect(res.status).toBe(400)
    }
    const stranger = await registerUser(url)
    const refused = await api(url, 'GET', `/api/chats/${chatId}/messages?around=${ids[4]}`, {
      ...as(stranger),
    })
    expect(refused.status).toBe(403)
  })
})
