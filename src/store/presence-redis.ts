/**
 * @module Presence in Redis: the multi-node PresenceStore. Users are counted once across every
 * node; each node's connections are kept under its own keys so survivors can reap a dead node.
 *
 * Keys (prefix `mc`): `nodes` (set of node ids), `node:<id>` (alive key with a TTL, value = the
 * node's internal URL), `conns:<id>` (hash sid → userId), `memberships:<id>` (set of
 * `room\nuserId\nsid`), `online` (hash userId → live connections), `room:<room>` (hash userId →
 * sockets in the room), `profile` (hash userId → PresenceUser JSON), `lastseen` (hash userId → ISO).
 * Every change is one Lua script, so counts never drift under concurrency; a dead node is reaped
 * by exactly one survivor, because only one `SREM nodes <id>` returns 1.
 */
import type { Logger } from '../log.ts'
import type { ConnectionChange, PresenceStore, PresenceUser, RoomLeft } from './presence-store.ts'
import { type RedisLink, withTimeout } from './redis-link.ts'

/** A user taken off presence because the node holding their last connection stopped. */
export interface LostUser {
  userId: string
  username: string
}

export interface RedisPresenceOptions {
  link: RedisLink
  nodeId: string
  /** Advertised internal URL (stored in the alive key for polling forwarding). */
  nodeUrl: () => string
  prefix?: string
  /** Alive key lifetime: a node silent this long is dead. */
  ttlMs: number
  /** How often the alive key is refreshed and other nodes checked. */
  heartbeatMs: number
  /** A node whose alive key is gone is reaped only once it stayed gone this long (PRESENCE_GRACE). */
  graceMs: number
  /** A single Redis call waits at most this long. */
  commandTimeoutMs?: number
  logger: Logger
  /** A dead node was reaped: these users have no socket left in these rooms (called first)... */
  onRoomsLeft?: (left: RoomLeft[]) => void
  /** ...and these users have no connection left anywhere. */
  onUsersLost?: (users: LostUser[], at: Date) => void
  /** This node's entries were missing (Redis restarted, or this node was reaped) and re-written. */
  onResync?: () => void
}

export interface RedisPresence extends PresenceStore {
  /**
   * Internal URL of a live node, or undefined when it is unknown or dead. Answered from memory
   * (refreshed on every heartbeat), so forwarding works while Redis is down; only a node this one
   * has not seen yet costs a Redis read.
   */
  nodeUrl(nodeId: string): Promise<string | undefined>
  /** One heartbeat now: refresh, resync if needed, reap dead nodes. */
  tick(): Promise<void>
  /** Clears what a previous process with this node id left, registers, starts the heartbeat. */
  start(): Promise<void>
}

const ADD = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return {0, redis.call('HLEN', KEYS[2])} end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
local n = redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
return {n == 1 and 1 or 0, redis.call('HLEN', KEYS[2])}`

const REMOVE = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return {0, redis.call('HLEN', KEYS[2])} end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) > 0 then return {0, redis.call('HLEN', KEYS[2])} end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return {1, redis.call('HLEN', KEYS[2])}`

const JOIN = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
return redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 1 and 1 or 0`

const LEAVE = `
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) > 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[2])
return 1`

/** KEYS: nodes, alive, conns, memberships, online, lastseen, profile. ARGV: id, at, force, prefix. */
const REAP = String.raw`
if ARGV[3] ~= '1' then
  if redis.call('EXISTS', KEYS[2]) == 1 then return {} end
  if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return {} end
end
local left = {}
for _, entry in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  local room, uid = string.match(entry, '^(.*)\n([^\n]*)\n[^\n]*$')
  if room then
    local key = ARGV[4] .. ':room:' .. room
    if redis.call('HINCRBY', key, uid, -1) <= 0 then
      redis.call('HDEL', key, uid)
      local profile = redis.call('HGET', KEYS[7], uid)
      if profile then table.insert(left, room .. '\n' .. profile) end
    end
  end
end
redis.call('DEL', KEYS[4])
local gone = {}
local conns = redis.call('HGETALL', KEYS[3])
for i = 1, #conns, 2 do
  local uid = conns[i + 1]
  if redis.call('HINCRBY', KEYS[5], uid, -1) <= 0 then
    redis.call('HDEL', KEYS[5], uid)
    redis.call('HSET', KEYS[6], uid, ARGV[2])
    table.insert(gone, redis.call('HGET', KEYS[7], uid) or uid)
    redis.call('HDEL', KEYS[7], uid)
  end
end
redis.call('DEL', KEYS[3])
return {gone, left}`

const membership = (room: string, userId: string, socketId: string) =>
  `${room}\n${userId}\n${socketId}`

/**
 * @example
 * const presence = createRedisPresence({ link, nodeId, nodeUrl: () => url, logger: log })
 * await presence.tick()
 */
export function createRedisPresence({
  link,
  nodeId,
  nodeUrl,
  prefix = 'mc',
  ttlMs,
  heartbeatMs,
  graceMs,
  commandTimeoutMs = 2_000,
  logger,
  onRoomsLeft,
  onUsersLost,
  onResync,
}: RedisPresenceOptions): RedisPresence {
  const log = logger.child('presence')
  const redis = link.commands
  const key = {
    nodes: `${prefix}:nodes`,
    alive: (id: string) => `${prefix}:node:${id}`,
    conns: (id: string) => `${prefix}:conns:${id}`,
    memberships: (id: string) => `${prefix}:memberships:${id}`,
    online: `${prefix}:online`,
    room: (room: string) => `${prefix}:room:${room}`,
    profile: `${prefix}:profile`,
    lastseen: `${prefix}:lastseen`,
  }
  /** The other live nodes' internal URLs as of the last heartbeat (kept while Redis is down). */
  const urls = new Map<string, string>()
  /** The distinct-user count Redis last gave: the answer while Redis does not give one. */
  let lastCount = 0
  const counted = (count: number) => {
    lastCount = count
    return count
  }
  /** This node's own state, replayed into Redis whenever Redis lost it. */
  const mirror = new Map<string, { user: PresenceUser; rooms: Set<string> }>()
  const call = <T>(what: string, promise: Promise<T>) =>
    withTimeout(promise, commandTimeoutMs, what)
  const script = (source: string, keys: string[], args: string[]) =>
    call('presence script', redis.send('EVAL', [source, String(keys.length), ...keys, ...args]))

  const asChange = ([changed, count]: [number, number]): ConnectionChange => ({
    changed: changed === 1,
    onlineCount: counted(Number(count)),
  })

  const add = (user: PresenceUser, socketId: string) =>
    script(
      ADD,
      [key.conns(nodeId), key.online, key.profile],
      [socketId, user.userId, JSON.stringify(user)]
    )
  const join = (room: string, userId: string, socketId: string) =>
    script(
      JOIN,
      [key.memberships(nodeId), key.room(room)],
      [membership(room, userId, socketId), userId]
    )

  /** Set when Redis lost this node's entries, until every one of them is written back. */
  let replaying = false
  const register = async (): Promise<boolean> => {
    const refreshed = await call(
      'heartbeat',
      redis.send('SET', [key.alive(nodeId), nodeUrl(), 'PX', String(ttlMs), 'XX'])
    )
    if (refreshed !== null && !replaying) return false
    replaying = true
    await call('register', redis.send('SET', [key.alive(nodeId), nodeUrl(), 'PX', String(ttlMs)]))
    await call('register', redis.send('SADD', [key.nodes, nodeId]))
    // Replayed entries are idempotent (HSETNX / SADD guard every increment), so a replay cut
    // short by a failing call (Redis just back) is simply done again on the next heartbeat.
    for (const [socketId, { user, rooms }] of mirror) {
      await add(user, socketId)
      for (const room of rooms) await join(room, user.userId, socketId)
    }
    replaying = false
    return true
  }

  const reap = async (id: string, force: boolean): Promise<void> => {
    const at = new Date()
    const keys = [
      key.nodes,
      key.alive(id),
      key.conns(id),
      key.memberships(id),
      key.online,
      key.lastseen,
      key.profile,
    ]
    const reaped = (await script(REAP, keys, [id, at.toISOString(), force ? '1' : '0', prefix])) as
      | [string[], string[]]
      | []
      | null
    const [gone = [], left = []] = reaped ?? []
    const rooms = left.flatMap((entry): RoomLeft[] => {
      const split = entry.indexOf('\n')
      try {
        return [{ room: entry.slice(0, split), user: JSON.parse(entry.slice(split + 1)) }]
      } catch {
        return []
      }
    })
    if (reaped && reaped.length > 0) {
      urls.delete(id)
      log.info('reaped a stopped node', { reaped: id, users: gone.length })
    }
    if (rooms.length > 0) onRoomsLeft?.(rooms)
    if (gone.length === 0) return
    const users = gone.map((entry): LostUser => {
      try {
        const parsed = JSON.parse(entry) as PresenceUser
        return { userId: parsed.userId, username: parsed.username }
      } catch {
        return { userId: entry, username: '' }
      }
    })
    onUsersLost?.(users, at)
  }

  const refreshUrls = async (others: string[]) => {
    const found = others.length
      ? ((await call('node urls', redis.send('MGET', others.map(key.alive)))) as (string | null)[])
      : []
    // A missing key alone does not drop a URL: Redis may have come back empty and the node not
    // re-registered yet. Only a reaped node is forgotten.
    others.forEach((id, i) => {
      const url = found[i]
      if (typeof url === 'string') urls.set(id, url)
    })
    return others.filter((_, i) => typeof found[i] !== 'string')
  }

  /** Nodes whose alive key this node found gone, since when (reaped after the grace). */
  const missingSince = new Map<string, number>()
  let ticking: Promise<void> | undefined
  const tick = (): Promise<void> => {
    ticking ??= (async () => {
      try {
        if (await register()) {
          log.info('presence registered', { node: nodeId, connections: mirror.size })
          onResync?.()
        }
        const nodes = (await call('nodes', redis.send('SMEMBERS', [key.nodes]))) as string[]
        const others = nodes.filter((id) => id !== nodeId)
        const gone = await refreshUrls(others)
        for (const id of [...missingSince.keys()]) if (!gone.includes(id)) missingSince.delete(id)
        for (const id of gone) {
          // Its users had the grace to reconnect elsewhere: only those who did not go offline.
          const since = missingSince.get(id) ?? Date.now()
          missingSince.set(id, since)
          if (Date.now() - since < graceMs) continue
          missingSince.delete(id)
          await reap(id, false)
        }
        counted(Number(await call('online count', redis.send('HLEN', [key.online]))))
      } catch (error) {
        // A failed heartbeat says nothing of the others: their grace starts again once it works.
        missingSince.clear()
        log.warn('presence heartbeat failed', { error })
      } finally {
        ticking = undefined
      }
    })()
    return ticking
  }
  let timer: ReturnType<typeof setInterval> | undefined

  return {
    tick,
    async start() {
      await reap(nodeId, true).catch((error) => log.warn('start-up reap failed', { error }))
      await tick()
      timer ??= setInterval(() => void tick(), heartbeatMs)
    },
    async nodeUrl(id) {
      const known = urls.get(id)
      if (known !== undefined || !link.up) return known
      const url = await call('node url', redis.send('GET', [key.alive(id)]))
      if (typeof url !== 'string') return undefined
      urls.set(id, url)
      return url
    },
    async addConnection(user, socketId) {
      mirror.set(socketId, { user, rooms: new Set() })
      return asChange(await add(user, socketId))
    },
    async removeConnection(userId, socketId, at) {
      mirror.delete(socketId)
      const keys = [key.conns(nodeId), key.online, key.lastseen, key.profile]
      return asChange(await script(REMOVE, keys, [socketId, userId, at.toISOString()]))
    },
    async onlineCount() {
      // Redis down: the last figure it gave, rather than no answer; the next change or
      // heartbeat after it is back corrects it.
      if (!link.up) return lastCount
      try {
        return counted(Number(await call('online count', redis.send('HLEN', [key.online]))))
      } catch {
        return lastCount
      }
    },
    async connectionCount(userId) {
      // Asked on every handshake: while the link is known to be down, fail at once, not in 2 s.
      if (!link.up) throw new Error('presence: the Redis link is down')
      return Number((await call('connections', redis.send('HGET', [key.online, userId]))) ?? 0)
    },
    async status(userId) {
      const [online, seen] = await Promise.all([
        call('status', redis.send('HEXISTS', [key.online, userId])),
        call('status', redis.send('HGET', [key.lastseen, userId])),
      ])
      const isOnline = online === 1 || online === true
      return { isOnline, lastSeen: isOnline || typeof seen !== 'string' ? null : new Date(seen) }
    },
    async onlineAmong(userIds) {
      if (userIds.length === 0) return new Set()
      const counts = (await call(
        'online among',
        redis.send('HMGET', [key.online, ...userIds])
      )) as (string | null)[]
      return new Set(userIds.filter((_, i) => counts[i] !== null && counts[i] !== undefined))
    },
    async joinRoom(room, userId, socketId) {
      mirror.get(socketId)?.rooms.add(room)
      return (await join(room, userId, socketId)) === 1
    },
    async leaveRoom(room, userId, socketId) {
      mirror.get(socketId)?.rooms.delete(room)
      const keys = [key.memberships(nodeId), key.room(room)]
      return (await script(LEAVE, keys, [membership(room, userId, socketId), userId])) === 1
    },
    async roomUsers(room) {
      const ids = (await call('room users', redis.send('HKEYS', [key.room(room)]))) as string[]
      if (ids.length === 0) return []
      const profiles = (await call('profiles', redis.send('HMGET', [key.profile, ...ids]))) as (
        | string
        | null
      )[]
      return profiles.flatMap((profile) => (profile ? [JSON.parse(profile) as PresenceUser] : []))
    },
    async close() {
      clearInterval(timer)
      await ticking
      mirror.clear()
      // Survivors reap what is left of this node on their next heartbeat.
      await call('leave', redis.send('DEL', [key.alive(nodeId)])).catch(() => undefined)
    },
  }
}
