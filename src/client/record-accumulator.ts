/**
 * Producer batching, as Kafka's RecordAccumulator: records for one partition (and codec) collect
 * in an open batch that is appended to the log when it reaches `batchBytes`, when `lingerMs`
 * passes, or — with lingerMs 0 — once the current synchronous run ends (a microtask), so sends
 * issued together share one batch without adding a turn of the event loop. Each caller learns
 * the offset of its first record.
 *
 * Bounds: a batch never exceeds min(batchBytes, the topic's maxMessageBytes) by its size upper
 * bound, except a single record, which travels alone (the caller has already refused records the
 * topic cannot take). At most `maxBufferedBytes` of records wait or fly at once; a caller beyond
 * that waits for a batch to finish (backpressure, never a drop).
 *
 * Invariants: an open batch is sealed before the next one for its partition is opened, and
 * sealed batches are handed to the log at once, in order; the log keeps one partition's appends
 * in issue order, so offsets follow send order while several batches are in flight.
 */
import type { CompressionName } from '../engine/types.js'
import type { EncodableRecord } from '../format/records.js'
import { encodeBatch } from '../format/record-batch.js'
import { BATCH_HEADER_BYTES } from '../format/batch-header.js'

/** Largest per-record overhead: length, attributes, timestamp/offset deltas, key/value lengths,
 * header count (varints at their widest). Header keys/values add their own 10 bytes each. */
const RECORD_OVERHEAD_BYTES = 5 + 1 + 10 + 5 + 5 + 5 + 5

export interface AppendTarget {
  appendBatch(topic: string, partition: number, batch: Uint8Array)
    : Promise<{ baseOffset: number; logStartOffset: number }>
}

export interface AccumulatorOptions {
  lingerMs: number
  batchBytes: number
  maxBufferedBytes: number
}

export interface AppendOutcome {
  baseOffset: number
  logStartOffset: number
}

interface OpenBatch {
  topic: string
  partition: number
  compression: CompressionName
  limitBytes: number
  records: EncodableRecord[]
  sizeBytes: number
  sealed: boolean
  cancelLinger: (() => void) | null
  /** Settles with the appended batch's base offset. */
  done: Promise<AppendOutcome>
  settle: (outcome: Promise<AppendOutcome>) => void
}

export class RecordAccumulator {
  private readonly open = new Map<string, OpenBatch>()
  private readonly inFlight = new Set<Promise<unknown>>()
  private bufferedBytes = 0
  private readonly spaceWaiters: (() => void)[] = []

  constructor(
    private readonly target: AppendTarget,
    private readonly options: AccumulatorOptions,
  ) {}

  /** Adds one send's records for one partition; resolves with the first record's offset. */
  async append(topic: string, partition: number, compression: CompressionName,
    maxMessageBytes: number, records: EncodableRecord[]): Promise<AppendOutcome> {
    const sizes = records.map(recordSizeUpperBound)
    const totalBytes = sizes.reduce((a, b) => a + b, 0)
    if (!this.tryReserve(totalBytes)) await this.reserve(totalBytes)
    const limitBytes = Math.min(this.options.batchBytes, maxMessageBytes) - BATCH_HEADER_BYTES
    const key = `${topic}\u0000${partition}\u0000${compression}`
    let first: { batch: OpenBatch; index: number } | null = null
    const batches = new Set<OpenBatch>()
    records.forEach((record, i) => {
      let batch = this.open.get(key)
      if (batch !== undefined && batch.records.length > 0
        && batch.sizeBytes + sizes[i]! > batch.limitBytes) {
        this.seal(key, batch)
        batch = undefined
      }
      batch ??= this.openBatch(key, topic, partition, compression, limitBytes)
      first ??= { batch, index: batch.records.length }
      batch.records.push(record)
      batch.sizeBytes += sizes[i]!
      batches.add(batch)
      if (batch.sizeBytes >= batch.limitBytes) this.seal(key, batch)
    })
    const outcomes = await Promise.allSettled([...batches].map((batch) => batch.done))
    this.release(totalBytes)
    const failed = outcomes.find((o) => o.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
    const start = await first!.batch.done
    return { baseOffset: start.baseOffset + first!.index, logStartOffset: start.logStartOffset }
  }

  /** Seals every open batch now and waits for all appends. */
  async flush(): Promise<void> {
    const pending = [...this.open.entries()].map(([key, batch]) => {
      this.seal(key, batch)
      return batch.done.catch(() => undefined)
    })
    await Promise.all([...pending, ...this.inFlight])
  }

  private openBatch(key: string, topic: string, partition: number, compression: CompressionName,
    limitBytes: number): OpenBatch {
    let settle!: OpenBatch['settle']
    const done = new Promise<AppendOutcome>((resolve) => { settle = resolve })
    const batch: OpenBatch = {
      topic, partition, compression, limitBytes, records: [], sizeBytes: 0, sealed: false,
      cancelLinger: null, done, settle,
    }
    this.open.set(key, batch)
    if (this.options.lingerMs > 0) {
      const timer = setTimeout(() => this.seal(key, batch), this.options.lingerMs)
      batch.cancelLinger = () => clearTimeout(timer)
    } else {
      // Every send issued in this synchronous run joins the batch before it is sealed.
      queueMicrotask(() => this.seal(key, batch))
    }
    return batch
  }

  private seal(key: string, batch: OpenBatch): void {
    if (batch.sealed) return
    batch.sealed = true
    batch.cancelLinger?.()
    if (this.open.get(key) === batch) this.open.delete(key)
    // Issued now, synchronously, in seal order: the log keeps appends of one partition in the
    // order they are issued, so offsets follow send order without waiting for each ack.
    let appended: Promise<AppendOutcome>
    try {
      const bytes = encodeBatch(batch.records, { compression: batch.compression })
      appended = this.target.appendBatch(batch.topic, batch.partition, bytes)
    } catch (error) {
      appended = Promise.reject(error)
    }
    const tracked = appended.catch(() => undefined)
    this.inFlight.add(tracked)
    void tracked.then(() => this.inFlight.delete(tracked))
    batch.settle(appended)
  }

  private tryReserve(bytes: number): boolean {
    if (this.bufferedBytes > 0 && this.bufferedBytes + bytes > this.options.maxBufferedBytes) {
      return false
    }
    this.bufferedBytes += bytes
    return true
  }

  private async reserve(bytes: number): Promise<void> {
    while (this.bufferedBytes > 0 && this.bufferedBytes + bytes > this.options.maxBufferedBytes) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve))
    }
    this.bufferedBytes += bytes
  }

  private release(bytes: number): void {
    this.bufferedBytes -= bytes
    for (const wake of this.spaceWaiters.splice(0)) wake()
  }
}

export function recordSizeUpperBound(record: EncodableRecord): number {
  let bytes = RECORD_OVERHEAD_BYTES + fieldBytes(record.key) + fieldBytes(record.value)
  const headers = record.headers
  if (Array.isArray(headers)) {
    for (const h of headers) bytes += 10 + Buffer.byteLength(h.key) + fieldBytes(h.value)
  } else if (headers !== undefined && headers !== null) {
    for (const [k, v] of Object.entries(headers)) bytes += 10 + Buffer.byteLength(k) + fieldBytes(v)
  }
  return bytes
}

function fieldBytes(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0
  return typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength
}
