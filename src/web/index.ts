/**
 * @module What the server needs to serve the web client and the docs: Bun HTML bundles and the
 * socket events reference as AsyncAPI.
 * @example
 * import { webDocs, webIndex } from './web/index.ts'
 * Bun.serve({ routes: { '/': webIndex, '/docs': webDocs }, fetch, websocket })
 */

export { default as webDocs } from './docs.html'
export { asyncApiDocument } from './events-docs.ts'
export { default as webIndex } from './index.html'

import serviceWorkerSource from './sw.js' with { type: 'text' }

/** The service worker's source, served as is at /sw.js (it must come from this origin). */
export const serviceWorker: string = serviceWorkerSource
