/**
 * Where the Kafka source and sink get their clients: one kafkajs-shaped face over two back
 * ends, chosen by `kafka.bootstrap.servers`.
 *
 *   host:port,host:port   kafkajs against a sluice broker or any Kafka cluster;
 *   embedded:<dataDir>    the process's shared embedded Sluice for that directory (no TCP hop),
 *                         leased from embedded-sluice.ts so `sluice pipeline` and every agent
 *                         in the process use one Log.
 *
 * sluice's embedded client is kafkajs-shaped (test/client/api-shape.ts proves the methods used
 * here), so the source and sink have one code path. Opening clients has no side effect beyond
 * taking the lease; each client connects when its owner connects it. `release()` gives the
 * lease back (the last one closes the embedded Sluice).
 */
import kafkajs from 'kafkajs'
import type * as Kafka from 'kafkajs'
import { lz4CompressFrame, lz4DecompressFrame } from '../../format/lz4-frame.js'
import type { FlowLogger } from '../event.js'
import { acquireEmbeddedSluice, embeddedDataDir } from './embedded-sluice.js'

export type KafkaProducerClient = Pick<Kafka.Producer, 'connect' | 'disconnect' | 'sendBatch'>
export type KafkaConsumerClient = Pick<Kafka.Consumer,
  'connect' | 'disconnect' | 'subscribe' | 'run' | 'commitOffsets' | 'on' | 'events'>
export type KafkaAdminClient = Pick<Kafka.Admin, 'connect' | 'disconnect' | 'listTopics'>

export interface KafkaClients {
  /** `embedded:<dir>` or the broker list, for messages. */
  readonly address: string
  readonly embedded: boolean
  producer(config: Kafka.ProducerConfig): KafkaProducerClient
  consumer(config: Kafka.ConsumerConfig): KafkaConsumerClient
  admin(): KafkaAdminClient
  release(): Promise<void>
}

export interface NetworkClientOptions {
  clientId: string
  /** Kafka's request.timeout.ms (kafkajs requestTimeout). */
  requestTimeoutMs?: number
  /** How the client retries connecting and refreshing metadata (kafkajs's retry). */
  retry?: Kafka.RetryOptions
}

/**
 * Largest LZ4 batch a kafkajs client here will inflate: a bound against decompression bombs,
 * 64× Kafka's default max.message.bytes (1 MiB), so real batches of repetitive logs still fit.
 */
const LZ4_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024

/**
 * kafkajs has no LZ4 codec of its own; Kafka's LZ4 is the standard frame, which format/'s
 * codec reads (bounded) and writes. Registered once, and never over a codec the program
 * registered itself.
 */
function registerLz4Codec(): void {
  const { CompressionCodecs, CompressionTypes } = kafkajs
  // kafkajs's own LZ4 entry is a factory that throws "not implemented".
  try {
    CompressionCodecs[CompressionTypes.LZ4]!()
    return
  } catch {
    // Not registered yet.
  }
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: { buffer: Buffer }) => lz4CompressFrame(encoder.buffer),
    decompress: async (buffer: Buffer) => lz4DecompressFrame(buffer, LZ4_MAX_DECOMPRESSED_BYTES),
  })
}

/** kafkajs's log entries into the agent's logger: errors and warnings, nothing chattier. */
function logCreatorFor(logger: FlowLogger, clientId: string): Kafka.logCreator {
  return () => ({ level, log }) => {
    const text = `kafka client ${clientId}: ${log.message}` +
      (log.error === undefined ? '' : ` (${String(log.error)})`)
    if (level <= kafkajs.logLevel.ERROR) logger.error(text)
    else if (level === kafkajs.logLevel.WARN) logger.warn(text)
  }
}

/**
 * kafkajs's own default retries a connect for ~9 s (5 tries, doubling from 300 ms) before a
 * caller hears of it. The source's supervisor and the sink runner already retry with Flume's
 * back-off, which a stop cuts short, so the client gives up sooner and lets them.
 */
const DEFAULT_CLIENT_RETRY: Kafka.RetryOptions = { retries: 2, initialRetryTime: 200 }

export function brokerList(bootstrapServers: string): string[] {
  return bootstrapServers.split(',').map((broker) => broker.trim()).filter((b) => b !== '')
}

export function openKafkaClients(bootstrapServers: string, options: NetworkClientOptions,
  logger: FlowLogger): KafkaClients {
  const dataDir = embeddedDataDir(bootstrapServers)
  if (dataDir !== null) {
    const lease = acquireEmbeddedSluice(dataDir)
    return {
      address: `embedded:${lease.dataDir}`, embedded: true,
      producer: (config) => lease.sluice.producer(config),
      consumer: (config) => lease.sluice.consumer(config),
      admin: () => lease.sluice.admin(),
      release: () => lease.release(),
    }
  }
  registerLz4Codec()
  const kafka = new kafkajs.Kafka({
    brokers: brokerList(bootstrapServers), clientId: options.clientId,
    logLevel: kafkajs.logLevel.WARN, logCreator: logCreatorFor(logger, options.clientId),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeout: options.requestTimeoutMs }),
    retry: options.retry ?? DEFAULT_CLIENT_RETRY,
  })
  return {
    address: bootstrapServers, embedded: false,
    producer: (config) => kafka.producer(config),
    consumer: (config) => kafka.consumer(config),
    admin: () => kafka.admin(),
    release: async () => undefined,
  }
}
