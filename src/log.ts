/** @module Logger: structured JSON lines, one child per module ('realtime:engine'). */

type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(module: string): Logger
}

export interface LoggerOptions {
  level?: LogLevel
  /** Fields on every line (e.g. the node id). */
  base?: Record<string, unknown>
  write?: (line: string) => void
}

function serialize(value: unknown): unknown {
  if (value instanceof Error)
    return { name: value.name, message: value.message, stack: value.stack }
  return value
}

/**
 * @example const log = createLogger({ level: 'info' }).child('http')
 */
export function createLogger({
  level = 'info',
  base = {},
  write = (line) => process.stderr.write(`${line}\n`),
}: LoggerOptions = {}): Logger {
  const threshold = RANK[level]
  const emit = (
    lvl: Exclude<LogLevel, 'silent'>,
    msg: string,
    fields?: Record<string, unknown>
  ) => {
    if (RANK[lvl] < threshold) return
    const entry: Record<string, unknown> = {
      time: new Date().toISOString(),
      level: lvl,
      ...base,
      msg,
    }
    if (fields) for (const [key, value] of Object.entries(fields)) entry[key] = serialize(value)
    write(JSON.stringify(entry))
  }
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (module) =>
      createLogger({
        level,
        write,
        base: { ...base, module: base.module ? `${base.module}:${module}` : module },
      }),
  }
}

/** A logger that writes nothing (library default). */
export const SILENT_LOGGER: Logger = createLogger({ level: 'silent' })
