/**
 * @module Scale-out wiring: with REDIS_URL, the Redis link, the cross-node room adapter, presence
 * in Redis with node death detection, and polling forwarding; without it, one node in memory.
 * server.ts hands the pieces to createIO and the events layer.
 */
import type { ChangeFeed } from './chat/change-feed.ts'
import type { SharedDebitLimits, SharedRateLimits } from './chat/rate-limit.ts'
import type { Config } from './config.ts'
import type { Logger } from './log.ts'
import {
  type AdapterFactory,
  createForwarder,
  createRedisAdapter,
  type Forwarder,
  type OffsetLog,
} from './realtime/index.ts'
import type { ServerMetrics } from './server-metrics.ts'
import { createRedisChangeFeed } from './store/change-feed-redis.ts'
import { claimRedisForCluster, databaseClusterId } from './store/cluster-identity.ts'
import type { Db } from './store/db.ts'
import { createMemoryPresence } from './store/presence-memory.ts'
import { createRedisPresence, type LostUser } from './store/presence-redis.ts'
import type { PresenceStore, RoomLeft } from './store/presence-store.ts'
import { createRedisDebits, createRedisRateLimiter } from './store/rate-limit-redis.ts'
import { connectRedis } from './store/redis-link.ts'

/** What server.ts tells the events layer when presence changed without a local socket event. */
interface PresenceAnnouncer {
  roomsLeft(left: RoomLeft[]): void
  usersLost(users: LostUser[], at: Date): void
  resynced(): void
}

export interface ScaleOut {
  nodeId: string
  presence: PresenceStore
  /**
   * createIO options: cross-node rooms and sessions. Empty on a single node. `offsets`: where
   * recovery offsets can be read back, so each node delivers them in order (with recovery on).
   */
  io(offsets?: OffsetLog): {
    adapter?: AdapterFactory
    sidPrefix?: string
    forward?: Forwarder
  }
  readiness: { name: string; check(): Promise<void> }[]
  /** Rate limits all nodes share (login attempts); undefined on a single node. */
  sharedLimits?: SharedRateLimits
  /** Rate limits all nodes share, debited after the fact (messages); undefined on a single node. */
  sharedDebits?: SharedDebitLimits
  /** Moderation changes between nodes (Redis pub/sub); undefined on a single node. */
  feed?: ChangeFeed
  /** Who hears of presence lost without a local socket event (the events layer, once io exists). */
  announceTo(announcer: PresenceAnnouncer): void
  /** Once listening: advertise this node's internal URL and start the presence heartbeat. */
  start(nodeUrl: string): Promise<void>
  close(): Promise<void>
}

/**
 * @example
 * const scale = await createScaleOut(config, log, metrics, database.db)
 * const io = createIO({ ...scale.io(chat.stream.offsets) })
 * scale.announceTo(createPresenceAnnouncer(io, scale.presence, log, config.PRESENCE_SCOPE))
 */
export async function createScaleOut(
  config: Config,
  log: Logger,
  metrics: ServerMetrics,
  db: Db
): Promise<ScaleOut> {
  const nodeId = config.NODE_ID ?? randomNodeId()
  if (!config.REDIS_URL) {
    const presence = createMemoryPresence()
    return {
      nodeId,
      presence,
      io: () => ({}),
      readiness: [],
      announceTo() {},
      async start() {},
      close: () => presence.close(),
    }
  }

  const link = await connectRedis({
    url: config.REDIS_URL,
    logger: log,
    onState: (up) => metrics.redisUp(up),
  })
  // Nodes sharing this Redis must share this database: refuse to start otherwise.
  try {
    await claimRedisForCluster(link, await databaseClusterId(db))
  } catch (error) {
    link.close()
    throw error
  }
  let url = ''
  let announcer: PresenceAnnouncer = { roomsLeft() {}, usersLost() {}, resynced() {} }
  const ttlMs = config.NODE_TTL
  const presence = createRedisPresence({
    link,
    nodeId,
    nodeUrl: () => url,
    ttlMs,
    // Three refreshes per TTL: one lost heartbeat does not declare a live node dead.
    heartbeatMs: Math.max(100, Math.floor(ttlMs / 3)),
    graceMs: config.PRESENCE_GRACE,
    logger: log,
    onRoomsLeft: (left) => announcer.roomsLeft(left),
    onUsersLost: (users, at) => announcer.usersLost(users, at),
    onResync: () => announcer.resynced(),
  })
  return {
    nodeId,
    presence,
    io: (offsets) => ({
      adapter: createRedisAdapter({
        redis: link,
        nodeId,
        logger: log,
        onRemoteBroadcast: (ms) => metrics.broadcastLatency('remote', ms),
        onError: metrics.redisError,
        offsets,
      }),
      // Node ids are [A-Za-z0-9_-] (config), so the first '.' ends the owner part.
      sidPrefix: `${nodeId}.`,
      forward: createForwarder({
        nodeId,
        lookup: (id) => presence.nodeUrl(id),
        logger: log,
        onForward: metrics.forwarded,
      }),
    }),
    readiness: [{ name: 'redis', check: () => link.ping() }],
    feed: createRedisChangeFeed(link, nodeId, log),
    announceTo(next) {
      announcer = next
    },
    sharedLimits: (name, options) => createRedisRateLimiter(link, `mc:limit:${name}`, options),
    sharedDebits: (name, options) => createRedisDebits(link, `mc:limit:${name}`, options),
    async start(nodeUrl) {
      url = nodeUrl
      await presence.start()
    },
    async close() {
      await presence.close()
      link.close()
    },
  }
}

/** A short random node id, when NODE_ID is not set (main.ts picks one per process start). */
export function randomNodeId(): string {
  return crypto.randomUUID().slice(0, 8)
}
