/**
 * @module Graceful shutdown of the real process (src/main.ts): SIGTERM mid-conversation loses no
 * acknowledged message, exits 0, and after a restart on the same port and database the client
 * reconnects by itself and its retries (same clientId) complete without duplicates.
 */
import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { api } from './helpers/api.ts'
import { ask, chatUser, joinCity, once } from './helpers/chat-client.ts'

const BUN = join(import.meta.dir, '..', 'node_modules', '.bin', 'bun')
const MAIN = join(import.meta.dir, '..', 'src', 'main.ts')
const running: Subprocess[] = []
const dataDir = mkdtempSync(join(tmpdir(), 'chat-main-'))

afterEach(() => {
  for (const proc of running.splice(0)) proc.kill('SIGKILL')
  rmSync(dataDir, { recursive: true, force: true })
})

interface Started {
  proc: Subprocess<'ignore', 'ignore', 'pipe'>
  url: string
  /** Resolves with every log line once the process exits. */
  logs: Promise<Record<string, unknown>[]>
}

/** Starts src/main.ts and resolves once it logs `listening`. */
async function start(port = 0): Promise<Started> {
  const proc = Bun.spawn([BUN, MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: `file:${join(dataDir, 'chat.db')}`,
      JWT_SECRET: 'main-test-secret-0123456789-abcdefghijkl',
      ARGON2_MEMORY_KIB: '1024',
      MESSAGE_RATE_PER_MINUTE: '0',
      LOG_LEVEL: 'info',
    },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  })
  running.push(proc)
  const lines: Record<string, unknown>[] = []
  let onListening: (url: string) => void = () => {}
  const listening = new Promise<string>((resolve) => {
    onListening = resolve
  })
  const logs = (async () => {
    let buffer = ''
    for await (const chunk of proc.stderr) {
      buffer += new TextDecoder().decode(chunk)
      let newline = buffer.indexOf('\n')
      while (newline !== -1) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        newline = buffer.indexOf('\n')
        try {
          const entry = JSON.parse(line) as Record<string, unknown>
          lines.push(entry)
          if (entry.msg === 'listening') onListening(String(entry.url).replace(/\/$/, ''))
        } catch {
          lines.push({ raw: line })
        }
      }
    }
    return lines
  })()
  const url = await Promise.race([
    listening,
    proc.exited.then((code) => {
      throw new Error(`main exited with ${code} before listening`)
    }),
  ])
  return { proc, url, logs }
}

test('SIGTERM mid-conversation: every acked message survives, retries after restart do not duplicate', async () => {
  const first = await start()
  const port = Number(new URL(first.url).port)
  const alice = await chatUser(first.url, { reconnection: true, reconnectionDelay: 50 })
  await joinCity(alice)

  const TOTAL = 60
  const payload = (i: number) => ({ cityId: 'mumbai', content: `msg ${i}`, clientId: `c-${i}` })
  const acked = new Map<number, string>()
  // Two senders keep messages flowing, so the stop lands mid-conversation.
  let next = 0
  const sender = async () => {
    while (next < TOTAL && alice.socket.connected) {
      const i = next++
      const ack = await ask(alice.socket, 'send-city-message', payload(i)).catch(() => undefined)
      if (ack?.ok) acked.set(i, ack.message._id)
    }
  }
  const sends = [sender(), sender()]
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (acked.size >= 5) {
        clearInterval(check)
        resolve()
      }
    }, 1)
  })
  const dropped = once(alice.socket, 'disconnect')
  first.proc.kill('SIGTERM')
  expect(await first.proc.exited).toBe(0)
  const logs = await first.logs
  expect(logs.some((line) => line.msg === 'stopped')).toBe(true)
  expect(logs.filter((line) => line.level === 'error')).toEqual([])
  // Engine.IO close, not a Socket.IO DISCONNECT: the client will reconnect by itself.
  expect(await dropped).toBe('transport close')
  await Promise.all(sends)
  expect(acked.size).toBeGreaterThanOrEqual(5)

  const second = await start(port)
  const history = await api(second.url, 'GET', '/api/cities/mumbai/messages?limit=100', {
    token: alice.accessToken,
  })
  const stored = new Set<string>(history.body.messages.map((m: { _id: string }) => m._id))
  for (const id of acked.values()) expect(stored.has(id)).toBe(true)

  // The client reconnects to the restarted server and retries whatever was not acked.
  if (!alice.socket.connected) await once(alice.socket, 'connect')
  // Its session was saved at shutdown, in the database: the new process resumes it.
  expect(alice.socket.recovered).toBe(true)
  await joinCity(alice)
  for (let i = 0; i < TOTAL; i++) {
    const ack = await ask(alice.socket, 'send-city-message', payload(i))
    expect(ack.ok).toBe(true)
    if (acked.has(i)) expect(ack.message._id).toBe(acked.get(i))
  }
  const after = await api(second.url, 'GET', '/api/cities/mumbai/messages?limit=100', {
    token: alice.accessToken,
  })
  const contents = after.body.messages.map((m: { content: string }) => m.content)
  expect(contents).toHaveLength(TOTAL)
  expect(new Set(contents).size).toBe(TOTAL)
  alice.socket.disconnect()

  second.proc.kill('SIGINT')
  expect(await second.proc.exited).toBe(0)
}, 30_000)
