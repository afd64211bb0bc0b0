/**
 * The broker's logger: JSON lines on stderr by default, or any object with the same methods
 * (tests capture entries to check the reason a connection was closed).
 */

export interface BrokerLogger {
  info(message: string, extra?: object): void
  warn(message: string, extra?: object): void
  error(message: string, extra?: object): void
}

export type BrokerLogLevel = 'info' | 'warn' | 'error' | 'silent'

const RANK: Record<BrokerLogLevel, number> = { info: 1, warn: 2, error: 3, silent: 4 }

export function stderrLogger(level: BrokerLogLevel = 'info'): BrokerLogger {
  const write = (label: Exclude<BrokerLogLevel, 'silent'>) =>
    (message: string, extra: object = {}) => {
      if (RANK[label] < RANK[level]) return
      process.stderr.write(`${JSON.stringify({ level: label, logger: 'sluice.kafka',
        time: new Date().toISOString(), message, ...extra })}\n`)
    }
  return { info: write('info'), warn: write('warn'), error: write('error') }
}
