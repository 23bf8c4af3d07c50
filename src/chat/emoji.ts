/**
 * @module Emoji: what a reaction may be — one emoji grapheme (an RGI emoji, as Unicode lists them)
 * or a short name from `EMOJI_NAMES`, which stands for its emoji. Both spellings are one reaction.
 */

/**
 * The short names a client may send instead of the emoji (docs/events.md lists them). The values
 * are the emoji reactions are stored and broadcast as.
 */
export const EMOJI_NAMES: Readonly<Record<string, string>> = {
  thumbsup: '👍',
  thumbsdown: '👎',
  heart: '❤️',
  joy: '😂',
  laughing: '😆',
  smile: '😄',
  tada: '🎉',
  fire: '🔥',
  eyes: '👀',
  rocket: '🚀',
  pray: '🙏',
  clap: '👏',
  thinking: '🤔',
  ok_hand: '👌',
  '100': '💯',
  wave: '👋',
  sob: '😭',
  rage: '😡',
  white_check_mark: '✅',
  x: '❌',
}

const RGI = /^\p{RGI_Emoji}$/v
const PICTOGRAPHIC = /^\p{Extended_Pictographic}$/u
const segmenter = new Intl.Segmenter()

/** One grapheme only: `👍👍` or `a👍` is two. */
function isOneGrapheme(value: string): boolean {
  const segments = segmenter.segment(value)[Symbol.iterator]()
  const first = segments.next()
  return !first.done && first.value.segment === value
}

/**
 * The emoji a reaction stands for, or null when `value` is neither one emoji nor a known short
 * name. A lone pictograph that needs the emoji presentation selector gets it (`❤` → `❤️`), so the
 * two spellings count as one reaction.
 * @example emojiOf('thumbsup') // '👍'; emojiOf('👍🏽') // '👍🏽'; emojiOf('a') // null
 */
export function emojiOf(value: string): string | null {
  const named = Object.hasOwn(EMOJI_NAMES, value) ? EMOJI_NAMES[value] : undefined
  if (named) return named
  const text = value.normalize('NFC')
  if (text.length === 0 || text.length > 32 || !isOneGrapheme(text)) return null
  if (RGI.test(text)) return text
  const presented = `${text}\uFE0F`
  return PICTOGRAPHIC.test(text) && RGI.test(presented) ? presented : null
}
