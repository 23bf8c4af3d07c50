/**
 * @module The links account mails carry: `PUBLIC_URL/#verify=<token>` and `#reset=<token>`
 * (chat/account-mail.ts). Read once at load and taken out of the address bar, so a reload, the
 * history or a shared screen does not keep the single-use token.
 */

export interface AccountLink {
  kind: 'verify' | 'reset'
  token: string
}

const LINK = /^#(verify|reset)=([A-Za-z0-9_-]{1,200})$/

/** Whether a URL fragment is a mailed account link. */
export const isAccountLink = (hash: string): boolean => LINK.test(hash)

/** The link this page was opened with, if any; the fragment is cleared either way it matched. */
export function takeAccountLink(): AccountLink | null {
  const match = LINK.exec(location.hash)
  if (!match) return null
  history.replaceState(null, '', `${location.pathname}${location.search}`)
  return { kind: match[1] as AccountLink['kind'], token: match[2] as string }
}
