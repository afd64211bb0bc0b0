/**
 * Flume hands every `kafka.consumer.*` / `kafka.producer.*` property to the Java client, which
 * warns about names it does not know. sluice maps the ones its kafkajs-shaped clients have an
 * equivalent for, refuses values it cannot honour (props.fail: the component is pruned, with
 * the key and what would be right), and warns about the rest, naming each, so a Flume file
 * still loads and nothing is ignored silently.
 *
 *   consumer                 →  client setting
 *   auto.offset.reset        →  subscribe fromBeginning (earliest | latest; none is refused)
 *   session.timeout.ms       →  sessionTimeout        heartbeat.interval.ms → heartbeatInterval
 *   max.poll.interval.ms     →  rebalanceTimeout      fetch.max.wait.ms     → maxWaitTimeInMs
 *   fetch.min.bytes          →  minBytes              fetch.max.bytes       → maxBytes
 *   max.partition.fetch.bytes → maxBytesPerPartition
 *   metadata.max.age.ms      →  how often a kafka.topics.regex is matched again
 *   producer
 *   acks                     →  send acks (1, 0, -1 | all)
 *   compression.type         →  send compression (none, gzip, lz4; snappy and zstd refused)
 *   retries, retry.backoff.ms →  retry.retries, retry.initialRetryTime
 *   both
 *   client.id, request.timeout.ms → the client's clientId, requestTimeout
 *   security.protocol        →  PLAINTEXT only (TLS and SASL are refused, not half-done)
 */
import kafkajs from 'kafkajs'
import type { Props } from '../config/props.js'
import type { FlowLogger } from '../event.js'

export interface CommonSettings {
  clientId: string | undefined
  requestTimeoutMs: number | undefined
}

export interface ConsumerSettings extends CommonSettings {
  fromBeginning: boolean
  sessionTimeoutMs: number | undefined
  heartbeatIntervalMs: number | undefined
  rebalanceTimeoutMs: number | undefined
  maxWaitTimeMs: number | undefined
  minBytes: number | undefined
  maxBytes: number | undefined
  maxBytesPerPartition: number | undefined
  metadataMaxAgeMs: number | undefined
}

export type Acks = -1 | 0 | 1

export interface ProducerSettings extends CommonSettings {
  acks: Acks
  compression: number
  compressionName: string
  retries: number | undefined
  retryBackoffMs: number | undefined
}

/** Settings Flume itself fixes or that sluice's design makes moot: noted, not warned about. */
const CONSUMER_MOOT = new Map([
  ['group.id', 'read as kafka.consumer.group.id'],
  ['enable.auto.commit', 'the source commits offsets after each channel commit, as Flume forces'],
  ['key.deserializer', 'keys are read as UTF-8 text, as Flume reads them'],
  ['value.deserializer', 'values are read as bytes, as Flume reads them'],
])
const PRODUCER_MOOT = new Map([
  ['linger.ms', 'each sink batch is sent and awaited at once, as Flume flushes it'],
  ['batch.size', 'each sink batch is sent as one request'],
  ['key.serializer', 'keys are written as UTF-8 text, as Flume writes them'],
  ['value.serializer', 'values are written as bytes, as Flume writes them'],
])

const COMPRESSION = new Map<string, number>([
  ['none', kafkajs.CompressionTypes.None], ['gzip', kafkajs.CompressionTypes.GZIP],
  ['lz4', kafkajs.CompressionTypes.LZ4],
])

function common(props: Props, prefix: string, name: string, settings: CommonSettings): boolean {
  const key = `${prefix}.${name}`
  switch (name) {
    case 'client.id':
      settings.clientId = props.required(key)
      return true
    case 'request.timeout.ms':
      settings.requestTimeoutMs = props.int(key, 30_000, 1)
      return true
    case 'security.protocol': {
      const protocol = props.required(key)
      if (protocol.toUpperCase() !== 'PLAINTEXT') {
        throw props.fail(key, `${protocol} is not supported by sluice's Kafka clients ` +
          '(only PLAINTEXT)')
      }
      return true
    }
    default:
      if (name.startsWith('ssl.') || name.startsWith('sasl.')) {
        throw props.fail(key, 'TLS and SASL settings are not supported by sluice\'s Kafka ' +
          'clients (only PLAINTEXT)')
      }
      return false
  }
}

function leftOver(props: Props, key: string, moot: Map<string, string>, name: string,
  logger: FlowLogger): void {
  props.raw(key)
  const why = moot.get(name)
  if (why !== undefined) {
    logger.info(`${props.fullKey(key)}: ${why}; not passed to the client`)
    return
  }
  logger.warn(`${props.fullKey(key)}: sluice's Kafka client has no such setting; ignored`)
}

export function consumerSettings(props: Props, logger: FlowLogger): ConsumerSettings {
  const prefix = 'kafka.consumer'
  const settings: ConsumerSettings = {
    clientId: undefined, requestTimeoutMs: undefined, fromBeginning: false,
    sessionTimeoutMs: undefined, heartbeatIntervalMs: undefined, rebalanceTimeoutMs: undefined,
    maxWaitTimeMs: undefined, minBytes: undefined, maxBytes: undefined,
    maxBytesPerPartition: undefined, metadataMaxAgeMs: undefined,
  }
  for (const name of props.under(prefix)) {
    const key = `${prefix}.${name}`
    if (common(props, prefix, name, settings)) continue
    switch (name) {
      case 'auto.offset.reset': {
        const reset = props.required(key).toLowerCase()
        if (reset !== 'earliest' && reset !== 'latest') {
          throw props.fail(key, `expected earliest or latest, got ${JSON.stringify(reset)}` +
            (reset === 'none' ? ' (sluice\'s clients cannot refuse a group without offsets)' : ''))
        }
        settings.fromBeginning = reset === 'earliest'
        break
      }
      case 'session.timeout.ms': settings.sessionTimeoutMs = props.int(key, 0, 1); break
      case 'heartbeat.interval.ms': settings.heartbeatIntervalMs = props.int(key, 0, 1); break
      case 'max.poll.interval.ms': settings.rebalanceTimeoutMs = props.int(key, 0, 1); break
      case 'fetch.max.wait.ms': settings.maxWaitTimeMs = props.int(key, 0, 0); break
      case 'fetch.min.bytes': settings.minBytes = props.int(key, 0, 0); break
      case 'fetch.max.bytes': settings.maxBytes = props.int(key, 0, 1); break
      case 'max.partition.fetch.bytes': settings.maxBytesPerPartition = props.int(key, 0, 1); break
      case 'metadata.max.age.ms': settings.metadataMaxAgeMs = props.int(key, 0, 1); break
      default: leftOver(props, key, CONSUMER_MOOT, name, logger)
    }
  }
  const { sessionTimeoutMs, heartbeatIntervalMs } = settings
  if ((heartbeatIntervalMs ?? 3000) >= (sessionTimeoutMs ?? 30_000)) {
    throw props.fail('kafka.consumer.heartbeat.interval.ms', `must be lower than ` +
      `session.timeout.ms (${heartbeatIntervalMs ?? 3000} ≥ ${sessionTimeoutMs ?? 30_000})`)
  }
  return settings
}

function parseAcks(props: Props, key: string): Acks {
  const written = props.string(key, '1').trim().toLowerCase()
  if (written === 'all' || written === '-1') return -1
  if (written === '0' || written === '1') return Number(written) as Acks
  throw props.fail(key, `expected 0, 1, -1 or all, got ${JSON.stringify(written)}`)
}

export function producerSettings(props: Props, logger: FlowLogger): ProducerSettings {
  const prefix = 'kafka.producer'
  const settings: ProducerSettings = {
    clientId: undefined, requestTimeoutMs: undefined, acks: parseAcks(props, `${prefix}.acks`),
    compression: kafkajs.CompressionTypes.None, compressionName: 'none',
    retries: undefined, retryBackoffMs: undefined,
  }
  for (const name of props.under(prefix)) {
    const key = `${prefix}.${name}`
    if (name === 'acks' || common(props, prefix, name, settings)) continue
    switch (name) {
      case 'compression.type': {
        const codec = props.required(key).trim().toLowerCase()
        const id = COMPRESSION.get(codec)
        if (id === undefined) {
          throw props.fail(key, `expected none, gzip or lz4, got ${JSON.stringify(codec)}` +
            (codec === 'snappy' || codec === 'zstd' ? ' (sluice cannot decode it)' : ''))
        }
        settings.compression = id
        settings.compressionName = codec
        break
      }
      case 'retries': settings.retries = props.int(key, 0, 0); break
      case 'retry.backoff.ms': settings.retryBackoffMs = props.int(key, 0, 1); break
      case 'transactional.id':
        throw props.fail(key, 'Kafka transactions are not supported by sluice\'s Kafka sink')
      default: leftOver(props, key, PRODUCER_MOOT, name, logger)
    }
  }
  return settings
}
