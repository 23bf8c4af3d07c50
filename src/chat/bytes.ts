/** @module Bytes: the one concatenation of byte arrays (image headers, Web Push records). */

/** The parts one after another, in a new array of its own (a fresh ArrayBuffer, as WebCrypto takes). */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
