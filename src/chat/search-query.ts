/**
 * @module Search queries: the user's `q` read as words, "quoted phrases" and prefixes (`mum*`),
 * and written back as an FTS5 MATCH expression made only of double-quoted strings, so nothing the
 * user types (quotes, NEAR, AND/OR/NOT, `column:`, parentheses, `^`, `-`) reaches FTS5 as syntax.
 * Its snippet markup is parsed here too. docs/search.md describes both.
 */
import { fail, ok, type Result } from '../errors.ts'

/** Terms (words and phrases) one query may hold: each is one more doclist to intersect. */
const MAX_QUERY_TERMS = 16
/** A prefix expands to every indexed term it starts: one letter would be most of the index. */
const MIN_PREFIX_CHARS = 2

/**
 * What FTS5's unicode61 tokenizer keeps in a token, plus combining marks (it splits at those
 * itself, inside the quoted string, as it did when indexing): letters, digits, private use.
 */
const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu
const TOKEN_CHAR = /[\p{L}\p{N}\p{Co}]/u

interface Term {
  tokens: string[]
  prefix: boolean
}

/** Splits `q` into words, phrases (between double quotes; an unclosed one runs to the end). */
function readTerms(q: string): Term[] {
  const terms: Term[] = []
  let i = 0
  while (i < q.length) {
    const c = q[i] as string
    if (/\s/u.test(c)) {
      i++
      continue
    }
    let text: string
    if (c === '"') {
      const close = q.indexOf('"', i + 1)
      const end = close === -1 ? q.length : close
      text = q.slice(i + 1, end)
      i = end + 1
    } else {
      let end = i
      while (end < q.length && !/[\s"]/u.test(q[end] as string)) end++
      text = q.slice(i, end)
      i = end
    }
    let prefix = false
    if (text.endsWith('*') && c !== '"') prefix = true
    else if (c === '"' && q[i] === '*') {
      prefix = true
      while (q[i] === '*') i++
    }
    const tokens = (text.match(WORD) ?? []).filter((token) => TOKEN_CHAR.test(token))
    if (tokens.length > 0) terms.push({ tokens, prefix })
  }
  return terms
}

const quoted = (term: Term) => `"${term.tokens.join(' ')}"${term.prefix ? '*' : ''}`

/**
 * `q` as an FTS5 MATCH expression: every term must match (implicit AND), a phrase as written, a
 * trailing `*` as a prefix of its last word.
 * @example toMatchExpression('Café "near mumbai" mum*') // ok → '"Café" "near mumbai" "mum"*'
 */
export function toMatchExpression(q: string): Result<string> {
  const terms = readTerms(q)
  if (terms.length === 0) return fail('invalid_input', 'q has no letters or digits to search for')
  if (terms.length > MAX_QUERY_TERMS)
    return fail('invalid_input', `q may hold at most ${MAX_QUERY_TERMS} words and phrases`)
  for (const term of terms) {
    const last = term.tokens.at(-1) ?? ''
    if (term.prefix && [...last].length < MIN_PREFIX_CHARS)
      return fail('invalid_input', `a prefix (word*) needs at least ${MIN_PREFIX_CHARS} characters`)
  }
  return ok(terms.map(quoted).join(' '))
}

/** A snippet as plain text and the ranges of the matched terms in it (UTF-16 offsets, end excluded). */
export interface Snippet {
  text: string
  highlights: Array<[number, number]>
}

/** How much of a message stands in for a snippet that cannot be read (see readSnippet). */
const FALLBACK_CHARS = 200

/**
 * Turns FTS5's marked snippet into text plus ranges. Content that itself holds a marker code
 * point cannot be told apart from the marks: it gets its own first characters, no ranges.
 */
export function readSnippet(
  marked: string,
  content: string,
  marks: { start: string; end: string }
): Snippet {
  if (content.includes(marks.start) || content.includes(marks.end)) {
    const chars = [...content]
    const cut = chars.length > FALLBACK_CHARS
    return { text: cut ? `${chars.slice(0, FALLBACK_CHARS).join('')}…` : content, highlights: [] }
  }
  let text = ''
  const highlights: Array<[number, number]> = []
  let open = -1
  for (const char of marked) {
    if (char === marks.start) open = text.length
    else if (char === marks.end) {
      if (open >= 0 && text.length > open) highlights.push([open, text.length])
      open = -1
    } else text += char
  }
  return { text, highlights }
}
