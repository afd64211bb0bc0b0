/**
 * Reads one partition from any thread, without asking its shard: the shared index says where the
 * data is, the tail window serves hot bytes as zero-copy views, and positioned reads of the
 * segment files serve the rest. Waiting for data is `Atomics.waitAsync` on the high watermark.
 *
 * Invariants: a read never returns bytes at or above the high watermark; batches are returned
 * whole (the first may start before the requested offset, as in Kafka's Fetch); at least one
 * batch is returned when any data exists at the offset, even if it is larger than maxBytes.
 */
import * as path from 'node:path'
import { SluiceError } from '../errors.js'
import {
  BATCH_LENGTH_PREFIX_BYTES, BATCH_MAGIC, Field, corruptBatch,
} from '../format/batch-header.js'
import { decodeBatch } from '../format/record-batch.js'
import type { FileSystem } from '../io/file-system.js'
import { NodeFileSystem } from '../io/node-file-system.js'
import { SegmentFileReader } from '../log/index.js'
import { PartitionStatus, SharedIndexReader, type ReadPlan } from './shared-index.js'
import { TailWindowReader, attachLease, hasLease, type TailWindowBuffers } from './tail-window.js'
import type { BatchReadResult, ReadOptions, ReadResult, StoredRecord } from './types.js'

/** Everything another thread needs to read a partition; crosses threads by postMessage. */
export interface PartitionReaderHandle {
  key: string
  dir: string
  indexBuffer: SharedArrayBuffer
  window: TailWindowBuffers
}

export const DEFAULT_READ_MAX_BYTES = 1024 * 1024
/** Bytes read from a file in one go while walking batch headers. */
const FILE_CHUNK_BYTES = 64 * 1024
/** Enough of a header to know a batch's size and last offset. */
const HEADER_PREFIX_BYTES = Field.lastOffsetDelta + 4

export class PartitionReader {
  private readonly index: SharedIndexReader
  private readonly window: TailWindowReader
  private readonly files: SegmentFileReader
  private unavailable: SluiceError | null = null

  constructor(
    private readonly handle: PartitionReaderHandle,
    private readonly fs: FileSystem = new NodeFileSystem(),
  ) {
    this.index = new SharedIndexReader(handle.indexBuffer)
    this.window = new TailWindowReader(handle.window)
    this.files = new SegmentFileReader(fs, handle.dir)
  }

  get key(): string {
    return this.handle.key
  }

  /** Set by the engine when the owning shard has died. */
  markUnavailable(error: SluiceError): void {
    this.unavailable = error
  }

  offsets(): { logStartOffset: number; highWatermark: number } {
    this.checkStatus()
    return this.index.offsets()
  }

  async readBatches(offset: number, options: ReadOptions = {}): Promise<BatchReadResult> {
    const maxBytes = options.maxBytes ?? DEFAULT_READ_MAX_BYTES
    const minBytes = options.minBytes ?? 1
    const deadline = Date.now() + (options.maxWaitMs ?? 0)
    for (;;) {
      this.checkStatus()
      const epoch = this.index.epoch
      const { logStartOffset, highWatermark } = this.index.offsets()
      if (offset < logStartOffset || offset > highWatermark) {
        throw new SluiceError(
          'SLUICE_ERR_OFFSET_OUT_OF_RANGE',
          `offset ${offset} of ${this.key} is outside [${logStartOffset}, ${highWatermark}]`,
        )
      }
      const batches = offset < highWatermark ? this.collect(offset, maxBytes) : []
      const remainingMs = deadline - Date.now()
      if (byteLength(batches) >= minBytes || remainingMs <= 0) {
        return { batches, highWatermark, logStartOffset }
      }
      await this.index.waitForChange(epoch, remainingMs)
    }
  }

  async read(offset: number, options: ReadOptions = {}): Promise<ReadResult> {
    const result = await this.readBatches(offset, options)
    const records: StoredRecord[] = []
    for (const batch of result.batches) {
      const leased = hasLease(batch)
      for (const record of decodeBatch(batch).records) {
        if (record.offset < offset) continue
        if (leased) leaseRecord(record, batch)
        records.push(record)
      }
    }
    return { records, highWatermark: result.highWatermark, logStartOffset: result.logStartOffset }
  }

  /** Resolves true once data beyond `offset` is readable, false when maxWaitMs passes first. */
  async waitForData(offset: number, maxWaitMs: number): Promise<boolean> {
    const deadline = Date.now() + maxWaitMs
    for (;;) {
      this.checkStatus()
      const epoch = this.index.epoch
      if (this.index.offsets().highWatermark > offset) return true
      const remainingMs = deadline - Date.now()
      if (remainingMs <= 0) return false
      await this.index.waitForChange(epoch, remainingMs)
    }
  }

  close(): void {
    this.files.close()
  }

  private checkStatus(): void {
    if (this.unavailable !== null) throw this.unavailable
    const status = this.index.status
    if (status === PartitionStatus.Deleted) {
      throw new SluiceError('SLUICE_ERR_UNKNOWN_TOPIC_OR_PARTITION', `${this.key} was deleted`)
    }
    if (status === PartitionStatus.Closed) {
      throw new SluiceError('SLUICE_ERR_CLOSED', `${this.key}: the log has been closed`)
    }
  }

  /** Whole batches from the one holding `offset`, across segments, up to maxBytes (≥ 1 batch). */
  private collect(offset: number, maxBytes: number): Buffer[] {
    const out: Buffer[] = []
    let bytes = 0
    let next = offset
    for (;;) {
      const plan = this.index.plan(next) ?? this.planFromDisk(next)
      if (next >= plan.highWatermark) return out
      const found = plan.isActiveSegment
        ? this.collectActive(plan, next, maxBytes - bytes, out.length === 0)
        : this.collectSealed(plan, next, maxBytes - bytes, out.length === 0)
      for (const batch of found.batches) {
        checkFraming(batch, this.key)
        out.push(batch)
        bytes += batch.byteLength
      }
      if (found.nextOffset === null || bytes >= maxBytes || found.batches.length === 0) return out
      next = found.nextOffset
    }
  }

  private collectActive(
    plan: ReadPlan, offset: number, budgetBytes: number, mustTakeOne: boolean,
  ): { batches: Buffer[]; nextOffset: number | null } {
    const batches: Buffer[] = []
    let position = plan.startPosition
    let taken = 0
    while (position < plan.committedBytes) {
      const chunk = this.bytesAt(plan, position, HEADER_PREFIX_BYTES)
      // Fewer bytes than a header below the committed size: nothing more to walk.
      if (chunk.byteLength < HEADER_PREFIX_BYTES) break
      let cursor = 0
      while (cursor + HEADER_PREFIX_BYTES <= chunk.byteLength) {
        const size = chunk.readInt32BE(cursor + Field.batchLength) + BATCH_LENGTH_PREFIX_BYTES
        const lastOffset = Number(chunk.readBigInt64BE(cursor))
          + chunk.readInt32BE(cursor + Field.lastOffsetDelta)
        if (lastOffset >= offset) {
          if (taken + size > budgetBytes && !(mustTakeOne && batches.length === 0)) {
            return { batches, nextOffset: null }
          }
          const whole = cursor + size <= chunk.byteLength
            ? chunk.subarray(cursor, cursor + size)
            : this.bytesAt(plan, position + cursor, size).subarray(0, size)
          attachLeaseIfAny(whole, chunk)
          batches.push(whole)
          taken += size
        }
        cursor += size
      }
      position += cursor
    }
    return { batches, nextOffset: null }
  }

  private collectSealed(
    plan: ReadPlan, offset: number, budgetBytes: number, mustTakeOne: boolean,
  ): { batches: Buffer[]; nextOffset: number | null } {
    const position = this.files.locate(plan.segmentBaseOffset, offset, plan.committedBytes)
    if (position === null) return { batches: [], nextOffset: null }
    // At least one whole batch when nothing is taken yet, however large it is (Kafka's Fetch).
    const wanted = mustTakeOne
      ? Math.max(budgetBytes, this.batchSizeAt(plan, position)) : budgetBytes
    if (wanted <= 0) return { batches: [], nextOffset: null }
    const bytes = this.files.read(plan.segmentBaseOffset, position, wanted, plan.committedBytes)
    const batches = splitBatches(bytes)
    const last = batches[batches.length - 1]
    const reachedEnd = last !== undefined
      && position + byteLength(batches) >= plan.committedBytes
    return { batches, nextOffset: reachedEnd ? lastOffsetOf(last) + 1 : null }
  }

  /** The size of the batch that starts at `position` of a sealed segment, from its header. */
  private batchSizeAt(plan: ReadPlan, position: number): number {
    const prefix = this.files.read(plan.segmentBaseOffset, position, HEADER_PREFIX_BYTES,
      plan.committedBytes)
    if (prefix.byteLength < HEADER_PREFIX_BYTES) return prefix.byteLength
    return prefix.readInt32BE(Field.batchLength) + BATCH_LENGTH_PREFIX_BYTES
  }

  /**
   * Bytes of the active segment from `position`: a window view when a slot holds them, else a
   * positioned read of at least `minBytes` (never past the committed size).
   */
  private bytesAt(plan: ReadPlan, position: number, minBytes: number): Buffer {
    const end = plan.committedBytes
    const view = this.window.viewFrom(plan.segmentBaseOffset, position, end)
    if (view !== null && view.byteLength >= Math.min(minBytes, end - position)) return view
    const length = Math.min(Math.max(minBytes, FILE_CHUNK_BYTES), end - position)
    return this.files.read(plan.segmentBaseOffset, position, length, end)
  }

  /** Segments older than the shared directory holds: list the partition directory. */
  private planFromDisk(offset: number): ReadPlan {
    const { logStartOffset, highWatermark } = this.index.offsets()
    const bases = this.fs.readdir(this.handle.dir)
      .filter((name) => name.endsWith('.log'))
      .map((name) => Number(path.basename(name, '.log')))
      .sort((a, b) => a - b)
    const at = bases.findLastIndex((base) => base <= offset)
    const base = bases[at]
    if (base === undefined) {
      throw new SluiceError('SLUICE_ERR_OFFSET_OUT_OF_RANGE', `offset ${offset} of ${this.key} ` +
        'is no longer stored')
    }
    const file = path.join(this.handle.dir, `${String(base).padStart(20, '0')}.log`)
    return {
      segmentBaseOffset: base,
      startPosition: 0,
      committedBytes: this.fs.stat(file)?.size ?? 0,
      highWatermark,
      logStartOffset,
      isActiveSegment: false,
    }
  }
}

/**
 * Every batch handed out is whole and is a v2 batch: its length field covers exactly its bytes
 * and its magic is 2. Bytes that fail were damaged on disk after recovery checked them, so this
 * is the typed corrupt-batch error, not an assertion: the reader's thread keeps running.
 */
function checkFraming(batch: Buffer, key: string): void {
  const framed = batch.byteLength >= HEADER_PREFIX_BYTES
    && batch.readInt32BE(Field.batchLength) + BATCH_LENGTH_PREFIX_BYTES === batch.byteLength
  if (!framed || batch.readInt8(Field.magic) !== BATCH_MAGIC) {
    throw corruptBatch(`${key}: a stored batch of ${batch.byteLength} bytes is not a whole ` +
      'v2 batch; recover the partition')
  }
}

function splitBatches(bytes: Buffer): Buffer[] {
  const batches: Buffer[] = []
  let cursor = 0
  while (cursor + BATCH_LENGTH_PREFIX_BYTES <= bytes.byteLength) {
    const size = bytes.readInt32BE(cursor + Field.batchLength) + BATCH_LENGTH_PREFIX_BYTES
    if (cursor + size > bytes.byteLength) break
    batches.push(bytes.subarray(cursor, cursor + size))
    cursor += size
  }
  return batches
}

function lastOffsetOf(batch: Buffer): number {
  return Number(batch.readBigInt64BE(0)) + batch.readInt32BE(Field.lastOffsetDelta)
}

function attachLeaseIfAny(view: Buffer, source: Buffer): void {
  if (hasLease(source) && !hasLease(view)) attachLease(view, source)
}

function byteLength(buffers: readonly Uint8Array[]): number {
  let total = 0
  for (const buffer of buffers) total += buffer.byteLength
  return total
}

/** Every buffer of a record read from the window keeps the window slot pinned while alive. */
function leaseRecord(record: StoredRecord, batch: Buffer): void {
  if (record.key !== null) attachLease(record.key, batch)
  if (record.value !== null) attachLease(record.value, batch)
  for (const header of record.headers) if (header.value !== null) attachLease(header.value, batch)
}
