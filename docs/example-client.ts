/**
 * @module Runnable example client: two users register, join Mumbai's city chat and talk, with the
 * official socket.io-client exactly as the guide uses it.
 *
 *   npm start                                   # in one terminal
 *   npx bun docs/example-client.ts http://localhost:3000
 */
import { io, type Socket } from 'socket.io-client'

const url = process.argv[2] ?? 'http://localhost:3000'

async function register(name: string): Promise<{ accessToken: string; user: { _id: string } }> {
  const tag = `${name}_${Date.now().toString(36)}`
  const res = await fetch(`${url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      username: tag,
      email: `${tag}@example.com`,
      full_name: name,
      password: 'correct-horse-battery',
    }),
  })
  if (!res.ok) throw new Error(`register: ${res.status} ${await res.text()}`)
  return res.json() as Promise<{ accessToken: string; user: { _id: string } }>
}

function connect(name: string, token: string): Promise<Socket> {
  const socket = io(url, { auth: { token } })
  socket.on('connect_error', (error) => console.error(`[${name}] connect_error:`, error.message))
  socket.on('error', (error) => console.error(`[${name}] error:`, error))
  socket.on('joined-city-chat', (data) => console.log(`[${name}]`, data.message))
  socket.on('user-joined-city-chat', (data) => console.log(`[${name}] ${data.full_name} joined`))
  socket.on('user-typing-city', (data) => console.log(`[${name}] ${data.username} is typing…`))
  socket.on('new-city-message', (m) => console.log(`[${name}] ${m.sender_id.full_name}: ${m.content}`))
  socket.on('online-users', (count) => console.log(`[${name}] ${count} users online`))
  return new Promise((resolve) => socket.once('connect', () => resolve(socket)))
}

const [asha, ravi] = await Promise.all([register('Asha'), register('Ravi')])
const a = await connect('Asha', asha.accessToken)
const r = await connect('Ravi', ravi.accessToken)

for (const socket of [a, r]) await socket.emitWithAck('join-city-chat', { cityId: 'mumbai' })
r.emit('city-typing', { cityId: 'mumbai' })
const sent = await a.emitWithAck('send-city-message', {
  cityId: 'mumbai',
  content: 'Hello everyone! 👋',
  clientId: crypto.randomUUID(),
})
console.log('[Asha] ack:', sent.ok ? `stored as ${sent.message._id}` : sent.error)
await r.emitWithAck('send-city-message', { cityId: 'mumbai', content: 'Hi Asha!' })

const history = await fetch(`${url}/api/cities/mumbai/messages?limit=5`, {
  headers: { authorization: `Bearer ${asha.accessToken}` },
}).then((res) => res.json())
console.log(`history: ${history.messages.length} recent messages, hasMore=${history.hasMore}`)
a.close()
r.close()
