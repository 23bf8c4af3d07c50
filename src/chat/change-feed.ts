/**
 * @module Change feed: how one node tells the others that moderation state changed (a city, its
 * moderators, a user's restrictions, the word filter, who chose `all` in a city, the registered webhooks), so each reloads
 * that piece into memory and
 * the send path keeps reading memory only. With Redis it is a pub/sub channel
 * (store/change-feed-redis.ts); on one node nothing needs telling.
 */

/** What changed; every node reloads exactly that from the database. */
type Change =
  | { kind: 'city'; cityId: string }
  | { kind: 'moderators'; cityId: string }
  | { kind: 'restrictions'; cityId: string; userId: string }
  | { kind: 'filter' }
  | { kind: 'notification-setting'; cityId: string; userId: string }
  | { kind: 'webhooks' }

export interface ChangeFeed {
  /** Tells the other nodes (not this one: the caller applied the change here already). */
  publish(change: Change): void
  /** Called for every change another node published. */
  listen(listener: (change: Change) => void): void
}

/** One node: there is nobody to tell. */
export const SINGLE_NODE: ChangeFeed = { publish() {}, listen() {} }
