/**
 * `sluice broker`: the Kafka wire-protocol broker as a process.
 *
 *   sluice broker --data-dir D [--listen 127.0.0.1:9092] [--advertised-listener host:port]
 *                 [--auto-create-topics | --no-auto-create-topics] [--default-partitions N]
 *                 [--default-durability fsync|os|memory] [--max-request-bytes N]
 *
 * It opens the Log, the group coordinator (offsets in `__consumer_offsets`) and the broker,
 * prints one line `sluice broker listening on HOST:PORT` on stdout once clients may connect,
 * and on SIGINT or SIGTERM closes the broker, then the coordinator, then the Log, so every
 * partition writes its clean-shutdown marker before the process exits.
 */
import { Command, Option } from 'commander'
import { Log } from '../engine/log.js'
import type { Durability } from '../engine/types.js'
import { SluiceError } from '../errors.js'
import { parseHostPort, type HostPort } from '../host-port.js'
import { GroupCoordinator } from '../groups/coordinator.js'
import { LogOffsetStore } from '../groups/offset-store.js'
import {
  DEFAULT_MAX_REQUEST_BYTES, startBroker, stderrLogger, type KafkaBroker,
} from '../kafka/index.js'

interface BrokerCommandOptions {
  dataDir: string
  listen: string
  advertisedListener?: string
  autoCreateTopics: boolean
  defaultPartitions: string
  defaultDurability?: Durability
  maxRequestBytes: string
}

export function registerBrokerCommand(root: Command): void {
  root.command('broker')
    .description('serve the log over the Kafka wire protocol')
    .requiredOption('--data-dir <dir>', 'directory of the log')
    .option('--listen <host:port>', 'address to listen on (loopback by default)',
      '127.0.0.1:9092')
    .option('--advertised-listener <host:port>', 'address clients are told to connect to')
    .option('--auto-create-topics', 'create unknown topics on Metadata and Produce (default)')
    .option('--no-auto-create-topics', 'answer UNKNOWN_TOPIC_OR_PARTITION instead')
    .option('--default-partitions <n>', 'partitions of auto-created topics (num.partitions)', '1')
    .addOption(new Option('--default-durability <mode>', 'durability of topics the broker ' +
      'creates (default: the log\'s, fsync)').choices(['fsync', 'os', 'memory']))
    .option('--max-request-bytes <n>', 'largest request frame accepted',
      String(DEFAULT_MAX_REQUEST_BYTES))
    .action((options: BrokerCommandOptions) => runBroker(options))
}

async function runBroker(options: BrokerCommandOptions): Promise<void> {
  // Every flag is checked before the log opens: a bad one must not leave shard threads behind.
  const listen = hostPortFlag(options.listen, '--listen')
  const advertised = options.advertisedListener === undefined ? null
    : hostPortFlag(options.advertisedListener, '--advertised-listener')
  const defaultPartitions = positiveInteger(options.defaultPartitions, '--default-partitions')
  const maxRequestBytes = positiveInteger(options.maxRequestBytes, '--max-request-bytes')
  const log = await Log.open({ dataDir: options.dataDir })
  let coordinator: GroupCoordinator | null = null
  let broker: KafkaBroker
  try {
    coordinator = await GroupCoordinator.open({ store: await LogOffsetStore.open(log) })
    broker = await startBroker({
      log, coordinator, host: listen.host, port: listen.port,
      ...(advertised === null ? {} : { advertisedHost: advertised.host,
        advertisedPort: advertised.port }),
      autoCreateTopics: options.autoCreateTopics, defaultPartitions,
      topicDefaults: options.defaultDurability === undefined ? {}
        : { durability: options.defaultDurability },
      maxRequestBytes, logger: stderrLogger('info'),
    })
  } catch (error) {
    // A port in use, say: close cleanly, so the process exits with the error.
    coordinator?.close()
    await log.close()
    throw error
  }
  process.stdout.write(`sluice broker listening on ${broker.address}:${broker.port}\n`)
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stderr.write(`sluice broker: ${signal}, shutting down\n`)
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  await broker.close()
  coordinator.close()
  await log.close()
  process.stderr.write('sluice broker: log closed cleanly\n')
}

function hostPortFlag(value: string, flag: string): HostPort {
  const parsed = parseHostPort(value)
  if (parsed === null) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG', `${flag} must be host:port, got ${value}`)
  }
  return parsed
}

function positiveInteger(value: string, flag: string): number {
  const number = Number(value)
  if (!Number.isInteger(number) || number < 1) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG',
      `${flag} must be a positive integer, got ${value}`)
  }
  return number
}
