/** @module sw.js is imported as text (its source, served at /sw.js), never run on the server. */
declare const source: string
export default source
