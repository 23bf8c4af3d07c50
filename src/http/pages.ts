/**
 * @module The web client's own pages (`/` and `/docs`) with a strict Content-Security-Policy and
 * the other security headers. Bun's HTML bundles are served by its static routes, which take no
 * headers; so each bundle is routed at an unguessable path, its HTML read once from there over
 * loopback, and `/` and `/docs` answer that HTML with the headers. The scripts and styles it
 * links (Bun's hashed chunks) stay on the static routes.
 */
import type { HTMLBundle, Server } from 'bun'

/**
 * Scripts and styles from this origin only, no inline script or style, no eval; the socket and
 * the API on this origin only (`'self'` covers ws:/wss: to it in CSP 3); never framed.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  'cache-control': 'no-cache',
  'content-type': 'text/html;charset=utf-8',
}

/** The path of an absolute URL without parsing it (this runs for every request). */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  const hash = url.indexOf('#', start)
  const end = Math.min(query === -1 ? url.length : query, hash === -1 ? url.length : hash)
  return url.slice(start, end)
}

/** @example const pages = createPages({ '/': webIndex, '/docs': webDocs }) */
export function createPages(bundles: Record<string, HTMLBundle>) {
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')
  const hidden = (path: string) => `/_page/${secret}${path === '/' ? '/index' : path}`
  let server: Server<unknown> | undefined
  const loaded = new Map<string, Promise<string>>()

  const load = (path: string): Promise<string> => {
    let html = loaded.get(path)
    if (!html) {
      if (!server) throw new Error('pages: no server attached yet')
      html = fetch(new URL(hidden(path), server.url)).then(async (res) => {
        if (!res.ok) throw new Error(`pages: ${path} answered ${res.status}`)
        return res.text()
      })
      // A failed read is tried again by the next request.
      html.catch(() => loaded.delete(path))
      loaded.set(path, html)
    }
    return html
  }

  return {
    /** For Bun.serve `routes`: each bundle at its hidden path. */
    routes: Object.fromEntries(
      Object.entries(bundles).map(([path, bundle]) => [hidden(path), bundle])
    ),
    attach(bunServer: Server<unknown>): void {
      server = bunServer
    },
    /** The page for a GET of `/` or `/docs`, with its headers; undefined for anything else. */
    serve(req: Request): Promise<Response> | undefined {
      if (req.method !== 'GET' && req.method !== 'HEAD') return undefined
      const path = pathOf(req.url)
      if (!Object.hasOwn(bundles, path)) return undefined
      return load(path).then(
        (html) => new Response(req.method === 'HEAD' ? null : html, { headers: PAGE_HEADERS })
      )
    },
  }
}
