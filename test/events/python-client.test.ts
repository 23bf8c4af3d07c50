/**
 * @module A client that is not ours: python-socketio (Debian's python3-socketio 5.x) runs the
 * guide's flow against the real server over WebSocket, long-polling and the upgrade, with the
 * one-line `offsets: false` opt-out (test/events/python/chat_flow.py). Skips when it is absent.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { registerUser } from '../helpers/api.ts'
import { createPrivateChat } from '../helpers/chat-client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const PYTHON = '/usr/bin/python3'
const SCRIPT = join(import.meta.dir, 'python', 'chat_flow.py')
const hasSocketIO =
  existsSync(PYTHON) &&
  Bun.spawnSync([PYTHON, '-c', 'import socketio, websocket, requests']).success
if (!hasSocketIO) {
  console.warn(
    'python-client tests skipped: install python3-socketio python3-websocket python3-requests'
  )
}

let server: TestServer

beforeEach(async () => {
  server = await startServer()
})

afterEach(async () => {
  await server.stop()
})

/** Runs the script; resolves with its JSON report, or fails with its stderr. */
async function runFlow(transports: string, extra: string[] = []): Promise<any> {
  const [alice, bob] = [await registerUser(server.url), await registerUser(server.url)]
  const chatId = await createPrivateChat(server.url, alice, [bob])
  const child = Bun.spawn(
    [PYTHON, SCRIPT, server.url, transports, alice.accessToken, bob.accessToken, chatId, ...extra],
    { stdout: 'pipe', stderr: 'pipe' }
  )
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  if (process.env.PY_TRACE) console.log(stderr)
  if (code !== 0) throw new Error(`python client failed (${code}):\n${stderr}\n${stdout}`)
  return JSON.parse(stdout.trim().split('\n').at(-1) as string)
}

describe.skipIf(!hasSocketIO)('python-socketio client', () => {
  for (const [name, transports, transport] of [
    ['websocket', 'websocket', 'websocket'],
    ['polling', 'polling', 'polling'],
    ['polling then upgrade', 'polling,websocket', 'websocket'],
  ] as const) {
    test(`the guide's flow over ${name}, with one-argument handlers`, async () => {
      const report = await runFlow(transports)
      expect(report).toEqual({
        badToken: 'Authentication error',
        transport,
        received: 'hello from python',
        edited: 'edited',
        typing: 'mumbai',
        deleted: true,
        onlineCount: 2,
        cityOnline: 2,
        aliceOnline: true,
        private: 'psst',
        readBy: true,
        refusals: ['not_member', 'invalid_input', 'not_author', 'not_found'],
        ownEdit: true,
        stillConnected: true,
        offline: true,
      })
    }, 30_000)
  }

  test('without the opt-out each broadcast carries its offset as an extra argument', async () => {
    // Why the opt-out exists: socket.io-client ignores the extra argument, Python passes it on.
    expect(await runFlow('websocket', ['offsets'])).toEqual({ argumentsPerMessage: [2] })
  }, 30_000)
})
