/**
 * @module Last seen's storage (chat/last-seen.ts): users' `last_seen_at`, each node's heartbeat
 * (`node_heartbeats`) and the users online on it (`node_users`). A node's batch is one
 * transaction; settling a dead node is another, guarded by the heartbeat it read.
 */
import { eq, lt, or, type SQL, sql } from 'drizzle-orm'
import { type Db, type Statement, writeTogether } from './db.ts'
import { nodeHeartbeats, nodeUsers } from './schema.ts'

/** One node's batch, as of `at`. */
export interface LastSeenBatch {
  nodeId: string
  at: number
  /** Last-seen times by user id; a stored time never moves back. */
  seen: ReadonlyMap<string, number>
  /** Users who came online on the node since its last batch. */
  online: readonly string[]
  /** Users no longer online on it. */
  offline: readonly string[]
}

/** Refreshes the node's heartbeat; false when it has none (its first batch, or it was settled). */
export async function beat(db: Db, nodeId: string, at: number): Promise<boolean> {
  const rows = await db
    .update(nodeHeartbeats)
    .set({ aliveAt: at })
    .where(eq(nodeHeartbeats.nodeId, nodeId))
    .returning({ nodeId: nodeHeartbeats.nodeId })
  return rows.length > 0
}

/**
 * Writes a batch in one transaction: the heartbeat, who is online on the node, the times. Each
 * list is one statement over a JSON array (json_each), whatever its length: 100,000 users cost
 * one parameter each, not a statement per few hundred.
 */
export async function saveBatch(db: Db, { nodeId, at, seen, online, offline }: LastSeenBatch) {
  const statements: (Statement | SQL)[] = [
    db
      .insert(nodeHeartbeats)
      .values({ nodeId, aliveAt: at })
      .onConflictDoUpdate({ target: nodeHeartbeats.nodeId, set: { aliveAt: at } }),
  ]
  // (`WHERE true`: SQLite's upsert after a SELECT needs it to parse ON CONFLICT.)
  if (online.length > 0)
    statements.push(sql`INSERT INTO node_users (node_id, user_id)
      SELECT ${nodeId}, value FROM json_each(${JSON.stringify(online)}) WHERE true
      ON CONFLICT DO NOTHING`)
  if (offline.length > 0)
    statements.push(sql`DELETE FROM node_users WHERE node_id = ${nodeId}
      AND user_id IN (SELECT value FROM json_each(${JSON.stringify(offline)}))`)
  if (seen.size > 0)
    statements.push(sql`UPDATE users
      SET last_seen_at = max(coalesce(users.last_seen_at, 0), seen.value ->> 1)
      FROM json_each(${JSON.stringify([...seen])}) AS seen WHERE users.id = seen.value ->> 0`)
  await writeTogether(db, statements)
}

/** A dead node settled: its heartbeat's time became its users' last seen. */
export interface SettledNode {
  nodeId: string
  aliveAt: number
}

/**
 * Settles every node whose heartbeat is older than `before`, and `previous`'s (this node id's
 * earlier process) whatever its age: its users' last seen becomes at least its heartbeat's time
 * (it was alive then, with them online), and its rows go. Each node in one transaction that does
 * nothing when its heartbeat moved since it was read (the node was alive after all, or another
 * node settled it first).
 */
export async function settleDeadNodes(
  db: Db,
  before: number,
  previous?: string
): Promise<SettledNode[]> {
  const stale = lt(nodeHeartbeats.aliveAt, before)
  const dead = await db
    .select()
    .from(nodeHeartbeats)
    .where(previous === undefined ? stale : or(stale, eq(nodeHeartbeats.nodeId, previous)))
  for (const { nodeId, aliveAt } of dead) {
    const unchanged = sql`EXISTS (SELECT 1 FROM node_heartbeats WHERE node_id = ${nodeId} AND alive_at = ${aliveAt})`
    await writeTogether(db, [
      sql`UPDATE users SET last_seen_at = max(coalesce(last_seen_at, 0), ${aliveAt})
        WHERE id IN (SELECT user_id FROM node_users WHERE node_id = ${nodeId}) AND ${unchanged}`,
      sql`DELETE FROM node_users WHERE node_id = ${nodeId} AND ${unchanged}`,
      sql`DELETE FROM node_heartbeats WHERE node_id = ${nodeId} AND alive_at = ${aliveAt}`,
    ])
  }
  return dead
}

/** A node shutting down cleanly: its heartbeat and its online users go (nothing to settle). */
export async function forgetNode(db: Db, nodeId: string): Promise<void> {
  await writeTogether(db, [
    db.delete(nodeUsers).where(eq(nodeUsers.nodeId, nodeId)),
    db.delete(nodeHeartbeats).where(eq(nodeHeartbeats.nodeId, nodeId)),
  ])
}
