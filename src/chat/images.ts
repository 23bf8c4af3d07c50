/**
 * @module Images: sharp (libvips) behind four calls: read an image's header, re-encode it without
 * metadata with its orientation applied, make its thumbnail, make a square avatar. sharp is a
 * native module loaded at start-up; where it cannot load (a compiled binary without its files),
 * `loadImaging` says so once, and chat/image-header.ts strips metadata without decoding (no
 * thumbnails then). Pixel limits are checked from the header by image-header.ts first, always.
 */
import { availableParallelism } from 'node:os'
import type { Logger } from '../log.ts'

type Sharp = typeof import('sharp').default

/** Longest side of a message thumbnail; the avatar sizes. */
const THUMBNAIL_PX = 320
export const AVATAR_PX = 256
export const AVATAR_SMALL_PX = 64

/**
 * Images decoded at once, each on one libvips thread: one core fewer than the machine has, so
 * however many photos arrive together, a core is left to the event loop and messages keep
 * flowing (on 2 cores, one image at a time; the rest wait their turn, off the loop).
 */
const IMAGE_SLOTS = Math.max(1, availableParallelism() - 1)

/** At most `limit` tasks run at once; the others wait, first come first served. */
function createGate(limit: number) {
  let running = 0
  const waiting: Array<() => void> = []
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (running < limit) running += 1
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await task()
    } finally {
      // The slot passes straight to the next waiter, or is freed.
      const next = waiting.shift()
      if (next) next()
      else running -= 1
    }
  }
}

export interface Imaging {
  /**
   * Rewrites `path` into `out` in the same format: orientation applied, EXIF/GPS/XMP dropped
   * (sharp keeps no metadata unless asked). Returns the stored dimensions and size.
   */
  clean(
    path: string,
    type: string,
    out: string
  ): Promise<{ width: number; height: number; size: number }>
  /** A WebP at most THUMBNAIL_PX on its longest side. */
  thumbnail(path: string, out: string): Promise<number>
  /** A square WebP of `px` (centre crop). */
  square(path: string, px: number, out: string): Promise<number>
}

/**
 * Loads sharp, or returns null and logs why. `maxPixels` also bounds what libvips will decode
 * (defence in depth behind the header check).
 * @example const imaging = await loadImaging(log, 40_000_000)
 */
export async function loadImaging(log: Logger, maxPixels: number): Promise<Imaging | null> {
  let sharp: Sharp
  try {
    sharp = (await import('sharp')).default
    // A module that imports but whose native part is missing fails on first use: try it now.
    await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
      .png()
      .toBuffer()
  } catch (error) {
    log.warn(
      'image processing unavailable (sharp did not load): JPEG, PNG, GIF and WebP are stored with their metadata (EXIF, GPS, XMP) stripped losslessly and no thumbnail; AVIF is refused; MEDIA_MAX_PIXELS is checked from the header',
      {
        error: error instanceof Error ? error.message : String(error),
      }
    )
    return null
  }
  sharp.concurrency(1)
  const gate = createGate(IMAGE_SLOTS)
  const open = (path: string, animated = false) =>
    sharp(path, { limitInputPixels: maxPixels, animated, failOn: 'error' })
  return {
    clean(path, type, out) {
      const animated = type === 'image/gif' || type === 'image/webp'
      let pipeline = open(path, animated).rotate()
      if (type === 'image/jpeg') pipeline = pipeline.jpeg({ quality: 90, mozjpeg: false })
      else if (type === 'image/png') pipeline = pipeline.png()
      else if (type === 'image/gif') pipeline = pipeline.gif()
      else if (type === 'image/webp') pipeline = pipeline.webp({ quality: 90 })
      else pipeline = pipeline.avif()
      return gate(async () => {
        const info = await pipeline.toFile(out)
        return { width: info.width, height: info.pageHeight ?? info.height, size: info.size }
      })
    },
    thumbnail(path, out) {
      const pipeline = open(path)
        .rotate()
        .resize(THUMBNAIL_PX, THUMBNAIL_PX, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 80 })
      return gate(async () => (await pipeline.toFile(out)).size)
    },
    square(path, px, out) {
      const pipeline = open(path)
        .rotate()
        .resize(px, px, { fit: 'cover', position: 'attention' })
        .webp({ quality: 85 })
      return gate(async () => (await pipeline.toFile(out)).size)
    },
  }
}
