/**
 * @module Last seen: when each user was last connected, kept in `users.last_seen_at` so it
 * survives a restart (and needs no Redis). Connects and disconnects only mark the user in memory;
 * the marks are written in one transaction per heartbeat (a third of NODE_TTL) and on shutdown,
 * never one write per connection. The same batch refreshes this node's heartbeat row and its list
 * of who is online on it, so a node killed without a shutdown leaves a trace: the first node to
 * find its heartbeat older than NODE_TTL (or the next process under the same NODE_ID, at once)
 * gives each user on that list the heartbeat's time as last seen. That time is when the dead node
 * last was known alive with them online: never later than the truth, at most a heartbeat before
 * the kill. (A user whose first socket on the node came after its last batch is not on the list.)
 */
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import { beat, forgetNode, saveBatch, settleDeadNodes } from '../store/last-seen.ts'
import type { UserRow } from '../store/schema.ts'

export interface LastSeenOptions {
  db: Db
  log: Logger
  /** This node: its heartbeat and online list are its own rows. */
  nodeId: string
  /** NODE_TTL: a node whose heartbeat is older is dead; batches go every third of it. */
  nodeTtlMs: number
  now?: () => number
}

/**
 * @example
 * const lastSeen = createLastSeen({ db, log, nodeId, nodeTtlMs: 10_000 })
 * lastSeen.connected(user.id); lastSeen.of(userRow) // → ms or null; await lastSeen.close()
 */
export function createLastSeen({ db, log, nodeId, nodeTtlMs, now = Date.now }: LastSeenOptions) {
  /** Marks not written yet, by user id. */
  let dirty = new Map<string, number>()
  /** This node's sockets per user. */
  const sockets = new Map<string, number>()
  /** The users this node's online list in the database holds. */
  const listed = new Set<string>()

  const mark = (userId: string, at: number) =>
    dirty.set(userId, Math.max(at, dirty.get(userId) ?? 0))

  /** Dead nodes' users get their heartbeat's time; `previous`: this node id's earlier process. */
  async function settle(previous?: string): Promise<void> {
    try {
      const settled = await settleDeadNodes(db, now() - nodeTtlMs, previous)
      for (const { nodeId: node, aliveAt } of settled)
        log.info('settled the last seen of a stopped node', { node, aliveAt })
    } catch (error) {
      log.error('settling stopped nodes failed', { error })
    }
  }

  /** One batch: the heartbeat, who came online here and who left, the marks. */
  async function write(): Promise<void> {
    const at = now()
    const seen = dirty
    dirty = new Map()
    try {
      // No heartbeat: the first batch, or another node found this one silent and settled it.
      const alive = await beat(db, nodeId, at)
      if (!alive) listed.clear()
      const online = [...sockets.keys()].filter((id) => !listed.has(id))
      const offline = [...listed].filter((id) => !sockets.has(id))
      if (!alive || online.length > 0 || offline.length > 0 || seen.size > 0) {
        await saveBatch(db, { nodeId, at, seen, online, offline })
        for (const id of online) listed.add(id)
        for (const id of offline) listed.delete(id)
      }
    } catch (error) {
      for (const [id, time] of seen) mark(id, time)
      log.error('saving last-seen times failed', { error })
    }
  }

  // A process that had this node id before died without a shutdown: settled before this one's
  // first heartbeat would take its rows over.
  let writing: Promise<void> = settle(nodeId)

  function flush(): Promise<void> {
    writing = writing.then(write).then(() => settle())
    return writing
  }

  const timer = setInterval(() => void flush(), Math.max(100, Math.floor(nodeTtlMs / 3)))
  timer.unref?.()

  return {
    /** A socket of the user's opened on this node. */
    connected(userId: string): void {
      mark(userId, now())
      sockets.set(userId, (sockets.get(userId) ?? 0) + 1)
    },
    /** A socket of the user's on this node closed. */
    disconnected(userId: string): void {
      mark(userId, now())
      const left = (sockets.get(userId) ?? 1) - 1
      if (left > 0) sockets.set(userId, left)
      else sockets.delete(userId)
    },
    /** The user's last-seen time in ms: this node's unwritten mark or the stored one; null: never. */
    of(user: Pick<UserRow, 'id' | 'lastSeenAt'>): number | null {
      const marked = dirty.get(user.id)
      if (marked === undefined) return user.lastSeenAt
      return Math.max(marked, user.lastSeenAt ?? 0)
    },
    /** Writes what is marked (shutdown; anyone still connected is seen now), then stops. */
    async close(): Promise<void> {
      clearInterval(timer)
      const at = now()
      for (const id of sockets.keys()) mark(id, at)
      sockets.clear()
      await flush()
      await forgetNode(db, nodeId).catch((error) =>
        log.error('removing the heartbeat failed', { error })
      )
    },
  }
}
