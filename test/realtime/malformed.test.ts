/**
 * @module Raw malformed input over plain HTTP and a plain WebSocket: every case gets the
 * protocol's error answer or a clean close, and the server keeps serving.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import type { IOSocket } from '../../src/realtime/index.ts'
import {
  connect,
  eioHandshake,
  eioPoll,
  eioPush,
  eioRequest,
  eioSession,
  once,
  rawExchange,
  startIO,
  type TestServer,
  upgradeRequest,
  wsConnect,
  wsOpen,
} from '../helpers/realtime.ts'
import { rejectionOf } from '../helpers/rejection.ts'

let srv: TestServer

afterEach(async () => {
  await srv?.stop()
})

/** The server still accepts a normal client after the abuse. */
async function stillServes(): Promise<void> {
  const c = await connect(srv.url, { transports: ['websocket'] })
  c.disconnect()
}

/** Opens a polling session and joins `/`; resolves with the server-side socket. */
const pollingSession = () => eioSession(srv)

describe('HTTP long-polling', () => {
  test.each([
    ['no transport', 'EIO=4', 'GET', 400, 0, 'Transport unknown'],
    ['unknown transport', 'EIO=4&transport=carrier-pigeon', 'GET', 400, 0, 'Transport unknown'],
    ['POST handshake', 'EIO=4&transport=polling', 'POST', 400, 2, 'Bad handshake method'],
    ['EIO=3', 'EIO=3&transport=polling', 'GET', 400, 5, 'Unsupported protocol version'],
    ['no EIO', 'transport=polling', 'GET', 400, 5, 'Unsupported protocol version'],
    ['unknown sid', 'EIO=4&transport=polling&sid=nope', 'GET', 400, 1, 'Session ID unknown'],
    ['websocket without upgrade', 'EIO=4&transport=websocket', 'GET', 400, 3, 'Bad request'],
    ['OPTIONS without cors', 'EIO=4&transport=polling', 'OPTIONS', 400, 2, 'Bad handshake method'],
  ])(
    '%s is refused with the protocol error',
    async (_label, query, method, status, code, message) => {
      srv = startIO()
      const res = await eioRequest(srv.url, query, { method })
      expect(res.status).toBe(status)
      expect(JSON.parse(res.body)).toEqual({ code, message })
      await stillServes()
    }
  )

  test('the open packet carries sid, upgrades, pingInterval, pingTimeout, maxPayload', async () => {
    srv = startIO({ pingInterval: 1000, pingTimeout: 2000, maxPayload: 5000 })
    const { sid, open } = await eioHandshake(srv.url)
    expect(open).toEqual({
      sid,
      upgrades: ['websocket'],
      pingInterval: 1000,
      pingTimeout: 2000,
      maxPayload: 5000,
    })
    expect(srv.io.engine.clientsCount).toBe(1)
  })

  test('a request for a session the client closed gets "Session ID unknown"', async () => {
    srv = startIO()
    const { sid } = await eioHandshake(srv.url)
    expect((await eioPush(srv.url, sid, '1')).status).toBe(200)
    const res = await eioPoll(srv.url, sid)
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body)).toEqual({ code: 1, message: 'Session ID unknown' })
  })

  test('a bad Engine.IO packet type closes the session ("parse error")', async () => {
    srv = startIO()
    const { sid, socket } = await pollingSession()
    const reason = once(socket, 'disconnect')
    expect((await eioPush(srv.url, sid, '9')).status).toBe(200)
    expect(await reason).toBe('parse error')
    expect((await eioPoll(srv.url, sid)).status).toBe(400)
    await stillServes()
  })

  test.each([
    ['broken JSON', '42["a"'],
    ['reserved event name', '42["disconnect"]'],
    ['an event for a namespace not joined', '4/admin,2["x"]'],
    ['a placeholder past the attachments', '451-["x",{"_placeholder":true,"num":4}]\x1ebAQ=='],
    ['text where an attachment was due', '451-["x",{"_placeholder":true,"num":0}]\x1e42["y"]'],
    ['a ping from the client', '2'],
  ])('%s closes the session', async (_label, payload) => {
    srv = startIO()
    const { sid, socket } = await pollingSession()
    const reason = once<string>(socket, 'disconnect')
    const poll = eioPoll(srv.url, sid) // held until the server answers (close or noop)
    await eioPush(srv.url, sid, payload)
    expect(['forced close', 'transport error', 'forced server close']).toContain(await reason)
    await poll
    expect((await eioPoll(srv.url, sid)).status).toBe(400)
    await stillServes()
  })

  test('a CONNECT to an unknown namespace gets CONNECT_ERROR "Invalid namespace"', async () => {
    srv = startIO()
    const { sid } = await eioHandshake(srv.url)
    await eioPush(srv.url, sid, '40/nope,')
    expect((await eioPoll(srv.url, sid)).body).toBe('44/nope,{"message":"Invalid namespace"}')
    // The session stays usable: `/` still connects.
    await eioPush(srv.url, sid, '40')
    expect((await eioPoll(srv.url, sid)).body).toStartWith('40{"sid":')
  })

  test('a body over maxPayload gets 413', async () => {
    srv = startIO({ maxPayload: 100 })
    const { sid } = await eioHandshake(srv.url)
    const res = await eioPush(srv.url, sid, `42["x","${'a'.repeat(200)}"]`)
    expect(res.status).toBe(413)
    await stillServes()
  })

  test('a binary (octet-stream) body is refused and the session closed', async () => {
    srv = startIO()
    const { sid } = await eioHandshake(srv.url)
    const res = await eioPush(srv.url, sid, new Uint8Array([4, 1, 2]), {
      'Content-Type': 'application/octet-stream',
    })
    expect(res.status).toBe(400)
    expect((await eioPoll(srv.url, sid)).status).toBe(400)
  })

  test('a second GET while one is held closes the session; the held GET gets the close packet', async () => {
    let arrived = () => {}
    srv = startIO({}, () => arrived())
    const { sid, socket } = await pollingSession()
    const reason = once(socket, 'disconnect')
    const held = new Promise<void>((resolve) => {
      arrived = resolve
    })
    const first = eioPoll(srv.url, sid)
    await held
    // engine.io: "overlap from client" → 400 with no body; the held GET is answered `1`.
    const second = await eioPoll(srv.url, sid)
    expect([second.status, second.body]).toEqual([400, ''])
    const answered = await first
    expect([answered.status, answered.body]).toEqual([200, '1'])
    expect(answered.headers.get('content-type')).toBe('text/plain; charset=UTF-8')
    expect(await reason).toBe('transport error')
    const after = await eioPoll(srv.url, sid)
    expect(JSON.parse(after.body)).toEqual({ code: 1, message: 'Session ID unknown' })
  })

  test('a client close packet releases the held GET with a noop', async () => {
    let arrived = () => {}
    srv = startIO({}, () => arrived())
    const { sid, socket } = await pollingSession()
    const reason = once(socket, 'disconnect')
    const held = new Promise<void>((resolve) => {
      arrived = resolve
    })
    const first = eioPoll(srv.url, sid)
    await held
    expect((await eioPush(srv.url, sid, '1')).body).toBe('ok')
    expect((await first).body).toBe('6')
    expect(await reason).toBe('transport close')
  })

  test('a server-side close releases the held GET with the close packet', async () => {
    let arrived = () => {}
    srv = startIO({}, () => arrived())
    const { sid } = await eioHandshake(srv.url) // no namespace joined: engine-level close
    const held = new Promise<void>((resolve) => {
      arrived = resolve
    })
    const first = eioPoll(srv.url, sid)
    await held
    srv.io.engine.clients.get(sid)?.onClose('ping timeout')
    expect((await first).body).toBe('1')
  })

  test('a held poll the client aborts closes the session ("transport error")', async () => {
    let arrived = () => {}
    srv = startIO({}, () => arrived())
    const { sid, socket } = await pollingSession()
    const reason = once(socket, 'disconnect')
    const held = new Promise<void>((resolve) => {
      arrived = resolve
    })
    const abort = new AbortController()
    const poll = eioPoll(srv.url, sid, { signal: abort.signal }).catch((e: Error) => e)
    await held
    abort.abort()
    await poll
    expect(await reason).toBe('transport error')
    expect(srv.io.engine.clientsCount).toBe(0)
  })

  test('a server close waits for the next poll; a client close packet ends it at once', async () => {
    srv = startIO()
    const { sid, socket } = await pollingSession()
    socket.disconnect(true) // no GET held: DISCONNECT is buffered, the session is closing
    expect((await eioPoll(srv.url, sid)).body).toBe('41')
    expect(srv.io.engine.clientsCount).toBe(1)
    await eioPush(srv.url, sid, '1')
    expect(srv.io.engine.clientsCount).toBe(0)
  })

  test('io.close() ends polling sessions without waiting for a poll', async () => {
    srv = startIO()
    await pollingSession()
    await srv.io.close()
    expect(srv.io.engine.clientsCount).toBe(0)
  })

  test('a session that joins no namespace is closed after connectTimeout', async () => {
    srv = startIO({ connectTimeout: 30 })
    const { sid } = await eioHandshake(srv.url)
    const held = await eioPoll(srv.url, sid)
    expect(held.body).toBe('1')
    expect(srv.io.engine.clientsCount).toBe(0)
  })
})

describe('CORS on long-polling', () => {
  test('configured origins are echoed with credentials; others are refused (403, code 4)', async () => {
    srv = startIO({ cors: { origins: ['http://app.test'], credentials: true } })
    const ok = await eioRequest(srv.url, 'EIO=4&transport=polling', {
      headers: { Origin: 'http://app.test' },
    })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://app.test')
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true')

    const refused = await eioRequest(srv.url, 'EIO=4&transport=polling', {
      headers: { Origin: 'http://evil.test' },
    })
    expect(refused.status).toBe(403)
    expect(JSON.parse(refused.body)).toEqual({ code: 4, message: 'Forbidden' })
  })

  test('a preflight is answered with 204 and the requested headers', async () => {
    srv = startIO({ cors: { origins: [] } })
    const res = await eioRequest(srv.url, 'EIO=4&transport=polling', {
      method: 'OPTIONS',
      headers: { Origin: 'http://any.test', 'Access-Control-Request-Headers': 'content-type' },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type')
    expect(res.headers.get('access-control-allow-methods')).toContain('POST')
  })

  test('without cors options no CORS headers are sent', async () => {
    srv = startIO()
    const res = await eioRequest(srv.url, 'EIO=4&transport=polling', {
      headers: { Origin: 'http://app.test' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('plain WebSocket', () => {
  test('handshake: open packet without upgrades, then CONNECT { sid }', async () => {
    srv = startIO({ pingInterval: 300, pingTimeout: 200, maxPayload: 1234 })
    const ws = await wsOpen(srv.url)
    const open = JSON.parse(String(await ws.next()).slice(1))
    expect(open).toMatchObject({
      upgrades: [],
      pingInterval: 300,
      pingTimeout: 200,
      maxPayload: 1234,
    })
    ws.send('40')
    expect(String(await ws.next())).toMatch(/^40\{"sid":"[\w-]+"\}$/)
    ws.ws.close()
  })

  test.each([
    ['a bad Engine.IO packet type', ['9']],
    ['an empty frame', ['']],
    ['broken JSON', ['42["a"']],
    ['a bad Socket.IO packet type', ['48']],
    ['a reserved event name', ['42["connect"]']],
    ['an event without a namespace CONNECT', ['4/admin,2["x"]']],
    ['a second CONNECT to the same namespace', ['40']],
    ['wrong attachment count', ['451-["x",{"_placeholder":true,"num":2}]', new Uint8Array([1])]],
    ['text where an attachment was due', ['451-["x",{"_placeholder":true,"num":0}]', '42["y"]']],
    ['binary with no pending header', [new Uint8Array([1, 2])]],
    ['a ping from the client', ['2']],
  ])('%s closes the connection', async (_label, frames) => {
    srv = startIO()
    const ws = await wsConnect(srv.url)
    for (const frame of frames) ws.send(frame as string | Uint8Array<ArrayBuffer>)
    await ws.closed
    await stillServes()
  })

  test('a frame over maxPayload closes with 1009', async () => {
    srv = startIO({ maxPayload: 64 })
    const ws = await wsConnect(srv.url)
    ws.send(`42["x","${'a'.repeat(100)}"]`)
    expect(await ws.closed).toBe(1009)
    await stillServes()
  })

  test('CONNECT to an unknown namespace: CONNECT_ERROR, and the connection stays open', async () => {
    srv = startIO()
    const ws = await wsOpen(srv.url)
    await ws.next()
    ws.send('40/nope,{"a":1}')
    expect(await ws.next()).toBe('44/nope,{"message":"Invalid namespace"}')
    ws.send('40')
    expect(String(await ws.next())).toStartWith('40{"sid":')
    ws.ws.close()
  })

  test('upgrade with an unknown sid is refused', async () => {
    srv = startIO()
    await rejectionOf(wsOpen(srv.url, 'EIO=4&transport=websocket&sid=nope'))
    await stillServes()
  })

  test('an upgrade without probe is dropped; the polling session survives', async () => {
    srv = startIO()
    const { sid } = await pollingSession()
    const ws = await wsOpen(srv.url, `EIO=4&transport=websocket&sid=${sid}`)
    ws.send('5')
    await ws.closed
    await eioPush(srv.url, sid, '42["still-here"]')
    const held = eioPoll(srv.url, sid)
    srv.io.emit('pong-back', 1)
    expect((await held).body).toBe('42["pong-back",1]')
  })

  test('the raw upgrade dance: probe, noop for the held poll, upgrade', async () => {
    srv = startIO()
    const { sid, socket } = await pollingSession()
    const held = eioPoll(srv.url, sid)
    const ws = await wsOpen(srv.url, `EIO=4&transport=websocket&sid=${sid}`)
    ws.send('2probe')
    expect(await ws.next()).toBe('3probe')
    expect((await held).body).toBe('6')
    ws.send('5')
    socket.emit('over-ws', 'yes')
    expect(await ws.next()).toBe('42["over-ws","yes"]')
    expect(socket.conn.transport.name).toBe('websocket')
    ws.ws.close()
  })

  test('a second WebSocket for an upgraded session is accepted (101), then closed', async () => {
    srv = startIO()
    const { sid, socket } = await pollingSession()
    const ws = await wsOpen(srv.url, `EIO=4&transport=websocket&sid=${sid}`)
    ws.send('2probe')
    expect(await ws.next()).toBe('3probe')
    ws.send('5')
    socket.emit('over-ws', 0) // buffered, then flushed on the new ws at the upgrade
    expect(await ws.next()).toBe('42["over-ws",0]')
    const second = await secondWebSocket(sid)
    // engine.io's `websocket.close()`: an empty close frame (FIN + opcode 8, no status).
    expect(second.head).toStartWith('HTTP/1.1 101 Switching Protocols\r\n')
    expect([...second.frame]).toEqual([0x88, 0x00])
    socket.emit('still', 'upgraded')
    expect(await ws.next()).toBe('42["still","upgraded"]')
    ws.ws.close()
  })

  test('a second WebSocket while an upgrade is under way is accepted, then closed', async () => {
    srv = startIO()
    const { sid, socket } = await pollingSession()
    const ws = await wsOpen(srv.url, `EIO=4&transport=websocket&sid=${sid}`)
    ws.send('2probe')
    expect(await ws.next()).toBe('3probe')
    const second = await secondWebSocket(sid)
    expect(second.head).toStartWith('HTTP/1.1 101 Switching Protocols\r\n')
    expect([...second.frame]).toEqual([0x88, 0x00])
    ws.send('5') // the first upgrade still completes
    socket.emit('over-ws', 1)
    expect(await ws.next()).toBe('42["over-ws",1]')
    ws.ws.close()
  })

  test('a dead raw client is closed with "ping timeout"', async () => {
    srv = startIO({ pingInterval: 20, pingTimeout: 30 })
    const connection = once<IOSocket>(srv.io, 'connection')
    const ws = await wsConnect(srv.url)
    const socket = await connection
    expect(await once(socket, 'disconnect')).toBe('ping timeout')
    expect(await ws.next()).toBe('2') // the unanswered ping
    await ws.closed
  })
})

/** A raw upgrade for `sid`: the response head and the first frame's bytes. */
async function secondWebSocket(sid: string): Promise<{ head: string; frame: Buffer }> {
  const { bytes } = await rawExchange(
    srv.url,
    upgradeRequest(srv.url, `EIO=4&transport=websocket&sid=${sid}`),
    (received) => {
      const end = received.indexOf('\r\n\r\n')
      return end !== -1 && received.length >= end + 6
    }
  )
  const end = bytes.indexOf('\r\n\r\n') + 4
  return { head: bytes.subarray(0, end).toString(), frame: bytes.subarray(end) }
}
