/**
 * @module Media types: the content type of an upload from its first bytes (magic numbers), never
 * from its name or the client's Content-Type, and the allowlist check. Pure functions.
 */

/** How many leading bytes the sniffer needs. */
export const SNIFF_BYTES = 4096

const ascii = (bytes: Uint8Array, at: number, text: string): boolean => {
  if (bytes.length < at + text.length) return false
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false
  return true
}

const startsWith = (bytes: Uint8Array, magic: readonly number[]): boolean =>
  bytes.length >= magic.length && magic.every((byte, i) => bytes[i] === byte)

/** ISO base media (MP4, MOV, AVIF, HEIC, M4A): `ftyp` at 4, then the major brand. */
function isoBrand(bytes: Uint8Array): string | null {
  if (!ascii(bytes, 4, 'ftyp') || bytes.length < 12) return null
  return String.fromCharCode(...bytes.subarray(8, 12))
}

const MARKUP = /^\s*<(!doctype|html|head|body|script|iframe|svg|\?xml|[a-z!?/])/i

/** UTF-8 text with no NUL or other C0 controls but tab, newlines and form feed. */
function isPlainText(bytes: Uint8Array): boolean {
  let text: string
  try {
    // stream: a multi-byte character cut at the end of the sniffed head is not an error.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true })
  } catch {
    return false
  }
  return !/[\u0000-\u0008\u000B\u000E-\u001F\u007F]/.test(text)
}

/**
 * The type of an upload from its first bytes. Markup (HTML, SVG, XML) is named as such, so an
 * HTML page renamed `.png` is `text/html`, which the allowlist refuses.
 * @example sniffContentType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10])) // 'image/png'
 */
export function sniffContentType(head: Uint8Array): string {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png'
  if (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a')) return 'image/gif'
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return 'image/webp'
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WAVE')) return 'audio/wav'
  const brand = isoBrand(head)
  if (brand !== null) {
    if (brand === 'avif' || brand === 'avis') return 'image/avif'
    if (['heic', 'heix', 'mif1', 'msf1'].includes(brand)) return 'image/heic'
    if (brand === 'M4A ' || brand === 'M4B ') return 'audio/mp4'
    if (brand === 'qt  ') return 'video/quicktime'
    return 'video/mp4'
  }
  if (ascii(head, 0, '%PDF-')) return 'application/pdf'
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06]))
    return 'application/zip'
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) {
    return new TextDecoder().decode(head.subarray(0, 64)).includes('webm')
      ? 'video/webm'
      : 'video/x-matroska'
  }
  if (ascii(head, 0, 'OggS')) return 'audio/ogg'
  if (ascii(head, 0, 'fLaC')) return 'audio/flac'
  if (ascii(head, 0, 'ID3') || (head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0))
    return 'audio/mpeg'
  if (isPlainText(head)) {
    const start = new TextDecoder().decode(head.subarray(0, 512))
    if (MARKUP.test(start)) return /<svg/i.test(start) ? 'image/svg+xml' : 'text/html'
    return 'text/plain'
  }
  return 'application/octet-stream'
}

/**
 * Whether `type` is allowed by the allowlist (`image/png`, or a family `image/*`). Markup never is:
 * served from our origin it could run script.
 */
export function isAllowedType(type: string, allowed: readonly string[]): boolean {
  if (type === 'text/html' || type === 'image/svg+xml') return false
  const family = `${type.split('/')[0]}/*`
  return allowed.includes(type) || allowed.includes(family)
}

/** Types a browser may show inline (images, audio, video; not SVG); anything else downloads. */
export function isInlineType(type: string): boolean {
  return (
    (type.startsWith('image/') && type !== 'image/svg+xml') ||
    type.startsWith('audio/') ||
    type.startsWith('video/')
  )
}

/** Images sharp decodes, re-encodes without metadata and thumbnails. */
export const PROCESSED_IMAGES = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
])
