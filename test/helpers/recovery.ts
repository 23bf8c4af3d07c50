/** @module Connection-state recovery from the client's side: drop a transport, reconnect, read what came. */
import { expect } from 'bun:test'
import type { Socket } from 'socket.io-client'
import { barrier, type ChatClient, once } from './chat-client.ts'

/** Drops the client's transport (as a network loss would) and waits until the server noticed. */
export async function drop(client: ChatClient, witness: ChatClient, event = 'user-left-city-chat') {
  const noticed = once(witness.socket, event)
  const gone = once(client.socket, 'disconnect')
  client.socket.io.engine.close()
  // The client closed its own engine ("forced close"); the server sees a transport close.
  expect(await gone).toBe('forced close')
  await noticed
}

export async function reconnect(socket: Socket): Promise<void> {
  const back = once(socket, 'connect')
  socket.connect()
  await back
}

/** Presence broadcasts (counts, room lists) are coalesced on a timer, so they may land anywhere; they are not room events. */
const PRESENCE = new Set(['online-users', 'user-offline', 'city-online-users'])

/** Names and first arguments of the room events that arrived after index `from`. */
const since = (client: ChatClient, from: number) =>
  client.received
    .slice(from)
    .filter(([event]) => !PRESENCE.has(event as string))
    .map(([event, payload]) => [event, payload])

/**
 * Reconnects a dropped client, expects its session recovered, and returns the room events it got
 * (since() form) up to a barrier: what was replayed, then the barrier's heartbeat-ack.
 */
export async function recover(client: ChatClient): Promise<unknown[][]> {
  const mark = client.received.length
  await reconnect(client.socket)
  expect(client.socket.recovered).toBe(true)
  await barrier(client.socket)
  return since(client, mark)
}
