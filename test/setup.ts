/**
 * @module Preloaded before every test file (bunfig.toml): suites start real servers, sockets and
 * databases, so each test gets 20 s on a slow 2-core machine instead of bun's default 5 s.
 * (bunfig's own `[test] timeout` is not read by bun, so it is set here.)
 */
import { setDefaultTimeout } from 'bun:test'

setDefaultTimeout(20_000)
