/**
 * @module One copy of strings that many connections repeat (a handshake URL, a proxy's address):
 * equal strings from different requests are different objects until made the same one here.
 */

/**
 * Returns a function giving the table's copy of a string, storing it on first sight. The table
 * holds at most `limit` strings and starts over when full, so unique values cost nothing lasting.
 * @example const intern = createInterner(1_024); request.address = intern(ip)
 */
export function createInterner(limit: number): (value: string) => string {
  const table = new Map<string, string>()
  return (value) => {
    const known = table.get(value)
    if (known !== undefined) return known
    if (table.size >= limit) table.clear()
    table.set(value, value)
    return value
  }
}
