/**
 * @module Cluster identity: one id stored in the database and in Redis, so nodes that share a
 * REDIS_URL can tell they share a database too (a node started on another one would answer
 * `/readyz` 200 and refuse every user registered elsewhere).
 */
import { eq } from 'drizzle-orm'
import type { Db } from './db.ts'
import type { RedisLink } from './redis-link.ts'
import { clusterIdentity } from './schema.ts'

const REDIS_KEY = 'mc:cluster'

/** This database's cluster id; the first node to ask makes it (one row, insert-or-keep). */
export async function databaseClusterId(db: Db): Promise<string> {
  await db
    .insert(clusterIdentity)
    .values({ id: 1, clusterId: crypto.randomUUID() })
    .onConflictDoNothing()
  const [row] = await db.select().from(clusterIdentity).where(eq(clusterIdentity.id, 1))
  if (!row) throw new Error('cluster_identity has no row after inserting it')
  return row.clusterId
}

/**
 * Claims Redis for this database's cluster (SET NX: the first node to start after Redis was empty
 * writes it), and throws with what to fix when Redis already belongs to another database.
 */
export async function claimRedisForCluster(link: RedisLink, clusterId: string): Promise<void> {
  await link.commands.send('SET', [REDIS_KEY, clusterId, 'NX'])
  const claimed = await link.commands.send('GET', [REDIS_KEY])
  if (claimed === clusterId) return
  throw new Error(
    `REDIS_URL is used by nodes on another database (cluster id ${String(claimed)} in Redis, ${clusterId} in this DATABASE_URL): point DATABASE_URL at the database the other nodes use, or give this database its own Redis`
  )
}
