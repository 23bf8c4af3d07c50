/**
 * @module A Redis pattern subscriber that keeps each message as bytes. Bun's RedisClient hands
 * every pub/sub message over as a string (its binary subscriptions are not implemented in 1.4: a
 * msgpack message arrives with each byte over 0x7f turned into U+FFFD) and has no PSUBSCRIBE,
 * while the Socket.IO emitter publishes msgpack on `socket.io#/#` and one channel per room. So
 * this speaks RESP2 itself on one TCP (or TLS) connection: AUTH, SUBSCRIBE, PSUBSCRIBE and their
 * pushes, reconnecting and subscribing again by itself while it is open. One connection for all
 * its channels, so messages published one after another arrive in that order whatever the channel
 * (an emitter's `socketsJoin` before its `emit`).
 */
import type { Socket } from 'bun'
import type { Logger } from '../log.ts'

export type ByteListener = (message: Uint8Array, channel: string) => void

export interface ByteSubscriber {
  subscribe(channel: string, listener: ByteListener): void
  psubscribe(pattern: string, listener: ByteListener): void
  unsubscribe(channelOrPattern: string): void
  close(): void
}

type Reply = string | number | Uint8Array | Error | null | Reply[]

const CRLF = '\r\n'
const decoder = new TextDecoder()

/** One RESP2 command as bytes (every argument a bulk string). */
function command(args: string[]): Uint8Array {
  let text = `*${args.length}${CRLF}`
  for (const arg of args) text += `$${Buffer.byteLength(arg)}${CRLF}${arg}${CRLF}`
  return Buffer.from(text)
}

/** Reads one reply at `at`; undefined when the buffer holds only part of it. */
function readReply(buf: Uint8Array, at: number): { value: Reply; end: number } | undefined {
  const lineEnd = buf.indexOf(0x0d, at)
  if (lineEnd === -1 || lineEnd + 1 >= buf.length) return undefined
  const line = decoder.decode(buf.subarray(at + 1, lineEnd))
  const next = lineEnd + 2
  switch (buf[at]) {
    case 0x2b: // + simple string
      return { value: line, end: next }
    case 0x2d: // - error
      return { value: new Error(line), end: next }
    case 0x3a: // : integer
      return { value: Number(line), end: next }
    case 0x24: {
      // $ bulk string, kept as bytes
      const length = Number(line)
      if (length < 0) return { value: null, end: next }
      if (next + length + 2 > buf.length) return undefined
      return { value: buf.slice(next, next + length), end: next + length + 2 }
    }
    case 0x2a: {
      // * array
      const count = Number(line)
      const items: Reply[] = []
      let end = next
      for (let i = 0; i < count; i++) {
        const item = readReply(buf, end)
        if (!item) return undefined
        items.push(item.value)
        end = item.end
      }
      return { value: count < 0 ? null : items, end }
    }
    default:
      throw new Error('not a RESP reply')
  }
}

const text = (value: Reply | undefined) =>
  value instanceof Uint8Array ? decoder.decode(value) : String(value)

/**
 * @example
 * const sub = createByteSubscriber({ url: 'redis://127.0.0.1:6379', logger })
 * sub.psubscribe('socket.io#/#*', (bytes, channel) => handle(decode(bytes), channel))
 */
export function createByteSubscriber({
  url,
  logger,
  retryMs = 500,
}: {
  url: string
  logger: Logger
  retryMs?: number
}): ByteSubscriber {
  const log = logger.child('redis-bytes')
  const target = new URL(url)
  const tls = target.protocol === 'rediss:' || target.protocol === 'valkeys:'
  const channels = new Map<string, ByteListener>()
  const patterns = new Map<string, ByteListener>()
  let socket: Socket | undefined
  let pending = new Uint8Array(0)
  let closed = false
  let opening = false
  let retry: ReturnType<typeof setTimeout> | undefined

  const send = (args: string[]) => socket?.write(command(args))

  const onReply = (reply: Reply) => {
    if (reply instanceof Error) {
      log.error('redis refused a subscriber command', { error: reply.message })
      return
    }
    if (!Array.isArray(reply)) return
    // ['message', channel, data] or ['pmessage', pattern, channel, data]; the rest are confirmations.
    const kind = text(reply[0])
    const pattern = kind === 'pmessage'
    if (!pattern && kind !== 'message') return
    const listener = (pattern ? patterns : channels).get(text(reply[1]))
    const channel = text(reply[pattern ? 2 : 1])
    const message = reply[pattern ? 3 : 2]
    if (listener && message instanceof Uint8Array) {
      try {
        listener(message, channel)
      } catch (error) {
        log.error('subscription listener threw', { error })
      }
    }
  }

  const onData = (chunk: Uint8Array) => {
    const joined = new Uint8Array(pending.length + chunk.length)
    joined.set(pending)
    joined.set(chunk, pending.length)
    let at = 0
    try {
      for (let reply = readReply(joined, at); reply; reply = readReply(joined, at)) {
        at = reply.end
        onReply(reply.value)
      }
    } catch (error) {
      log.error('unreadable reply from redis; reconnecting', { error })
      socket?.end()
      return
    }
    pending = joined.slice(at)
  }

  const scheduleRetry = () => {
    socket = undefined
    if (closed || retry) return
    retry = setTimeout(() => {
      retry = undefined
      void open()
    }, retryMs)
    retry.unref?.()
  }

  async function open(): Promise<void> {
    if (closed || opening) return
    opening = true
    pending = new Uint8Array(0)
    try {
      socket = await Bun.connect({
        hostname: target.hostname.replace(/^\[|\]$/g, ''),
        port: Number(target.port || 6379),
        tls,
        socket: {
          data: (_socket, chunk) => onData(chunk),
          close: () => scheduleRetry(),
          error: (_socket, error) => log.warn('subscriber connection failed', { error }),
        },
      })
    } catch (error) {
      log.warn('subscriber could not connect; retrying', { error })
      scheduleRetry()
      return
    } finally {
      opening = false
    }
    if (closed) {
      socket.end()
      return
    }
    const password = decodeURIComponent(target.password)
    const username = decodeURIComponent(target.username)
    if (password) send(username ? ['AUTH', username, password] : ['AUTH', password])
    // Patterns first: once a channel shows in PUBSUB NUMSUB, every pattern is in place too.
    if (patterns.size > 0) send(['PSUBSCRIBE', ...patterns.keys()])
    if (channels.size > 0) send(['SUBSCRIBE', ...channels.keys()])
  }

  /** Subscribes now when connected; otherwise `open` subscribes everything once it is. */
  const add = (verb: 'SUBSCRIBE' | 'PSUBSCRIBE', name: string) => {
    if (socket) send([verb, name])
    else if (!retry) void open()
  }

  return {
    subscribe(channel, listener) {
      channels.set(channel, listener)
      add('SUBSCRIBE', channel)
    },
    psubscribe(pattern, listener) {
      patterns.set(pattern, listener)
      add('PSUBSCRIBE', pattern)
    },
    unsubscribe(name) {
      if (channels.delete(name)) send(['UNSUBSCRIBE', name])
      if (patterns.delete(name)) send(['PUNSUBSCRIBE', name])
    },
    close() {
      closed = true
      clearTimeout(retry)
      socket?.end()
      socket = undefined
    },
  }
}
