/**
 * @module Realtime-layer nodes for the cross-node tests: each a `createIO` server of its own on
 * `Bun.serve` with its own Redis connections and the Redis adapter, sharing nothing but Redis.
 */
import { SILENT_LOGGER } from '../../src/log.ts'
import {
  createRedisAdapter,
  type IOOptions,
  type RedisAdapterOptions,
} from '../../src/realtime/index.ts'
import { connectRedis } from '../../src/store/redis-link.ts'
import { startIO, type TestServer } from '../helpers/realtime.ts'

export interface IONode extends TestServer {
  nodeId: string
}

/** @example const a = await startIONode(redis.url, 'a') */
export async function startIONode(
  redisUrl: string,
  nodeId: string,
  options: IOOptions = {},
  adapterOptions: Partial<RedisAdapterOptions> = {}
): Promise<IONode> {
  const link = await connectRedis({ url: redisUrl, logger: SILENT_LOGGER })
  const adapter = createRedisAdapter({
    redis: link,
    nodeId,
    logger: SILENT_LOGGER,
    ...adapterOptions,
  })
  const srv = startIO({ ...options, adapter })
  return {
    ...srv,
    nodeId,
    async stop() {
      await srv.stop()
      link.close()
    },
  }
}
