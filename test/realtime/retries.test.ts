/**
 * @module A proxy retrying a polling request (same `t`, as after a node died mid-request): a
 * repeated GET gets the same packets again, a repeated POST is acknowledged but not handled twice.
 */
import { afterEach, expect, test } from 'bun:test'
import { eioRequest, eioSession, once, startIO, type TestServer } from '../helpers/realtime.ts'

let srv: TestServer
afterEach(async () => {
  await srv?.stop()
})

const poll = (sid: string, t: string) =>
  eioRequest(srv.url, `EIO=4&transport=polling&sid=${sid}&t=${t}`)
const push = (sid: string, t: string, body: string) =>
  eioRequest(srv.url, `EIO=4&transport=polling&sid=${sid}&t=${t}`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
  })

test('a repeated GET gets the lost answer again; the next one gets only what is new', async () => {
  srv = startIO()
  const { sid, socket } = await eioSession(srv)
  socket.emit('news', 1)
  const first = await poll(sid, 'a')
  expect(first.body).toBe('42["news",1]')
  // The answer to `a` was lost on its way: the client (through the proxy) asks again with `a`.
  expect((await poll(sid, 'a')).body).toBe('42["news",1]')
  socket.emit('news', 2)
  // `b` shows `a` arrived: only the new packet comes.
  expect((await poll(sid, 'b')).body).toBe('42["news",2]')
})

test('a repeated POST is acknowledged and its packets handled once', async () => {
  srv = startIO()
  const { sid, socket } = await eioSession(srv)
  const heard: unknown[] = []
  socket.on('hello', (n: unknown) => heard.push(n))
  expect((await push(sid, 'p1', '42["hello",1]')).body).toBe('ok')
  expect((await push(sid, 'p1', '42["hello",1]')).body).toBe('ok')
  const last = once(socket, 'hello')
  expect((await push(sid, 'p2', '42["hello",2]')).body).toBe('ok')
  await last
  expect(heard).toEqual([1, 2])
})
