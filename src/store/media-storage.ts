/**
 * @module Media storage: where uploaded bytes live, behind one interface with two
 * implementations, a directory on disk and an S3-compatible bucket (Bun's built-in S3 client).
 * Keys are relative paths (`originals/<id>`, `thumbnails/<id>.webp`): thumbnails never sit
 * beside originals, so either set can be listed, sized or purged on its own.
 */
import { mkdir, rename, rm, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { S3Client } from 'bun'

export type StorageKind = 'disk' | 's3'

export interface MediaStorage {
  readonly kind: StorageKind
  /** Moves a finished temp file into the storage under `key` (the temp file is gone after). */
  put(key: string, tempPath: string, contentType: string): Promise<void>
  /** The bytes `start` to `end` (exclusive) of `key` as a stream, or the whole object. */
  read(key: string, range?: { start: number; end: number }): ReadableStream<Uint8Array>
  /** Deleting a missing key is not an error: two nodes may sweep the same row. */
  delete(key: string): Promise<void>
  /** Where uploads are spooled while they stream in (a local directory on every storage). */
  readonly tempDir: string
}

interface DiskStorageOptions {
  root: string
}

interface S3StorageOptions {
  bucket: string
  endpoint?: string | undefined
  region: string
  accessKeyId?: string | undefined
  secretAccessKey?: string | undefined
  /** Local spool directory for uploads in progress. */
  tempDir: string
}

/** The storage the configuration names (its media slice). */
export function openMediaStorage(config: {
  MEDIA_STORAGE: StorageKind
  DATA_DIR: string
  MEDIA_DIR?: string | undefined
  MEDIA_S3_BUCKET?: string | undefined
  MEDIA_S3_ENDPOINT?: string | undefined
  MEDIA_S3_REGION: string
  MEDIA_S3_ACCESS_KEY_ID?: string | undefined
  MEDIA_S3_SECRET_ACCESS_KEY?: string | undefined
}): Promise<MediaStorage> {
  const root = config.MEDIA_DIR ?? join(config.DATA_DIR, 'media')
  if (config.MEDIA_STORAGE === 'disk') return createDiskStorage({ root })
  return createS3Storage({
    bucket: config.MEDIA_S3_BUCKET ?? '',
    endpoint: config.MEDIA_S3_ENDPOINT,
    region: config.MEDIA_S3_REGION,
    accessKeyId: config.MEDIA_S3_ACCESS_KEY_ID,
    secretAccessKey: config.MEDIA_S3_SECRET_ACCESS_KEY,
    tempDir: join(config.DATA_DIR, 'media', 'tmp'),
  })
}

/** Keys are made by chat/media.ts from ids and fixed prefixes; this refuses anything else. */
const SAFE_KEY = /^[a-z]+\/[0-9a-f]{24}(-[0-9a-z]+)?(\.[a-z0-9]+)?$/

function checkKey(key: string): string {
  if (!SAFE_KEY.test(key)) throw new Error(`bad media key ${JSON.stringify(key)}`)
  return key
}

/**
 * Files under `root` (`MEDIA_DIR`, by default `DATA_DIR/media`): `root/tmp` spools uploads on the same file system, so
 * storing one is a rename.
 * @example const storage = await createDiskStorage({ root: './data/media' })
 */
async function createDiskStorage({ root }: DiskStorageOptions): Promise<MediaStorage> {
  const tempDir = join(root, 'tmp')
  await mkdir(tempDir, { recursive: true })
  const pathOf = (key: string) => join(root, checkKey(key))
  return {
    kind: 'disk',
    tempDir,
    async put(key, tempPath) {
      const path = pathOf(key)
      await mkdir(dirname(path), { recursive: true })
      await rename(tempPath, path)
    },
    read(key, range) {
      const file = Bun.file(pathOf(key))
      return (range ? file.slice(range.start, range.end) : file).stream()
    },
    async delete(key) {
      await unlink(pathOf(key)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error
      })
    },
  }
}

/**
 * An S3-compatible bucket. Reads stream through this server (not a presigned redirect), so the
 * access rules and headers of http/routes/media.ts apply to every byte.
 * @example const storage = await createS3Storage({ bucket: 'media', region: 'us-east-1', tempDir })
 */
async function createS3Storage(options: S3StorageOptions): Promise<MediaStorage> {
  await mkdir(options.tempDir, { recursive: true })
  const client = new S3Client({
    bucket: options.bucket,
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.accessKeyId ? { accessKeyId: options.accessKeyId } : {}),
    ...(options.secretAccessKey ? { secretAccessKey: options.secretAccessKey } : {}),
  })
  return {
    kind: 's3',
    tempDir: options.tempDir,
    async put(key, tempPath, contentType) {
      try {
        await client.write(checkKey(key), Bun.file(tempPath), { type: contentType })
      } finally {
        await rm(tempPath, { force: true })
      }
    },
    read(key, range) {
      const file = client.file(checkKey(key))
      return (range ? file.slice(range.start, range.end) : file).stream()
    },
    async delete(key) {
      // S3 answers 204 for a missing key too.
      await client.delete(checkKey(key))
    },
  }
}
