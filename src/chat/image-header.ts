/**
 * @module Image headers and lossless metadata stripping, in plain TypeScript (no libvips): an
 * image's width and height from its header with bounded reads, so MEDIA_MAX_PIXELS is checked
 * before anything decodes it, with or without sharp; and, where sharp is unavailable, a copy of a
 * JPEG, PNG, GIF or WebP with its metadata segments dropped and every other byte kept.
 */

import { open } from 'node:fs/promises'
import { concatBytes } from './bytes.ts'

export interface ImageHeader {
  /** As shown: a JPEG whose EXIF orientation is 5-8 has its sides swapped. */
  width: number
  height: number
  /** The JPEG's EXIF orientation (1-8); 1 for everything else. */
  orientation: number
}

/** How much of a file one bounded read takes. */
const HEAD_BYTES = 64 * 1024
/** A JPEG's segments walked before its frame header at most (a hostile file ends the walk). */
const MAX_SEGMENTS = 512

async function readAt(path: string, at: number, length: number): Promise<Uint8Array> {
  const handle = await open(path, 'r')
  try {
    const buffer = new Uint8Array(length)
    const { bytesRead } = await handle.read(buffer, 0, length, at)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

const ascii = (bytes: Uint8Array, at: number, text: string): boolean => {
  if (bytes.length < at + text.length) return false
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false
  return true
}
const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
const sized = (width: number, height: number, orientation = 1): ImageHeader | null =>
  width > 0 && height > 0
    ? orientation >= 5
      ? { width: height, height: width, orientation }
      : { width, height, orientation }
    : null

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic); not DHT/JPG/DAC. */
const isFrameMarker = (m: number) =>
  m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc
/** Markers with no length after them: SOI, EOI, RSTn, TEM. */
const isStandalone = (m: number) => m === 0x01 || (m >= 0xd0 && m <= 0xd9)

/** The orientation in an APP1 Exif payload (from its "Exif\0\0"), or 1. */
function exifOrientation(app1: Uint8Array): number {
  if (!ascii(app1, 0, 'Exif\0\0') || app1.length < 14) return 1
  const tiff = view(app1.subarray(6))
  const little = ascii(app1, 6, 'II')
  if (!little && !ascii(app1, 6, 'MM')) return 1
  const ifd = tiff.getUint32(4, little)
  if (ifd + 2 > tiff.byteLength) return 1
  const count = tiff.getUint16(ifd, little)
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12
    if (entry + 12 > tiff.byteLength) return 1
    if (tiff.getUint16(entry, little) === 0x0112) {
      const value = tiff.getUint16(entry + 8, little)
      return value >= 1 && value <= 8 ? value : 1
    }
  }
  return 1
}

/** Walks a JPEG's segments, one small read each, to its frame header. */
async function jpegHeader(path: string): Promise<ImageHeader | null> {
  let at = 2
  let orientation = 1
  for (let n = 0; n < MAX_SEGMENTS; n++) {
    const head = await readAt(path, at, 10)
    if (head.length < 4 || head[0] !== 0xff) return null
    const marker = head[1] as number
    if (marker === 0xff) {
      at += 1 // fill byte
      continue
    }
    if (isStandalone(marker)) {
      at += 2
      continue
    }
    const length = view(head).getUint16(2)
    if (length < 2) return null
    if (isFrameMarker(marker)) {
      if (head.length < 9) return null
      return sized(view(head).getUint16(7), view(head).getUint16(5), orientation)
    }
    if (marker === 0xda) return null // scan data before any frame header
    if (marker === 0xe1 && orientation === 1)
      orientation = exifOrientation(await readAt(path, at + 4, Math.min(length - 2, HEAD_BYTES)))
    at += 2 + length
  }
  return null
}

/** The largest `ispe` (image spatial extent) in an AVIF/HEIC's first bytes: tiles, grid, thumbs. */
function ispeHeader(head: Uint8Array): ImageHeader | null {
  let best: ImageHeader | null = null
  for (let i = 4; i + 16 <= head.length; i++) {
    if (!ascii(head, i, 'ispe')) continue
    const found = sized(view(head).getUint32(i + 8), view(head).getUint32(i + 12))
    if (found && (!best || found.width * found.height > best.width * best.height)) best = found
  }
  return best
}

/**
 * Width and height from the header of an image of `type` (as sniffed), or null when it cannot be
 * read. Reads at most 64 KiB at a time, never the whole file, and decodes nothing.
 * @example await readImageHeader('/tmp/up.png', 'image/png') // { width: 640, height: 480, orientation: 1 }
 */
export async function readImageHeader(path: string, type: string): Promise<ImageHeader | null> {
  if (type === 'image/jpeg') return jpegHeader(path)
  const head = await readAt(path, 0, HEAD_BYTES)
  const data = view(head)
  if (type === 'image/png') {
    return head.length >= 24 && ascii(head, 12, 'IHDR')
      ? sized(data.getUint32(16), data.getUint32(20))
      : null
  }
  if (type === 'image/gif')
    return head.length >= 10 ? sized(data.getUint16(6, true), data.getUint16(8, true)) : null
  if (type === 'image/webp') {
    if (head.length < 30) return null
    if (ascii(head, 12, 'VP8X')) {
      const u24 = (at: number) => data.getUint16(at, true) + ((head[at + 2] as number) << 16)
      return sized(u24(24) + 1, u24(27) + 1)
    }
    if (ascii(head, 12, 'VP8L') && head[20] === 0x2f) {
      const bits = data.getUint32(21, true)
      return sized((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1)
    }
    if (ascii(head, 12, 'VP8 ') && head[23] === 0x9d && head[24] === 0x01 && head[25] === 0x2a)
      return sized(data.getUint16(26, true) & 0x3fff, data.getUint16(28, true) & 0x3fff)
    return null
  }
  if (type === 'image/avif' || type === 'image/heic') return ispeHeader(head)
  return null
}

/** The types `stripMetadata` rewrites. */
export const STRIPPABLE_IMAGES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp'])

/** An APP1 Exif segment holding the Orientation tag and nothing else (big-endian TIFF). */
function orientationOnlyExif(orientation: number): Uint8Array {
  const segment = new Uint8Array(36)
  const data = view(segment)
  data.setUint16(0, 0xffe1)
  data.setUint16(2, 34)
  segment.set(new TextEncoder().encode('Exif\0\0MM\0*'), 4)
  data.setUint32(14, 8) // IFD0 right after the TIFF header
  data.setUint16(18, 1) // one entry
  data.setUint16(20, 0x0112) // Orientation
  data.setUint16(22, 3) // SHORT
  data.setUint32(24, 1)
  data.setUint16(28, orientation)
  data.setUint32(32, 0) // no next IFD
  return segment
}

/** APPn kept: JFIF/JFXX (APP0), ICC profile (APP2, not MPF), Adobe colour transform (APP14). */
function keepJpegSegment(marker: number, payload: Uint8Array): boolean {
  if (marker === 0xe0 || marker === 0xee) return true
  if (marker === 0xe2) return ascii(payload, 0, 'ICC_PROFILE\0')
  return !(marker >= 0xe0 && marker <= 0xef) && marker !== 0xfe
}

/**
 * A JPEG without APPn metadata (EXIF, XMP, IPTC, MPF, maker segments), comments, or anything
 * after its end marker (phones append preview images there); the frame, tables and scans byte for
 * byte. An orientation other than 1 is kept as an EXIF segment holding only that tag.
 */
function stripJpeg(bytes: Uint8Array, orientation: number): Uint8Array | null {
  const parts: Uint8Array[] = [bytes.subarray(0, 2)]
  const data = view(bytes)
  let at = 2
  // The orientation block goes right after SOI, or after APP0 where JFIF wants that first.
  let exif = orientation !== 1 ? orientationOnlyExif(orientation) : null
  const placeExif = () => {
    if (exif) parts.push(exif)
    exif = null
  }
  while (at + 2 <= bytes.length) {
    if (bytes[at] !== 0xff) return null
    const marker = bytes[at + 1] as number
    if (marker === 0xff) {
      at += 1
      continue
    }
    if (marker === 0xd9) return concatBytes(...parts, bytes.subarray(at, at + 2))
    if (isStandalone(marker)) {
      parts.push(bytes.subarray(at, at + 2))
      at += 2
      continue
    }
    if (at + 4 > bytes.length) return null
    const end = at + 2 + data.getUint16(at + 2)
    if (end > bytes.length || end < at + 4) return null
    if (marker !== 0xe0) placeExif()
    if (keepJpegSegment(marker, bytes.subarray(at + 4, end))) parts.push(bytes.subarray(at, end))
    at = end
    if (marker === 0xda) {
      // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart.
      let scan = at
      while (scan + 1 < bytes.length) {
        const next = bytes[scan + 1] as number
        if (bytes[scan] === 0xff && next !== 0 && !(next >= 0xd0 && next <= 0xd7)) break
        scan += 1
      }
      if (scan + 1 >= bytes.length) return null
      parts.push(bytes.subarray(at, scan))
      at = scan
    }
  }
  return null
}

const PNG_DROPPED = new Set(['eXIf', 'tEXt', 'iTXt', 'zTXt', 'tIME'])

/** A PNG without its eXIf, text and time chunks, and nothing after IEND. */
function stripPng(bytes: Uint8Array): Uint8Array | null {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)]
  const data = view(bytes)
  let at = 8
  while (at + 12 <= bytes.length) {
    const end = at + 12 + data.getUint32(at)
    if (end > bytes.length) return null
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8))
    if (!PNG_DROPPED.has(type)) parts.push(bytes.subarray(at, end))
    if (type === 'IEND') return concatBytes(...parts)
    at = end
  }
  return null
}

/** A WebP without its EXIF and XMP chunks, their VP8X flags cleared, the RIFF size redone. */
function stripWebp(bytes: Uint8Array): Uint8Array | null {
  const riffEnd = Math.min(bytes.length, 8 + view(bytes).getUint32(4, true))
  const chunks: Uint8Array[] = []
  let at = 12
  while (at + 8 <= riffEnd) {
    const size = view(bytes).getUint32(at + 4, true)
    const end = at + 8 + size + (size % 2)
    if (at + 8 + size > riffEnd) return null
    const fourcc = String.fromCharCode(...bytes.subarray(at, at + 4))
    if (fourcc === 'VP8X') {
      const chunk = bytes.slice(at, Math.min(end, riffEnd))
      chunk[8] = (chunk[8] as number) & ~0x0c // the EXIF (0x08) and XMP (0x04) flags
      chunks.push(chunk)
    } else if (fourcc !== 'EXIF' && fourcc !== 'XMP ') {
      chunks.push(bytes.subarray(at, Math.min(end, riffEnd)))
    }
    at = end
  }
  if (chunks.length === 0) return null
  const header = bytes.slice(0, 12)
  view(header).setUint32(4, 4 + chunks.reduce((n, c) => n + c.length, 0), true)
  return concatBytes(header, ...chunks)
}

/** A GIF without comment extensions or XMP application extensions; frames byte for byte. */
function stripGif(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length < 13) return null
  const flags = bytes[10] as number
  let at = 13 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0)
  const parts: Uint8Array[] = [bytes.subarray(0, at)]
  /** The end of the sub-blocks starting at `from`. */
  const blocksEnd = (from: number): number => {
    let p = from
    while (p < bytes.length && bytes[p] !== 0) p += 1 + (bytes[p] as number)
    return p + 1
  }
  while (at < bytes.length) {
    const introducer = bytes[at]
    if (introducer === 0x3b) return concatBytes(...parts, bytes.subarray(at, at + 1))
    let end: number
    let keep = true
    if (introducer === 0x21) {
      const label = bytes[at + 1]
      end = blocksEnd(at + 2)
      keep = label !== 0xfe && !(label === 0xff && ascii(bytes, at + 3, 'XMP DataXMP'))
    } else if (introducer === 0x2c) {
      const local = bytes[at + 9] as number
      const table = local & 0x80 ? 3 << ((local & 7) + 1) : 0
      end = blocksEnd(at + 10 + table + 1)
    } else return null
    if (end > bytes.length) return null
    if (keep) parts.push(bytes.subarray(at, end))
    at = end
  }
  return null
}

/**
 * Writes `path` (an image of `type` in STRIPPABLE_IMAGES) to `out` without its metadata, losslessly,
 * and returns the size written; null when the file's structure is broken. The file (at most
 * MEDIA_MAX_BYTES) is read whole for this.
 * @example await stripMetadata('/tmp/up.jpg', 'image/jpeg', 6, '/tmp/clean.jpg')
 */
export async function stripMetadata(
  path: string,
  type: string,
  orientation: number,
  out: string
): Promise<number | null> {
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer())
  let clean: Uint8Array | null = null
  try {
    if (type === 'image/jpeg') clean = stripJpeg(bytes, orientation)
    else if (type === 'image/png') clean = stripPng(bytes)
    else if (type === 'image/webp') clean = stripWebp(bytes)
    else if (type === 'image/gif') clean = stripGif(bytes)
  } catch (error) {
    if (error instanceof RangeError) return null // a length pointing past the end
    throw error
  }
  if (!clean) return null
  await Bun.write(out, clean)
  return clean.length
}
