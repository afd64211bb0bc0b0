/**
 * kafkajs's logger shape: `logLevel` numbers (NOTHING 0, ERROR 1, WARN 2, INFO 4, DEBUG 5) and a
 * `logCreator(level) => (entry) => void`, so a kafkajs logCreator works unchanged. The default
 * writes JSON lines to stderr at WARN and above (kafkajs logs INFO; an embedded library should be
 * quieter by default).
 */

export const logLevel = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const
export type LogLevel = (typeof logLevel)[keyof typeof logLevel]

export interface LogEntry {
  namespace: string
  level: LogLevel
  label: string
  log: { timestamp: string; message: string; [key: string]: unknown }
}

export type LogCreator = (level: LogLevel) => (entry: LogEntry) => void

export interface Logger {
  info(message: string, extra?: object): void
  error(message: string, extra?: object): void
  warn(message: string, extra?: object): void
  debug(message: string, extra?: object): void
  namespace(namespace: string, level?: LogLevel): Logger
  setLogLevel(level: LogLevel): void
}

const LABELS: Record<number, string> = { 1: 'ERROR', 2: 'WARN', 4: 'INFO', 5: 'DEBUG' }

export const defaultLogCreator: LogCreator = () => (entry) => {
  process.stderr.write(`${JSON.stringify({ level: entry.label, logger: 'sluice',
    namespace: entry.namespace, ...entry.log })}\n`)
}

export function createLogger(options: { level?: LogLevel; logCreator?: LogCreator } = {})
  : Logger {
  const state = { level: options.level ?? logLevel.WARN }
  const write = (options.logCreator ?? defaultLogCreator)(state.level)
  const build = (namespace: string, ownLevel: LogLevel | null): Logger => {
    const log = (level: LogLevel) => (message: string, extra: object = {}) => {
      if (level > (ownLevel ?? state.level)) return
      write({ namespace, level, label: LABELS[level]!,
        log: { timestamp: new Date().toISOString(), message, ...extra } })
    }
    return {
      error: log(logLevel.ERROR),
      warn: log(logLevel.WARN),
      info: log(logLevel.INFO),
      debug: log(logLevel.DEBUG),
      namespace: (child, level) =>
        build(namespace ? `${namespace}.${child}` : child, level ?? null),
      setLogLevel: (level) => { state.level = level },
    }
  }
  return build('', null)
}
