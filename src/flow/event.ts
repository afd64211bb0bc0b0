/**
 * The event that flows through an agent: Flume's model exactly, string headers and a byte body,
 * nothing else (time lives in the `timestamp` header as epoch-millis text).
 */
export interface FlowEvent {
  headers: Record<string, string>
  body: Buffer
}

export function makeEvent(body: Buffer | string, headers: Record<string, string> = {})
  : FlowEvent {
  return { headers, body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body }
}

/** A logger the agent's components share; the CLI prints it, tests capture it. */
export interface FlowLogger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

export const consoleLogger: FlowLogger = {
  info: (message) => process.stdout.write(`${new Date().toISOString()} INFO ${message}\n`),
  warn: (message) => process.stderr.write(`${new Date().toISOString()} WARN ${message}\n`),
  error: (message) => process.stderr.write(`${new Date().toISOString()} ERROR ${message}\n`),
}

export const silentLogger: FlowLogger = {
  info: () => undefined, warn: () => undefined, error: () => undefined,
}
