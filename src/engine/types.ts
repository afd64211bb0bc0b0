/**
 * The public shapes of the low-level `Log` API: what callers pass in and what they get back.
 * Kept apart from the implementation so the client, broker and agents can depend on the shape.
 */

export type Durability = 'fsync' | 'os' | 'memory'
export type CompressionName = 'none' | 'gzip' | 'lz4'

export interface RecordHeader {
  key: string
  value: Buffer | null
}

/** A record as a caller appends it. */
export interface AppendRecord {
  key?: Buffer | string | null
  value: Buffer | string | null
  headers?: RecordHeader[] | Record<string, Buffer | string | null>
  /** Milliseconds since the epoch; defaults to the append time. */
  timestamp?: number
}

/** A record as read back. `key`/`value` may be zero-copy views of shared memory. */
export interface StoredRecord {
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

export interface TopicConfig {
  partitions: number
  /** Roll the active segment when it reaches this size. Default 1 GiB. */
  segmentBytes?: number
  /** Roll the active segment when it is this old. Default 7 days. */
  segmentMs?: number
  /** Delete whole segments older than this; -1 keeps forever. Default 7 days. */
  retentionMs?: number
  /** Delete oldest segments while the partition is larger than this; -1 = unbounded. */
  retentionBytes?: number
  durability?: Durability
  /** Codec the shard applies to uncompressed batches it stores. Default 'none'. */
  compression?: CompressionName
  /** Largest single batch accepted, in bytes. Default 1 MiB + 12, as Kafka. */
  maxMessageBytes?: number
  /** Bytes between sparse offset-index entries. Default 4096, as Kafka. */
  indexIntervalBytes?: number
}

export type ResolvedTopicConfig = Required<TopicConfig>

export interface AppendResult {
  baseOffset: number
  lastOffset: number
  /** Log start offset after the append (Kafka's ProduceResponse log_start_offset). */
  logStartOffset: number
}

export interface ReadOptions {
  /** Soft byte limit; at least one whole batch is returned when data exists. Default 1 MiB. */
  maxBytes?: number
  /** How long to wait for data at the high watermark. Default 0 (do not wait). */
  maxWaitMs?: number
  /** Keep waiting until at least this many bytes are available. Default 1. */
  minBytes?: number
}

export interface ReadResult {
  records: StoredRecord[]
  highWatermark: number
  logStartOffset: number
}

export interface BatchReadResult {
  /** Whole stored batches, first one containing `offset`; may be zero-copy views. */
  batches: Buffer[]
  highWatermark: number
  logStartOffset: number
}

export interface TopicDescription {
  name: string
  config: ResolvedTopicConfig
  partitions: PartitionDescription[]
}

export interface PartitionDescription {
  partition: number
  shard: number
  logStartOffset: number
  highWatermark: number
}
