/**
 * @module A redis-server on 127.0.0.1 with nothing persisted, as the scale tests (test/scale/
 * cluster.ts) and the bench (bench/redis.ts) each start one: its command line, and the wait
 * until it accepts connections.
 */
import type { Subprocess } from 'bun'

/** The command line of a throwaway redis-server on `port`: loopback only, no RDB, no AOF. */
export const redisServerCommand = (binary: string, port: number): string[] => [
  binary,
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
]

/**
 * Resolves once the spawned server (stdout piped) says it accepts connections, then drains its
 * stdout; rejects with the end of its output if it exits first.
 */
export async function untilRedisReady(proc: Subprocess): Promise<void> {
  const stdout = proc.stdout as ReadableStream<Uint8Array>
  const reader = stdout.getReader()
  let seen = ''
  while (!seen.includes('Ready to accept connections')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`redis-server exited: ${seen.trim().slice(-300)}`)
    seen += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  void stdout.pipeTo(new WritableStream())
}
