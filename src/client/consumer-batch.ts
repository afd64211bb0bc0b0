/**
 * What a consumer hands out: kafkajs's KafkaMessage (offsets and timestamps as decimal strings,
 * headers as an object whose repeated keys become arrays) and Batch (one partition's messages
 * from one fetch, with kafkajs's lag arithmetic).
 *
 * Keys, values and header values are Buffers the user owns, as kafkajs's are. Bytes read from the
 * log's shared-memory tail window are copied here: the window pins a slot only while the views
 * it handed out are alive, and a user's own `value.subarray(5)` or a value kept past the handler
 * would otherwise see the slot's bytes change when the shard reuses it. (`Log.read` keeps the
 * zero-copy views for callers who follow that rule.)
 */
import type { StoredRecord } from '../engine/types.js'
import type { Batch, IHeaders, KafkaMessage } from './types.js'

/** The bytes as a Buffer the caller owns: views of shared memory are copied, others kept. */
function owned(bytes: Buffer): Buffer
function owned(bytes: Buffer | null): Buffer | null
function owned(bytes: Buffer | null): Buffer | null {
  if (bytes === null || !(bytes.buffer instanceof SharedArrayBuffer)) return bytes
  return Buffer.from(bytes)
}

export function toKafkaMessage(record: StoredRecord): KafkaMessage {
  const headers: IHeaders = {}
  for (const { key, value } of record.headers) {
    const bytes = value === null ? Buffer.alloc(0) : owned(value)
    const existing = headers[key]
    if (existing === undefined) headers[key] = bytes
    else if (Array.isArray(existing)) existing.push(bytes)
    else headers[key] = [existing, bytes]
  }
  return {
    key: owned(record.key),
    value: owned(record.value),
    timestamp: String(record.timestamp),
    attributes: 0,
    offset: String(record.offset),
    headers,
  }
}

export class ConsumerBatch implements Batch {
  readonly highWatermark: string

  constructor(
    readonly topic: string,
    readonly partition: number,
    highWatermark: number,
    readonly messages: KafkaMessage[],
    /** Payload bytes (keys and values), for minBytes / maxBytes accounting. */
    readonly sizeBytes: number,
  ) {
    this.highWatermark = String(highWatermark)
  }

  isEmpty(): boolean {
    return this.messages.length === 0
  }

  firstOffset(): string | null {
    return this.messages[0]?.offset ?? null
  }

  lastOffset(): string {
    const last = this.messages[this.messages.length - 1]
    return last === undefined ? String(Number(this.highWatermark) - 1) : last.offset
  }

  /** From the last message to the end of the partition. */
  offsetLag(): string {
    return String(Number(this.highWatermark) - 1 - Number(this.lastOffset()))
  }

  /** From the first message to the end of the partition. */
  offsetLagLow(): string {
    const first = this.firstOffset()
    return first === null ? '0' : String(Number(this.highWatermark) - 1 - Number(first))
  }
}

export function batchFromRecords(topic: string, partition: number, highWatermark: number,
  records: StoredRecord[]): ConsumerBatch {
  let sizeBytes = 0
  const messages = records.map((record) => {
    sizeBytes += (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0)
    return toKafkaMessage(record)
  })
  return new ConsumerBatch(topic, partition, highWatermark, messages, sizeBytes)
}
