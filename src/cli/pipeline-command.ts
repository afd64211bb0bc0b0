/**
 * `sluice pipeline`: runs the broker and the agents a pipeline file names, in one process, until
 * SIGINT or SIGTERM (src/flow/pipeline/pipeline.ts says what a pipeline file holds).
 *
 *   sluice pipeline --conf-file F [--validate] [--strict]
 *
 * `--validate` loads and validates every agent and the pipeline keys, prints what would run and
 * exits. On a signal the agents stop (reverse order), then the broker, then the log, and the
 * process exits 0; a second signal exits at once.
 */
import { Command } from 'commander'
import { describeGraph } from '../flow/config/load.js'
import { consoleLogger } from '../flow/event.js'
import { Pipeline } from '../flow/pipeline/pipeline.js'
import { runUntilSignal } from './run-until-signal.js'

interface PipelineCommandOptions {
  confFile: string
  validate?: boolean
  strict?: boolean
}

async function runPipeline(options: PipelineCommandOptions): Promise<void> {
  const pipeline = Pipeline.fromFile(options.confFile, {
    strict: options.strict === true, logger: consoleLogger,
  })
  if (options.validate === true) {
    const { dataDir, broker } = pipeline.config
    process.stdout.write(`pipeline ${options.confFile}\n  log: ${dataDir ?? 'none'}\n` +
      `  broker: ${broker === null ? 'none' : `${broker.host}:${broker.port}`}\n`)
    for (const agent of pipeline.agents) process.stdout.write(describeGraph(agent.graph))
    return
  }
  await runUntilSignal('pipeline', () => pipeline.start(), () => pipeline.stop())
}

export function registerPipelineCommand(root: Command): void {
  root.command('pipeline')
    .description('run an embedded broker and the agents of one file in one process')
    .requiredOption('-f, --conf-file <file>', 'the pipeline file (Flume properties)')
    .option('--validate', 'print what would run and exit')
    .option('--strict', 'refuse to start on the first configuration problem')
    .action(runPipeline)
}
