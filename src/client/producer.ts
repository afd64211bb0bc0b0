/**
 * The kafkajs-shaped producer: `send` / `sendBatch` turn messages into records, pick partitions
 * with the (murmur2) partitioner, and hand them to the RecordAccumulator, which batches per
 * partition and appends to the Log. A send resolves once every batch holding its records is
 * durable as the topic promises, with one RecordMetadata per partition it touched (the offset of
 * its first record there), as kafkajs returns from a Kafka cluster.
 *
 * acks: −1 and 1 both wait for the log's acknowledgement (one node: the leader is everyone);
 * 0 also waits — an embedded append cannot be lost in flight, and waiting is how errors reach the
 * caller — but returns [] as kafkajs does. Messages the topic could never take (larger than its
 * maxMessageBytes) are refused before batching, so they cannot fail a batch shared with others.
 */
import type { CompressionName } from '../engine/types.js'
import { encodeBatch } from '../format/record-batch.js'
import type { EncodableHeader, EncodableRecord } from '../format/records.js'
import {
  KafkaJSError, KafkaJSNonRetriableError, KafkaJSNotImplemented, KafkaJSProtocolError,
  toKafkaJSError,
} from './errors.js'
import { Instrumentation, PRODUCER_EVENTS, type InstrumentationEvent } from './instrumentation.js'
import type { Logger } from './logger.js'
import { DefaultPartitioner, type Partitioner, type PartitionMetadata } from './partitioner.js'
import { RecordAccumulator, recordSizeUpperBound } from './record-accumulator.js'
import type { Runtime, TopicMetadata } from './runtime.js'
import type {
  IHeaders, Message, ProducerBatch, ProducerConfig, ProducerRecord, RecordMetadata,
} from './types.js'
import { BATCH_HEADER_BYTES } from '../format/batch-header.js'

const DEFAULT_BATCH_BYTES = 16 * 1024
const DEFAULT_MAX_BUFFERED_BYTES = 32 * 1024 * 1024
const MAX_LINGER_MS = 60_000
const CODECS: Record<number, CompressionName | 'Snappy' | 'ZSTD'> = {
  0: 'none', 1: 'gzip', 2: 'Snappy', 3: 'lz4', 4: 'ZSTD',
}
const MESSAGE_TOO_LARGE = 10
const INVALID_REQUIRED_ACKS = 21
const UNKNOWN_TOPIC_OR_PARTITION = 3

type Status = 'disconnected' | 'connected' | 'disconnecting'

export class SluiceProducer {
  readonly events = PRODUCER_EVENTS
  private readonly instrumentation: Instrumentation<typeof PRODUCER_EVENTS>
  private readonly partitioner: Partitioner
  private readonly options: Required<Pick<ProducerConfig, 'lingerMs' | 'batchBytes'
    | 'maxBufferedBytes' | 'allowAutoTopicCreation' | 'idempotent'>>
  private status: Status = 'disconnected'
  private runtime: Runtime | null = null
  private accumulator: RecordAccumulator | null = null

  constructor(
    private readonly openRuntime: () => Promise<Runtime>,
    config: ProducerConfig,
    private readonly log: Logger,
    private readonly onDisconnect: (producer: SluiceProducer) => void,
  ) {
    this.options = {
      lingerMs: checkInteger('lingerMs', config.lingerMs ?? 0, 0, MAX_LINGER_MS),
      batchBytes: checkInteger('batchBytes', config.batchBytes ?? DEFAULT_BATCH_BYTES, 1,
        256 * 1024 * 1024),
      maxBufferedBytes: checkInteger('maxBufferedBytes',
        config.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES, 1, Number.MAX_SAFE_INTEGER),
      allowAutoTopicCreation: config.allowAutoTopicCreation ?? true,
      idempotent: config.idempotent ?? false,
    }
    this.partitioner = (config.createPartitioner ?? DefaultPartitioner)()
    this.instrumentation = new Instrumentation(PRODUCER_EVENTS, log)
  }

  async connect(): Promise<void> {
    const runtime = await this.openRuntime().catch((error: unknown) => {
      throw toKafkaJSError(error)
    })
    this.runtime = runtime
    this.accumulator ??= new RecordAccumulator(
      { appendBatch: (t, p, b) => runtime.log.appendBatch(t, p, b) }, this.options)
    this.status = 'connected'
    this.instrumentation.emit(PRODUCER_EVENTS.CONNECT, null)
  }

  async disconnect(): Promise<void> {
    if (this.status === 'disconnected') return
    this.status = 'disconnecting'
    await this.accumulator?.flush()
    this.status = 'disconnected'
    this.onDisconnect(this)
    this.instrumentation.emit(PRODUCER_EVENTS.DISCONNECT, null)
  }

  isIdempotent(): boolean {
    return this.options.idempotent
  }

  on(eventName: string, listener: (event: InstrumentationEvent<any>) => unknown): () => void {
    return this.instrumentation.on(eventName, listener)
  }

  logger(): Logger {
    return this.log
  }

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (record === null || typeof record !== 'object') {
      return Promise.reject(new KafkaJSNonRetriableError('send() needs { topic, messages }'))
    }
    const { topic, messages, acks, timeout, compression } = record
    return this.sendBatch({ acks, timeout, compression, topicMessages: [{ topic, messages }] })
  }

  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    const { acks = -1, compression = 0, topicMessages = [] } = batch ?? {}
    validateTopicMessages(topicMessages)
    if (this.options.idempotent && acks !== -1) {
      throw new KafkaJSNonRetriableError(
        "Not requiring ack for all messages invalidates the idempotent producer's EoS guarantees")
    }
    this.checkStatus()
    if (acks !== -1 && acks !== 0 && acks !== 1) {
      throw new KafkaJSProtocolError(INVALID_REQUIRED_ACKS, `acks must be -1, 0 or 1, got ${acks}`)
    }
    const codec = codecName(compression)
    // Look up unknown topics first; after that, routing and batching run synchronously, so
    // sends issued together in one turn reach the accumulator (and share a batch) together.
    for (const { topic } of topicMessages) {
      if (this.runtime!.cachedTopic(topic) === undefined) {
        await this.runtime!.topic(topic, this.options.allowAutoTopicCreation)
      }
    }
    this.checkStatus()
    const perPartition = this.route(topicMessages)
    const results = await Promise.all([...perPartition.values()].map(async (group) => {
      try {
        const outcome = await this.accumulator!.append(group.topic, group.partition, codec,
          group.maxMessageBytes, group.records)
        return {
          topicName: group.topic, partition: group.partition, errorCode: 0,
          baseOffset: String(outcome.baseOffset), logAppendTime: '-1',
          logStartOffset: String(outcome.logStartOffset),
        }
      } catch (error) {
        const kafkaError = toKafkaJSError(error)
        if (kafkaError instanceof KafkaJSProtocolError
          && kafkaError.code === UNKNOWN_TOPIC_OR_PARTITION) this.runtime!.forgetTopic(group.topic)
        throw kafkaError
      }
    }))
    return acks === 0 ? [] : results
  }

  /** Groups the messages by topic and partition, refusing any the topic could never store. */
  private route(topicMessages: { topic: string; messages: Message[] }[])
    : Map<string, PartitionRecords> {
    const out = new Map<string, PartitionRecords>()
    for (const { topic, messages } of topicMessages) {
      const metadata = this.runtime!.cachedTopic(topic)
      if (metadata === undefined) {
        throw new KafkaJSProtocolError(UNKNOWN_TOPIC_OR_PARTITION, `topic "${topic}" was deleted`)
      }
      const partitionMetadata = partitionList(metadata)
      for (const message of messages) {
        const partition = this.partitioner({ topic, partitionMetadata, message })
        if (!Number.isInteger(partition) || partition < 0 || partition >= metadata.partitions) {
          throw new KafkaJSProtocolError(UNKNOWN_TOPIC_OR_PARTITION,
            `topic "${topic}" has partitions 0..${metadata.partitions - 1}, got ${partition}`)
        }
        const record = toRecord(topic, message)
        checkFits(topic, record, metadata)
        const key = `${topic}\u0000${partition}`
        let group = out.get(key)
        if (group === undefined) {
          group = { topic, partition, maxMessageBytes: metadata.maxMessageBytes, records: [] }
          out.set(key, group)
        }
        group.records.push(record)
      }
    }
    return out
  }

  private checkStatus(): void {
    if (this.status === 'disconnecting') {
      throw new KafkaJSNonRetriableError(
        "The producer is disconnecting; therefore, it can't safely accept messages anymore")
    }
    if (this.status === 'disconnected') throw new KafkaJSError('The producer is disconnected')
  }
}

interface PartitionRecords {
  topic: string
  partition: number
  maxMessageBytes: number
  records: EncodableRecord[]
}

const partitionLists = new Map<number, PartitionMetadata[]>()

function partitionList(metadata: TopicMetadata): PartitionMetadata[] {
  let list = partitionLists.get(metadata.partitions)
  if (list === undefined) {
    list = Array.from({ length: metadata.partitions }, (_, partitionId) =>
      ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0],
        offlineReplicas: [] }))
    partitionLists.set(metadata.partitions, list)
  }
  return list
}

function validateTopicMessages(topicMessages: unknown): void {
  if (!Array.isArray(topicMessages)) {
    throw new KafkaJSNonRetriableError('Invalid topicMessages, expected an array')
  }
  for (const entry of topicMessages as { topic?: unknown; messages?: unknown }[]) {
    if (!entry?.topic || typeof entry.topic !== 'string') {
      throw new KafkaJSNonRetriableError('Invalid topic')
    }
    if (!Array.isArray(entry.messages)) {
      throw new KafkaJSNonRetriableError(
        `Invalid messages array [${String(entry.messages)}] for topic "${entry.topic}"`)
    }
    const withoutValue = (entry.messages as Message[]).find((m) => m?.value === undefined)
    if (withoutValue !== undefined) {
      throw new KafkaJSNonRetriableError(`Invalid message without value for topic ` +
        `"${entry.topic}": ${JSON.stringify(withoutValue)}`)
    }
  }
}

function codecName(compression: number): CompressionName {
  const name = CODECS[compression]
  if (name === 'Snappy' || name === 'ZSTD') {
    throw new KafkaJSNotImplemented(`${name} compression not implemented`)
  }
  if (name === undefined) {
    throw new KafkaJSNonRetriableError(`Compression type ${compression} is not supported`)
  }
  return name
}

function toRecord(topic: string, message: Message): EncodableRecord {
  let timestamp: number | undefined
  if (message.timestamp !== undefined && message.timestamp !== null) {
    timestamp = Number(message.timestamp)
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new KafkaJSNonRetriableError(`Invalid timestamp ${String(message.timestamp)} for ` +
        `topic "${topic}", expected milliseconds since the epoch`)
    }
  }
  return {
    key: message.key ?? null, value: message.value, headers: toHeaders(message.headers), timestamp,
  }
}

/** kafkajs headers: a key with an array value becomes one header per element, in order. */
function toHeaders(headers: IHeaders | undefined): EncodableHeader[] | undefined {
  if (headers === undefined || headers === null) return undefined
  const out: EncodableHeader[] = []
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const item of value) out.push({ key, value: item })
    else out.push({ key, value })
  }
  return out
}

function checkFits(topic: string, record: EncodableRecord, metadata: TopicMetadata): void {
  if (recordSizeUpperBound(record) + BATCH_HEADER_BYTES <= metadata.maxMessageBytes) return
  // Near or over the limit: measure exactly by encoding the record alone.
  const exactBytes = encodeBatch([record]).byteLength
  if (exactBytes > metadata.maxMessageBytes) {
    throw new KafkaJSProtocolError(MESSAGE_TOO_LARGE, `a message of ${exactBytes} bytes (as a ` +
      `batch) is larger than topic "${topic}" accepts ` +
      `(maxMessageBytes ${metadata.maxMessageBytes})`)
  }
}

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new KafkaJSNonRetriableError(`${name} must be an integer in ${min}..${max}, ` +
      `got ${String(value)}`)
  }
  return value
}
