/**
 * @module A real nginx (Debian's) in front of test nodes: the example of docs/deployment.md with
 * its `server` lines pointing at the nodes and its `listen` at a free port, in a temp prefix of
 * its own (config, pid, logs, temp paths), started by the test and stopped by it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually } from '../helpers/eventually.ts'
import { freePort } from '../helpers/ports.ts'

const ROOT = join(import.meta.dir, '..', '..')
const NGINX_BIN = Bun.which('nginx') ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null)

/** Why the nginx suites skip, or undefined when they can run. */
export const NGINX_SKIP = NGINX_BIN
  ? undefined
  : 'nginx not found (CI installs it with apt: .ci/run); nginx tests skipped'

/** The ```nginx block of docs/deployment.md, exactly as an operator would copy it. */
export async function docsNginxExample(): Promise<string> {
  const doc = await Bun.file(join(ROOT, 'docs', 'deployment.md')).text()
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1]
  if (!block) throw new Error('docs/deployment.md has no ```nginx block')
  return block
}

/** The main config an operator's nginx.conf provides around the example, inside a temp prefix. */
function mainConfig(dir: string, http: string, format = ''): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  ${format ? `log_format upstreams '${format}';` : ''}
  access_log ${dir}/access.log${format ? ' upstreams' : ''};
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http}
}
`
}

/** `nginx -t` on a config made of the main part and `http` as its http block. */
export async function nginxTest(http: string): Promise<{ ok: boolean; output: string }> {
  if (!NGINX_BIN) throw new Error(NGINX_SKIP)
  const dir = mkdtempSync(join(tmpdir(), 'chat-nginx-t-'))
  try {
    const conf = join(dir, 'nginx.conf')
    writeFileSync(conf, mainConfig(dir, http))
    const proc = Bun.spawn([NGINX_BIN, '-t', '-p', dir, '-e', `${dir}/error.log`, '-c', conf], {
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [code, out, err] = await Promise.all([
      proc.exited,
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ])
    return { ok: code === 0, output: out + err }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface Nginx {
  url: string
  /** Lines of its access log so far (method, path, status, upstreams, their statuses, sid=). */
  accessLog(): Promise<string[]>
  stop(): Promise<void>
}

/** Runs the docs' example in front of `targets` (`http://127.0.0.1:<port>` each). */
export async function startNginx(targets: string[]): Promise<Nginx> {
  if (!NGINX_BIN) throw new Error(NGINX_SKIP)
  const port = await freePort()
  const servers = targets.map((t) => `    server ${new URL(t).host};`).join('\n')
  const example = (await docsNginxExample())
    .replace(/^( {4}server \d+\.\d+\.\d+\.\d+:\d+;\n)+/m, `${servers}\n`)
    .replace(/listen 80;/, `listen 127.0.0.1:${port};`)
    .replace(/allow 10\.0\.0\.0\/8;/, 'allow 127.0.0.1;')
  const dir = mkdtempSync(join(tmpdir(), 'chat-nginx-'))
  const conf = join(dir, 'nginx.conf')
  const format = '$request_method $uri $status $upstream_addr $upstream_status sid=$arg_sid'
  writeFileSync(conf, mainConfig(dir, example, format))
  const proc = Bun.spawn([NGINX_BIN, '-p', dir, '-e', `${dir}/error.log`, '-c', conf], {
    stdout: 'ignore',
    stderr: 'pipe',
  })
  const url = `http://127.0.0.1:${port}`
  let exited = false
  void proc.exited.then(() => {
    exited = true
  })
  await eventually(
    async () => {
      if (exited) throw new Error(`nginx exited: ${await new Response(proc.stderr).text()}`)
      return fetch(`${url}/healthz`).then(
        (res) => res.ok,
        () => false
      )
    },
    10_000,
    'nginx answering'
  )
  return {
    url,
    async accessLog() {
      const text = await Bun.file(join(dir, 'access.log')).text()
      return text.split('\n').filter(Boolean)
    },
    async stop() {
      proc.kill('SIGTERM')
      await proc.exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
