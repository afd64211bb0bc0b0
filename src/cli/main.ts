#!/usr/bin/env node
/**
 * The `sluice` command:
 *
 *   sluice bench [--quick | --full] [--scenario NAME] [--out DIR] [--data-dir DIR]
 *   sluice bench compare A B        ratios between two results.json files (or run folders)
 *   sluice broker --data-dir D      the log over the Kafka wire protocol (broker-command.ts)
 *   sluice agent -f F -n NAME       one Flume agent of a properties file (agent-command.ts)
 *   sluice pipeline -f F            a broker and the agents of one file (pipeline-command.ts)
 *
 * Parsing is commander's; the work is in bench/ and src/. Operating errors (SluiceError) print their code
 * and message and exit 1; anything else is a bug and keeps its stack trace.
 */
import { Command, Option } from 'commander'
import { isSluiceError } from '../errors.js'
import { runBenchCommand, runCompareCommand } from './bench-command.js'
import { registerAgentCommand } from './agent-command.js'
import { registerBrokerCommand } from './broker-command.js'
import { registerPipelineCommand } from './pipeline-command.js'

function program(): Command {
  const root = new Command('sluice')
    .description('A streaming log and ingest agent: Kafka\'s log and Flume\'s agents')
  const bench = root.command('bench')
    .description('measure throughput and push-versus-pull latency beside this machine\'s limits')
    .addOption(new Option('--quick', 'the short set (default; what npm run bench runs)')
      .conflicts('full'))
    .addOption(new Option('--full', 'every combination of size, partitions, durability, codec'))
    .option('--scenario <name>', 'run only cases whose name starts with this ' +
      '(append, read, latency, micro, peers, or e.g. append/1KiB/p8/fsync/none)')
    .option('--out <dir>', 'where to write <timestamp>/results.json and report.html',
      'bench-results')
    .option('--data-dir <dir>', 'scratch directory for the engine (default: a new temp dir)')
    .action(async (options: { full?: boolean; scenario?: string; out: string;
      dataDir?: string }) => {
      await runBenchCommand({ mode: options.full === true ? 'full' : 'quick',
        scenario: options.scenario ?? null, outRoot: options.out,
        ...(options.dataDir === undefined ? {} : { dataRoot: options.dataDir }) })
    })
  bench.command('compare')
    .description('print B/A for every figure two runs share')
    .argument('<a>', 'results.json (or its folder) of the baseline run')
    .argument('<b>', 'results.json (or its folder) of the run to compare')
    .action((a: string, b: string) => runCompareCommand(a, b))
  registerBrokerCommand(root)
  registerAgentCommand(root)
  registerPipelineCommand(root)
  return root
}

try {
  await program().parseAsync(process.argv)
} catch (error) {
  if (!isSluiceError(error)) throw error
  process.stderr.write(`sluice: ${error.code}: ${error.message}\n`)
  process.exitCode = 1
}
