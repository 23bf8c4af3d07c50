/**
 * @module The Socket.IO Admin UI (ADMIN_UI=true): `instrument()` from `@socket.io/admin-ui` on
 * our realtime server, behind basic auth with a bcrypt hash, and the package's own dashboard
 * build (`ui/dist`) served at `/admin-ui/` with a CSP of its own.
 */
import { existsSync } from 'node:fs'
import { dirname, extname, join, normalize } from 'node:path'
import { instrument } from '@socket.io/admin-ui'
import type { Config } from './config.ts'
import type { Logger } from './log.ts'
import type { IOServer } from './realtime/index.ts'

/** Where the dashboard is served; the `/admin` namespace is the package's default. */
const ADMIN_UI_PATH = '/admin-ui/'

/**
 * The dashboard's own policy: its Vue build injects styles at run time ('unsafe-inline' styles,
 * on this path only), its scripts and its socket stay on this origin. Its fonts and icons, which
 * its index.html links from public CDNs, are not loaded.
 */
const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const TYPES: Record<string, string> = {
  '.html': 'text/html;charset=utf-8',
  '.js': 'text/javascript;charset=utf-8',
  '.css': 'text/css;charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
}

type InstrumentedServer = Parameters<typeof instrument>[0]

/**
 * Instruments `io` for the dashboard (namespace `/admin`, every socket, room and event) and
 * returns the handler of `/admin-ui/*`; undefined when ADMIN_UI is off.
 * @example const adminUi = startAdminUi(io, config, log); adminUi?.serve(req)
 */
export function startAdminUi(io: IOServer, config: Config, log: Logger) {
  if (!config.ADMIN_UI || !config.ADMIN_UI_PASSWORD_HASH) return undefined
  // Our server offers the surfaces instrument() uses (namespaces, adapter room events, the
  // engine's sessions), not socket.io's whole Server type.
  instrument(io as unknown as InstrumentedServer, {
    auth: {
      type: 'basic',
      username: config.ADMIN_UI_USERNAME,
      password: config.ADMIN_UI_PASSWORD_HASH,
    },
    // Sockets, rooms and events, not only the aggregated counters of its production mode.
    mode: 'development',
  })
  const dist = dashboardDir()
  if (!dist) log.warn('admin ui: the dashboard build is not on disk; only /admin is served')
  else log.info('admin ui on', { dashboard: ADMIN_UI_PATH, namespace: '/admin' })

  return {
    /** The dashboard's file for a GET under `/admin-ui`, or undefined when it is not for us. */
    serve(req: Request): Promise<Response> | Response | undefined {
      const url = new URL(req.url)
      if (url.pathname !== '/admin-ui' && !url.pathname.startsWith(ADMIN_UI_PATH)) return undefined
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return Response.json(
          { error: { code: 'method_not_allowed', message: 'The dashboard is read with GET' } },
          { status: 405, headers: { Allow: 'GET, HEAD' } }
        )
      }
      if (url.pathname === '/admin-ui') {
        return new Response(null, { status: 308, headers: { Location: ADMIN_UI_PATH } })
      }
      const relative = url.pathname.slice(ADMIN_UI_PATH.length) || 'index.html'
      return dist ? dashboardFile(dist, relative) : notFound()
    },
  }
}

function dashboardDir(): string | undefined {
  try {
    const dir = join(
      dirname(Bun.resolveSync('@socket.io/admin-ui/package.json', import.meta.dir)),
      'ui',
      'dist'
    )
    return existsSync(join(dir, 'index.html')) ? dir : undefined
  } catch {
    return undefined
  }
}

async function dashboardFile(dist: string, relative: string): Promise<Response> {
  const path = normalize(join(dist, relative))
  const type = TYPES[extname(path)]
  if (!path.startsWith(`${dist}/`) || !type) return notFound()
  const file = Bun.file(path)
  if (!(await file.exists())) return notFound()
  return new Response(file, {
    headers: {
      'content-type': type,
      'content-security-policy': DASHBOARD_CSP,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    },
  })
}

function notFound(): Response {
  return Response.json(
    { error: { code: 'not_found', message: 'No such dashboard file' } },
    { status: 404 }
  )
}
