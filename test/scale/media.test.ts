/**
 * @module Media across nodes and restarts. Two nodes with Redis share one storage (a directory
 * both mount as MEDIA_DIR, each with its own DATA_DIR; or one S3 bucket on s3rver): an upload
 * and a send on one node reach a member on the other, who reads the file, a range of it and the
 * thumbnail from that other node; a delete made there removes the files. And the sweeper's state
 * (the media table) survives a SIGKILL: an orphan made before it, and a message delete whose
 * file cleanup failed half-way, are both finished by the next start.
 */
import { afterAll, afterEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { api, registerUser } from '../helpers/api.ts'
import { ask, chatUser, createPrivateChat, once } from '../helpers/chat-client.ts'
import { eventually } from '../helpers/eventually.ts'
import { cameraJpeg, pngOf, startS3, upload } from '../helpers/media.ts'
import { clusterEnv, type Node, SKIP_REASON, startNode, useTwoNodes } from './cluster.ts'

if (SKIP_REASON) console.warn(SKIP_REASON)

const get = (url: string, token: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } })
const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer())

/** Both nodes store in one place; `stored` looks there directly, not through a node. */
function sharedStorage(
  kind: string,
  env: () => Record<string, string>,
  perNode: [Record<string, string>, Record<string, string>],
  stored: (key: string) => Promise<boolean>,
  extra?: (nodes: Node[]) => void
) {
  describe.skipIf(!!SKIP_REASON)(`two nodes sharing ${kind} storage`, () => {
    // No periodic sweep: only the delete made on the second node can remove the files.
    const { nodes, track } = useTwoNodes(
      ['media-a', 'media-b'],
      { MEDIA_SWEEP_INTERVAL: '1h', ...env() },
      perNode
    )

    test('upload and send on A; a member on B reads it from B; a delete on B removes it', async () => {
      const [a, b] = nodes as [Node, Node]
      const alice = track(await chatUser(a.url))
      const bob = track(await chatUser(b.url))
      const carol = track(await chatUser(b.url))
      const chatId = await createPrivateChat(a.url, alice, [bob])
      expect((await ask(alice.socket, 'join-private-chat', { chatId })).ok).toBe(true)
      expect((await ask(bob.socket, 'join-private-chat', { chatId })).ok).toBe(true)

      const up = await upload(a.url, alice.accessToken, await cameraJpeg(800, 500), 'trip.jpg')
      expect(up.status).toBe(201)
      const media = up.body.media
      expect(media).toMatchObject({ content_type: 'image/jpeg', width: 500, height: 800 })
      const keys = [`originals/${media._id}`, `thumbnails/${media._id}.webp`]
      for (const key of keys) expect(await stored(key)).toBe(true)

      const heard = once<any>(bob.socket, 'new-private-message')
      const sent = await ask(alice.socket, 'send-private-message', {
        chatId,
        message_type: 'image',
        media_id: media._id,
        content: 'from A',
      })
      expect(sent.ok).toBe(true)
      const message = await heard
      expect(message.attachment).toEqual(media)

      // B serves the bytes A stored: the same file, a range of it, the thumbnail.
      const original = await bytesOf(await get(`${a.url}${media.url}`, alice.accessToken))
      expect(original.length).toBe(media.size)
      const full = await get(`${b.url}${message.media_url}`, bob.accessToken)
      expect(full.status).toBe(200)
      expect(await bytesOf(full)).toEqual(original)
      const part = await get(`${b.url}${media.url}`, bob.accessToken, { range: 'bytes=100-199' })
      expect(part.status).toBe(206)
      expect(await bytesOf(part)).toEqual(original.slice(100, 200))
      const thumb = await get(`${b.url}${message.attachment.thumbnail_url}`, bob.accessToken)
      expect(thumb.status).toBe(200)
      expect(thumb.headers.get('content-type')).toBe('image/webp')
      const meta = await sharp(await bytesOf(thumb)).metadata()
      expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThanOrEqual(320)
      // The access rule holds on B too.
      expect((await get(`${b.url}${media.url}`, carol.accessToken)).status).toBe(404)

      const deletedAtA = once<any>(alice.socket, 'private-message-deleted')
      const deleted = await api(b.url, 'DELETE', `/api/messages/${message._id}`, {
        token: alice.accessToken,
      })
      expect(deleted.status).toBe(200)
      expect(await deletedAtA).toMatchObject({ messageId: message._id, chatId })
      await eventually(
        async () => (await Promise.all(keys.map(stored))).every((present) => !present),
        8_000,
        'the files to go from the shared storage'
      )
      expect((await get(`${a.url}${media.url}`, alice.accessToken)).status).toBe(404)
      expect((await get(`${b.url}${media.thumbnail_url}`, bob.accessToken)).status).toBe(404)
    })

    extra?.(nodes)
  })
}

// Disk: each node its own DATA_DIR, one MEDIA_DIR for both (a shared mount in production).
const disks = mkdtempSync(join(tmpdir(), 'chat-media-nodes-'))
const sharedDir = join(disks, 'shared-media')
afterAll(() => rmSync(disks, { recursive: true, force: true }))
sharedStorage(
  'disk',
  () => ({ MEDIA_DIR: sharedDir }),
  [{ DATA_DIR: join(disks, 'a') }, { DATA_DIR: join(disks, 'b') }],
  async (key) => existsSync(join(sharedDir, key)),
  () => {
    test('nothing was stored under either node’s own DATA_DIR', () => {
      for (const node of ['a', 'b']) {
        expect(existsSync(join(disks, node, 'media', 'originals'))).toBe(false)
        expect(existsSync(join(disks, node, 'media', 'thumbnails'))).toBe(false)
      }
    })
  }
)

// S3: one bucket on a real S3-compatible server.
const s3 = SKIP_REASON ? undefined : await startS3()
afterAll(() => s3?.stop())
sharedStorage(
  's3',
  () => s3?.env ?? {},
  [{}, {}],
  async (key) => (s3 ? s3.client.exists(key) : false)
)

describe('the sweeper across a restart (SIGKILL)', () => {
  let cluster: ReturnType<typeof clusterEnv> | undefined
  let node: Node | undefined
  afterEach(async () => {
    await node?.kill()
    node = undefined
    cluster?.cleanup()
  })
  const start = async () => {
    node = await startNode((cluster as ReturnType<typeof clusterEnv>).env, 'media-restart')
    return node
  }
  /** The first `media swept` line's counts, once logged. */
  const swept = async (n: Node) =>
    JSON.parse(await n.waitForLog(/"msg":"media swept"/)) as { orphans: number; deleted: number }

  test('an orphan made before a restart is deleted after it', async () => {
    // The TTL passes long before this node's next sweep (an hour away): only a start sweeps it.
    cluster = clusterEnv(undefined, { MEDIA_ORPHAN_TTL: '1s', MEDIA_SWEEP_INTERVAL: '1h' })
    const first = await start()
    const alice = await registerUser(first.url)
    const up = await upload(first.url, alice.accessToken, 'never sent\n', 'draft.txt')
    expect(up.status).toBe(201)
    const file = join(cluster.dataDir, 'media', 'originals', up.body.media._id)
    await Bun.sleep(1_200)
    expect(existsSync(file)).toBe(true)
    await first.kill()
    expect(existsSync(file)).toBe(true)

    const second = await start()
    expect(await swept(second)).toMatchObject({ orphans: 1, deleted: 1 })
    expect(existsSync(file)).toBe(false)
    const read = await get(`${second.url}${up.body.media.url}`, alice.accessToken)
    expect(read.status).toBe(404)
  })

  test('a message delete whose file cleanup failed half-way finishes after a restart', async () => {
    cluster = clusterEnv(undefined, { MEDIA_SWEEP_INTERVAL: '1h' })
    const first = await start()
    const alice = await registerUser(first.url)
    const up = await upload(first.url, alice.accessToken, await pngOf(200, 100), 'a.png')
    const id = up.body.media._id as string
    const sent = await api(first.url, 'POST', '/api/cities/mumbai/messages', {
      token: alice.accessToken,
      body: { message_type: 'image', media_id: id },
    })
    expect(sent.status).toBe(201)
    const root = join(cluster.dataDir, 'media')
    const original = join(root, 'originals', id)
    const thumbnail = join(root, 'thumbnails', `${id}.webp`)
    // A directory in the original's place cannot be unlinked (even by root): the sweep that the
    // delete starts fails after the tombstone is stored and the row doomed.
    const bytes = readFileSync(original)
    rmSync(original)
    mkdirSync(original)
    writeFileSync(join(original, 'stuck'), '')

    const deleted = await api(first.url, 'DELETE', `/api/messages/${sent.body.message._id}`, {
      token: alice.accessToken,
    })
    expect(deleted.status).toBe(200)
    await first.waitForLog(/"msg":"media sweep failed"/)
    expect((await get(`${first.url}${up.body.media.url}`, alice.accessToken)).status).toBe(404)
    await first.kill()
    // The original as a crash would have left it: still there, its row still doomed.
    rmSync(original, { recursive: true })
    writeFileSync(original, bytes)

    const second = await start()
    expect(await swept(second)).toMatchObject({ orphans: 0, deleted: 1 })
    expect(existsSync(original)).toBe(false)
    expect(existsSync(thumbnail)).toBe(false)
  })
})
