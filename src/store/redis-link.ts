/**
 * @module Redis link: two Bun RedisClient connections (commands, and a subscriber, which may run
 * no other command), link-state watching, and re-subscription after a reconnect.
 *
 * Bun's client reconnects by itself but does not restore SUBSCRIBE on the new connection and does
 * not call `onclose` for a dropped link it is retrying (measured on Bun 1.4.5), so the link polls
 * `connected`, logs each transition once, and re-sends SUBSCRIBE for every channel when it is back.
 */
import { RedisClient } from 'bun'
import type { Logger } from '../log.ts'
import {
  type ByteListener,
  type ByteSubscriber,
  createByteSubscriber,
} from './redis-byte-subscriber.ts'

export interface RedisLinkOptions {
  url: string
  logger: Logger
  /** How often the link state is sampled. */
  watchMs?: number
  /** Called on every up/down transition. */
  onState?: (up: boolean) => void
}

export interface RedisLink {
  /** The command connection (presence, node registry). */
  readonly commands: RedisClient
  readonly up: boolean
  publish(channel: string, message: string): Promise<number>
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  /**
   * Subscriptions that keep each message as bytes (what the Socket.IO emitter publishes), all on
   * one more connection, opened at the first of them (redis-byte-subscriber.ts).
   */
  subscribeBytes(channel: string, listener: ByteListener): void
  psubscribeBytes(pattern: string, listener: ByteListener): void
  unsubscribeBytes(channelOrPattern: string): void
  /** PUBSUB NUMSUB: how many connections subscribe to `channel`. */
  numsub(channel: string): Promise<number>
  /** PING within `ms`; throws when Redis does not answer (readiness). */
  ping(ms?: number): Promise<void>
  close(): void
}

/** Rejects after `ms` so a request never waits on the offline queue of a dead link. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from Redis in ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Connects both clients; resolves once both answered, rejects (bad URL, refused) at start-up.
 * @example const link = await connectRedis({ url: config.REDIS_URL, logger: log })
 */
export async function connectRedis({
  url,
  logger,
  watchMs = 250,
  onState,
}: RedisLinkOptions): Promise<RedisLink> {
  const log = logger.child('redis')
  const options = { connectionTimeout: 5_000, maxRetries: 4_294_967_295 }
  const commands = new RedisClient(url, options)
  const subscriber = new RedisClient(url, options)
  await withTimeout(Promise.all([commands.connect(), subscriber.connect()]), 5_000, 'connect')
  const channels = new Set<string>()
  let bytes: ByteSubscriber | undefined
  const byteSubscriber = () => {
    bytes ??= createByteSubscriber({ url, logger })
    return bytes
  }
  let up = true
  let closed = false
  onState?.(true)

  const resubscribe = async () => {
    for (const channel of channels) {
      // Raw SUBSCRIBE: the listener registered by subscribe() is still in place client-side.
      await subscriber.send('SUBSCRIBE', [channel])
    }
  }

  const watch = setInterval(() => {
    const now = commands.connected && subscriber.connected
    if (now === up || closed) return
    up = now
    if (now) {
      log.info('redis link up again')
      resubscribe().catch((error) => log.error('re-subscribe failed', { error }))
    } else {
      log.warn('redis link down; retrying', { url: redactUrl(url) })
    }
    onState?.(now)
  }, watchMs)
  watch.unref?.()

  return {
    commands,
    get up() {
      return up
    },
    publish: (channel, message) => commands.publish(channel, message),
    async subscribe(channel, listener) {
      channels.add(channel)
      return subscriber.subscribe(channel, (message) => listener(message))
    },
    async unsubscribe(channel) {
      channels.delete(channel)
      if (!subscriber.connected) return
      return subscriber.unsubscribe(channel)
    },
    subscribeBytes: (channel, listener) => byteSubscriber().subscribe(channel, listener),
    psubscribeBytes: (pattern, listener) => byteSubscriber().psubscribe(pattern, listener),
    unsubscribeBytes: (name) => bytes?.unsubscribe(name),
    async numsub(channel) {
      const reply = (await commands.send('PUBSUB', ['NUMSUB', channel])) as unknown[]
      return Number(reply[1] ?? 0)
    },
    async ping(ms = 1_000) {
      await withTimeout(commands.send('PING', []), ms, 'PING')
    },
    close() {
      closed = true
      clearInterval(watch)
      commands.close()
      subscriber.close()
      bytes?.close()
    },
  }
}

/** The URL without its password, for logs. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'redis://?'
  }
}
