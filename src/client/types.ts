/**
 * The embedded client's public shapes, structurally the same as kafkajs 2.x's (types/index.d.ts)
 * so code typed against kafkajs compiles against sluice; test/client/api-shape.ts checks it with
 * tsc. Offsets and timestamps are decimal strings where kafkajs uses strings.
 */
import type { Log } from '../engine/log.js'
import type { GroupClock } from '../groups/types.js'
import type { LogCreator, LogLevel } from './logger.js'
import type { PartitionerFactory } from './partitioner.js'

/** kafkajs's CompressionTypes numbers; sluice implements None, GZIP and LZ4. */
export const CompressionTypes = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const

export interface IHeaders {
  [key: string]: Buffer | string | (Buffer | string)[] | undefined
}

export interface Message {
  key?: Buffer | string | null
  value: Buffer | string | null
  partition?: number
  headers?: IHeaders
  /** Milliseconds since the epoch, as a decimal string (kafkajs's type). */
  timestamp?: string
}

export interface ProducerRecord {
  topic: string
  messages: Message[]
  acks?: number
  timeout?: number
  compression?: number
}

export interface TopicMessages {
  topic: string
  messages: Message[]
}

export interface ProducerBatch {
  acks?: number
  timeout?: number
  compression?: number
  topicMessages?: TopicMessages[]
}

export interface RecordMetadata {
  topicName: string
  partition: number
  errorCode: number
  offset?: string
  timestamp?: string
  baseOffset?: string
  logAppendTime?: string
  logStartOffset?: string
}

/** A consumed record, as kafkajs's RecordBatchEntry. */
export interface KafkaMessage {
  key: Buffer | null
  value: Buffer | null
  timestamp: string
  attributes: number
  offset: string
  headers: IHeaders
  size?: never
}

export interface Batch {
  topic: string
  partition: number
  highWatermark: string
  messages: KafkaMessage[]
  isEmpty(): boolean
  firstOffset(): string | null
  lastOffset(): string
  offsetLag(): string
  offsetLagLow(): string
}

export interface PartitionOffset {
  partition: number
  offset: string
}

export interface TopicOffsets {
  topic: string
  partitions: PartitionOffset[]
}

export interface Offsets {
  topics: TopicOffsets[]
}

export interface TopicPartitions {
  topic: string
  partitions: number[]
}

export interface TopicPartitionOffset {
  topic: string
  partition: number
  offset: string
}

export interface TopicPartitionOffsetAndMetadata extends TopicPartitionOffset {
  metadata?: string | null
}

export interface EachMessagePayload {
  topic: string
  partition: number
  message: KafkaMessage
  heartbeat(): Promise<void>
  pause(): () => void
}

export interface EachBatchPayload {
  batch: Batch
  resolveOffset(offset: string): void
  heartbeat(): Promise<void>
  pause(): () => void
  commitOffsetsIfNecessary(offsets?: Offsets): Promise<void>
  uncommittedOffsets(): { topics: TopicOffsets[] }
  isRunning(): boolean
  isStale(): boolean
}

export interface ConsumerRunConfig {
  autoCommit?: boolean
  autoCommitInterval?: number | null
  autoCommitThreshold?: number | null
  eachBatchAutoResolve?: boolean
  partitionsConsumedConcurrently?: number
  eachBatch?: (payload: EachBatchPayload) => Promise<void>
  eachMessage?: (payload: EachMessagePayload) => Promise<void>
}

export interface ConsumerSubscribeTopics {
  topics: (string | RegExp)[]
  fromBeginning?: boolean
}

export interface ConsumerSubscribeTopic {
  topic: string | RegExp
  fromBeginning?: boolean
}

export interface RetryOptions {
  maxRetryTime?: number
  initialRetryTime?: number
  factor?: number
  multiplier?: number
  retries?: number
  restartOnFailure?: (error: Error) => Promise<boolean>
}

/** Assignor names sluice implements: 'RoundRobinAssigner' (kafkajs's default) and 'range'. */
export type AssignorName = 'RoundRobinAssigner' | 'range'

/**
 * kafkajs's assigner factory shape (`PartitionAssigners.roundRobin`): called with the cluster, it
 * returns an assigner whose `name` is the protocol name. sluice runs its own implementation of
 * that name, so a factory is accepted when its name is one sluice implements.
 */
export type PartitionAssignerFactory = (config: {
  // kafkajs's Cluster and Logger types; sluice passes no cluster and its own logger.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  cluster: any; groupId: string; logger: any
}) => { name: string }

export interface ConsumerConfig {
  groupId: string
  /** Assignors in preference order; default ['RoundRobinAssigner'], as kafkajs. */
  partitionAssigners?: (AssignorName | PartitionAssignerFactory)[]
  sessionTimeout?: number
  rebalanceTimeout?: number
  heartbeatInterval?: number
  maxBytesPerPartition?: number
  minBytes?: number
  maxBytes?: number
  maxWaitTimeInMs?: number
  retry?: RetryOptions
  allowAutoTopicCreation?: boolean
}

export interface ProducerConfig {
  createPartitioner?: PartitionerFactory
  retry?: RetryOptions
  allowAutoTopicCreation?: boolean
  idempotent?: boolean
  /** How long a partition's batch waits for more records before it is appended. Default 0. */
  lingerMs?: number
  /** A partition's batch is appended once it holds this many bytes. Default 16384 (Kafka's). */
  batchBytes?: number
  /** Bytes of records waiting or in flight; a send beyond this waits. Default 32 MiB. */
  maxBufferedBytes?: number
}

export interface FetchOptions {
  /** Longest wait for minBytes to arrive. Default: the consumer's maxWaitTimeInMs. */
  maxWaitMs?: number
  /** Return as soon as this many bytes are available. Default: the consumer's minBytes. */
  minBytes?: number
  /** Soft cap on the bytes returned over all partitions. Default: the consumer's maxBytes. */
  maxBytes?: number
}

export interface SluiceConfig {
  /** Directory of the log; required unless `log` is given. */
  dataDir?: string
  /** An open Log to share; the caller keeps ownership and closes it. */
  log?: Log
  /** Shard threads when sluice opens the log itself. */
  shards?: number
  clientId?: string
  logLevel?: LogLevel
  logCreator?: LogCreator
  /**
   * Kafka's auto.create.topics.enable: whether a client's produce or subscribe may create an
   * unknown topic (one partition). Default true, as Kafka's; each client may also refuse.
   */
  allowAutoTopicCreation?: boolean
  /** Group coordinator settings; `clock` lets tests move time by hand. */
  groups?: {
    clock?: GroupClock
    minSessionTimeoutMs?: number
    maxSessionTimeoutMs?: number
  }
}
