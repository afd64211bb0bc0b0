/**
 * The long-running commands' lifecycle: start, then on SIGINT or SIGTERM stop cleanly and exit
 * 0; a second signal exits at once (130). A signal during start waits for the start to finish
 * (or fail) before stopping, so nothing starts after the stop went past it.
 */
import { consoleLogger } from '../flow/event.js'

export async function runUntilSignal(what: string, start: () => Promise<void>,
  stop: () => Promise<void>): Promise<void> {
  let stopping: Promise<void> | null = null
  let starting: Promise<void> = Promise.resolve()
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping !== null) process.exit(130)
    consoleLogger.info(`${signal}: stopping ${what}`)
    stopping = starting.catch(() => undefined).then(stop).then(() => process.exit(0))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  starting = start()
  await starting
}
