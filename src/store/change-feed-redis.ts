/**
 * @module The change feed over Redis pub/sub: one channel, each message tagged with the node that
 * sent it so a node skips its own. A message lost while the link was down is made up for by the
 * periodic reload (chat/moderation.ts).
 */
import type { Logger } from '../log.ts'
import type { RedisLink } from './redis-link.ts'

const CHANNEL = 'mc:changes'

/** Any JSON value as the change (the domain's `Change`, chat/change-feed.ts). */
export interface RedisChangeFeed<T> {
  publish(change: T): void
  listen(listener: (change: T) => void): void
}

/** @example const feed = createRedisChangeFeed<Change>(link, nodeId, log) */
export function createRedisChangeFeed<T>(
  link: RedisLink,
  nodeId: string,
  log: Logger
): RedisChangeFeed<T> {
  const listeners: Array<(change: T) => void> = []
  link
    .subscribe(CHANNEL, (message) => {
      try {
        const { node, change } = JSON.parse(message) as { node: string; change: T }
        if (node === nodeId) return
        for (const listener of listeners) listener(change)
      } catch (error) {
        log.error('bad change feed message', { error })
      }
    })
    .catch((error) => log.error('change feed subscribe failed', { error }))
  return {
    publish(change) {
      link
        .publish(CHANNEL, JSON.stringify({ node: nodeId, change }))
        .catch((error) => log.error('change feed publish failed', { error }))
    },
    listen(listener) {
      listeners.push(listener)
    },
  }
}
