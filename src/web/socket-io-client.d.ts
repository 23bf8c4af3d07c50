/**
 * @module Types for socket.io-client's self-contained browser build (dist/socket.io.js, an export
 * of the package). It is the same client as the package's main entry, typed the same way.
 */
declare module 'socket.io-client/dist/socket.io.js' {
  import type { io } from 'socket.io-client'

  const lookup: typeof io
  export default lookup
}
