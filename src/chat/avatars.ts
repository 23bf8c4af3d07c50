/**
 * @module Default avatars: a user without a photo gets an SVG of their initials on a colour
 * derived from their id (stable across nodes and restarts, no file stored). Pure.
 */

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/** Up to two initials from a full name (letters or digits of any script), upper-cased. */
function initialsOf(fullName: string): string {
  const words = fullName.trim().split(/\s+/).filter(Boolean)
  const first = (word: string | undefined) => (word ? ([...word][0] ?? '') : '')
  const initials = words.length > 1 ? first(words[0]) + first(words.at(-1)) : first(words[0])
  return initials.toUpperCase() || '?'
}

/** A hue from the id: FNV-1a over its characters. */
function hueOf(id: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % 360
}

/**
 * @example defaultAvatarSvg('018f3a2b4c5d7e9a0b1c2d3e', 'Alice Wong') // '<svg … >AW</text></svg>'
 */
export function defaultAvatarSvg(id: string, fullName: string): string {
  const hue = hueOf(id)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128"><rect width="128" height="128" fill="hsl(${hue},55%,45%)"/><text x="64" y="64" dy=".35em" text-anchor="middle" font-family="system-ui,sans-serif" font-size="52" font-weight="600" fill="#fff">${escapeXml(initialsOf(fullName))}</text></svg>`
}
