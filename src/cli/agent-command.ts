/**
 * `sluice agent`: runs one agent of a Flume properties file until SIGINT or SIGTERM.
 *
 *   sluice agent --conf-file F --name a1 [--conf-dir D] [--validate] [--strict]
 *                [--metrics-port P] [--reload-interval S | --no-reload-conf]
 *
 * Flume's spellings work too: `-f`, `-n`, `-c` / `--conf`, and Flume's monitoring properties
 * `-Dflume.monitoring.type=http -Dflume.monitoring.port=P` (the same as --metrics-port P; other
 * -D properties are JVM settings with no meaning here, and are reported and ignored). A
 * relative --conf-file that does not
 * exist is looked up in --conf-dir. `--validate` prints the resolved graph (after pruning, with
 * the warnings) and exits; `--strict` refuses on the first problem. On a signal the agent stops
 * cleanly (sources, then sinks, then channels) and the process exits 0; a second signal exits
 * at once. While it runs, the file is polled every --reload-interval seconds (Flume's 30 by
 * default; Flume 1.10's `-i` / `--poll-interval` also work) and a change restarts only the
 * components it touches (src/flow/reload/); `--no-reload-conf` turns that off, as in Flume.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Command, Option } from 'commander'
import { SluiceError } from '../errors.js'
import { Agent } from '../flow/agent.js'
import { describeGraph } from '../flow/config/load.js'
import { consoleLogger } from '../flow/event.js'
import { runUntilSignal } from './run-until-signal.js'
import { FLUME_POLL_INTERVAL_MS } from '../flow/reload/config-watcher.js'

interface AgentCommandOptions {
  confFile: string
  name: string
  confDir?: string
  conf?: string
  validate?: boolean
  strict?: boolean
  metricsPort?: string
  define: string[]
  reloadConf: boolean
  reloadInterval?: string
  pollInterval?: string
}

function resolveConfFile(file: string, confDir: string | undefined): string {
  if (path.isAbsolute(file) || confDir === undefined || fs.existsSync(file)) return file
  return path.join(confDir, file)
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const port = Number(text)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG',
      `--metrics-port must be an integer in 0..65535, got ${text}`)
  }
  return port
}

/** --reload-interval (or Flume's --poll-interval) in seconds; fractions are allowed. */
function reloadIntervalMsOf(options: AgentCommandOptions): number {
  const text = options.reloadInterval ?? options.pollInterval
  if (text === undefined) return FLUME_POLL_INTERVAL_MS
  const seconds = Number(text)
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG',
      `--reload-interval must be a number of seconds above 0, got ${text}`)
  }
  return Math.max(1, Math.round(seconds * 1000))
}

/** --metrics-port, or Flume's -Dflume.monitoring.type=http -Dflume.monitoring.port=P. */
function metricsPortOf(options: AgentCommandOptions): number | undefined {
  const defined = new Map(options.define.map((pair) => {
    const at = pair.indexOf('=')
    return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)]
  }))
  for (const key of defined.keys()) {
    if (!key.startsWith('flume.monitoring.')) consoleLogger.warn(`-D${key}: ignored`)
  }
  if (options.metricsPort !== undefined) return parsePort(options.metricsPort)
  if (defined.get('flume.monitoring.type')?.toLowerCase() !== 'http') return undefined
  return parsePort(defined.get('flume.monitoring.port') ?? '41414')
}

async function runAgent(options: AgentCommandOptions): Promise<void> {
  const file = resolveConfFile(options.confFile, options.confDir ?? options.conf)
  const metricsPort = metricsPortOf(options)
  const reloadIntervalMs = reloadIntervalMsOf(options)
  const agent = Agent.fromFile(file, {
    agentName: options.name, strict: options.strict === true, logger: consoleLogger,
    ...(metricsPort === undefined ? {} : { metricsPort }),
    ...(options.reloadConf ? { reload: { pollIntervalMs: reloadIntervalMs } } : {}),
  })
  if (options.validate === true) {
    process.stdout.write(describeGraph(agent.graph))
    return
  }
  await runUntilSignal(`agent ${agent.name}`, () => agent.start(), () => agent.stop())
  if (!options.reloadConf) consoleLogger.info(`not watching ${file} (--no-reload-conf)`)
  if (metricsPort !== undefined) consoleLogger.info(`metrics on port ${agent.metricsPort}`)
}

export function registerAgentCommand(root: Command): void {
  root.command('agent')
    .description('run a Flume-style agent (source → channel → sink) from a properties file')
    .requiredOption('-f, --conf-file <file>', 'the Flume properties file')
    .requiredOption('-n, --name <name>', 'which agent of the file to run')
    .option('-c, --conf-dir <dir>', 'directory a relative --conf-file is looked up in')
    .addOption(new Option('--conf <dir>', 'Flume\'s spelling of --conf-dir').hideHelp())
    .option('--validate', 'print the resolved graph and exit')
    .option('--strict', 'refuse to start on the first configuration problem')
    .option('--metrics-port <port>', 'serve Flume JSON on /metrics and Prometheus text on ' +
      '/metrics/prometheus')
    .option('-D, --define <property=value>', 'Flume\'s -Dflume.monitoring.type=http and ' +
      '-Dflume.monitoring.port=P', (pair: string, all: string[]) => [...all, pair], [])
    .option('--reload-interval <seconds>', 'how often the file is checked for changes ' +
      '(default 30)')
    .addOption(new Option('-i, --poll-interval <seconds>', 'Flume\'s spelling of ' +
      '--reload-interval').hideHelp())
    .option('--no-reload-conf', 'do not reload the file when it changes')
    .action(runAgent)
}
