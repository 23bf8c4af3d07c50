/** @module Free TCP ports on 127.0.0.1, for the servers the tests start as processes. */
import { createServer } from 'node:net'

/** Asks the OS for a port nothing listens on (a process started next can take it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port'))
      )
    })
  })
}
