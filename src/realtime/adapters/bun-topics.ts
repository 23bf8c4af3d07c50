/**
 * @module Room fan-out on Bun pub/sub topics, with a side path for long-polling sockets.
 *
 * Topic names: `${nsp}` reaches every socket of a namespace, `${nsp}#${room}` one room, so
 * namespaces never collide. A broadcast to at most one room whose only exception is the sender
 * is one `publish` per frame (from the sender's ws when `socket.to()` so Bun skips it) plus a
 * direct write to that room's polling members, which Bun knows nothing about. Any other shape
 * (several rooms, except-rooms) resolves the receivers in memory so each gets the packet once.
 */
import type { Adapter, AdapterHost, BroadcastOptions, RoomMember } from './adapter.ts'

function addTo(map: Map<string, Set<string>>, key: string, id: string): void {
  const set = map.get(key)
  if (set) set.add(id)
  else map.set(key, new Set([id]))
}

/** A room's members, with the room's name as first joined: every later joiner keeps this copy. */
class Members extends Set<string> {
  constructor(readonly name: string) {
    super()
  }
}

function removeFrom(map: Map<string, Set<string>>, key: string, id: string): void {
  const set = map.get(key)
  if (!set) return
  set.delete(id)
  if (set.size === 0) map.delete(key)
}

/** `rooms` lists joined rooms only: own-id rooms are implied by `socketRooms(id)`. */
export function createBunTopicsAdapter(host: AdapterHost): Adapter {
  const rooms = new Map<string, Members>()
  /** Each local socket's rooms, its own id among them: a short list, not a Set per socket. */
  const sids = new Map<string, string[]>()
  /** Members of each room still on long-polling (not topic subscribers). */
  const polling = new Map<string, Set<string>>()
  const pollingAll = new Set<string>()
  const allTopic = host.name
  const topic = (room: string) => `${host.name}#${room}`

  /** Members of a room; a socket's own-id room is virtual (no Set, no topic per socket). */
  const members = (room: string): Iterable<string> =>
    rooms.get(room) ?? (sids.get(room)?.includes(room) ? [room] : [])

  const sockets = (targets: ReadonlySet<string>, except?: ReadonlySet<string>): Set<string> => {
    const out = new Set<string>()
    const excluded = new Set<string>()
    if (except) for (const room of except) for (const id of members(room)) excluded.add(id)
    const sources = targets.size === 0 ? [sids.keys()] : [...targets].map(members)
    for (const source of sources) for (const id of source) if (!excluded.has(id)) out.add(id)
    return out
  }

  const del = (member: RoomMember, room: string): void => {
    const mine = sids.get(member.id)
    const index = mine?.indexOf(room) ?? -1
    if (!mine || index === -1) return
    mine.splice(index, 1)
    if (room === member.id) return
    removeFrom(rooms, room, member.id)
    removeFrom(polling, room, member.id)
    if (member.subscribed) member.unsubscribe(topic(room))
  }

  return {
    rooms,
    sockets,
    socketRooms: (id) => sids.get(id),
    addAll(member, newRooms) {
      let mine = sids.get(member.id)
      if (!mine) {
        mine = []
        sids.set(member.id, mine)
        if (member.subscribed) member.subscribe(allTopic)
        else pollingAll.add(member.id)
      }
      for (const joined of newRooms) {
        if (mine.includes(joined)) continue
        if (joined === member.id) {
          mine.push(member.id)
          continue
        }
        // One string per room, not one per member: 10k sockets of 100 users name 100 user rooms.
        let members = rooms.get(joined)
        if (!members) rooms.set(joined, (members = new Members(joined)))
        const room = members.name
        members.add(member.id)
        mine.push(room)
        if (member.subscribed) member.subscribe(topic(room))
        else addTo(polling, room, member.id)
      }
    },
    del,
    delAll(member) {
      const mine = sids.get(member.id)
      if (!mine) return
      for (const room of [...mine]) del(member, room)
      sids.delete(member.id)
      pollingAll.delete(member.id)
      if (member.subscribed) member.unsubscribe(allTopic)
    },
    onSubscribed(member) {
      if (!member.subscribed) return
      const mine = sids.get(member.id)
      if (!mine || !pollingAll.delete(member.id)) return
      member.subscribe(allTopic)
      for (const room of mine) {
        if (room === member.id) continue
        removeFrom(polling, room, member.id)
        member.subscribe(topic(room))
      }
    },
    broadcast(packet, { rooms: targets, except, sender, offset }: BroadcastOptions) {
      // Except-rooms with no local member (e.g. the sender of a broadcast relayed from another
      // node) change nothing here, so the publish path still applies.
      let onlySender = true
      for (const r of except) {
        if (r === sender?.id) continue
        for (const _ of members(r)) {
          onlySender = false
          break
        }
      }
      const room: string | undefined = targets.values().next().value
      if (targets.size <= 1 && onlySender && (room === undefined || rooms.has(room))) {
        const name = room === undefined ? allTopic : topic(room)
        let published = true
        if (sender?.subscribed) sender.publish(name, packet)
        else published = host.publish(name, packet)
        if (published) {
          const pollers = room === undefined ? pollingAll : polling.get(room)
          if (pollers) {
            for (const id of pollers) if (id !== sender?.id) host.member(id)?.write(packet, offset)
          }
          return
        }
      }
      // Several rooms, except-rooms, a socket's own room (one direct write), or no server to
      // publish on: resolve the receivers here.
      for (const id of sockets(targets, except)) {
        if (id !== sender?.id) host.member(id)?.write(packet, offset)
      }
    },
    close() {
      rooms.clear()
      sids.clear()
      polling.clear()
      pollingAll.clear()
    },
  }
}
