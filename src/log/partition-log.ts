/**
 * One partition's log on disk: a directory of segments (segment-files.ts; the SegmentChain of
 * segment-chain.ts holds them open), appended to by its owner thread only, synchronously
 * (DESIGN rule 1; calls cost ~2 µs sync against ~35 µs async).
 *
 * Append validates every batch before writing any (append-plan.ts), assigns offsets by rewriting
 * baseOffset and partitionLeaderEpoch in the caller's buffers (outside the CRC, so no new CRC),
 * writes each segment's share of a call with one writev, and rolls before a batch that would
 * overfill the active segment or when it is older than segmentMs.
 *
 * Durability (DESIGN rule 3):
 * - sync() fdatasyncs the active `.log` (and the directory after a roll); the caller acks after.
 * - a roll seals the old segment: last time-index entry, fdatasync of its three files (in every
 *   mode but 'memory'; a stall of at most one segment's unsynced bytes), so the recovery point
 *   can move past it and an unclean open scans only the segments after it.
 * - the checkpoint (recovery point + log start) is written on roll, on clean close, on
 *   deleteRecordsBefore and retention, and by sync() every CHECKPOINT_INTERVAL_BYTES synced.
 * - a failed write or fsync puts the log in the failed state (storage-guard.ts): appends and
 *   syncs are refused with SLUICE_ERR_STORAGE until recover() rescans from the recovery point
 *   and cuts what was never acknowledged: every batch of the append call that failed and, in
 *   'fsync' durability, every batch no successful sync covered. So after recover() the log holds
 *   what callers were told is stored.
 *
 * Invariants: offsets are contiguous from logStartOffset to logEndOffset; segments are contiguous
 * (each starts at its predecessor's nextOffset); a failed call never advances logEndOffset.
 */
import * as path from 'node:path'
import { SluiceError, assert } from '../errors.js'
import { writeBaseOffset, writePartitionLeaderEpoch } from '../format/batch-header.js'
import type { FileSystem } from '../io/file-system.js'
import type { ActiveSegment } from './active-segment.js'
import { planAppend, validateBatches, type AppendGroup } from './append-plan.js'
import { writeCheckpoint } from './checkpoint.js'
import { lastTimeEntryBelow, type OffsetIndexEntry } from './offset-index.js'
import { reportMatchesFiles, scanPartitionForRecovery } from './recovery.js'
import { countRetiredSegments } from './retention.js'
import { SegmentChain } from './segment-chain.js'
import { CLEAN_SHUTDOWN_FILE } from './segment-files.js'
import { StorageGuard } from './storage-guard.js'
import {
  systemClock, validateLogConfig, type AppendOutcome, type Clock, type PartitionLogConfig,
  type RecoveryReport, type RetiredSegment, type SegmentInfo,
} from './types.js'

/** sync() rewrites the checkpoint after this many bytes were synced since the last one. */
export const CHECKPOINT_INTERVAL_BYTES = 64 * 1024 * 1024

export interface OpenPartitionLogArgs {
  fs: FileSystem
  dir: string
  config: PartitionLogConfig
  clock?: Clock
  /** A report from scanPartitionForRecovery run elsewhere (the background pool): the log starts
   *  from it instead of scanning again, after checking the files still match it. */
  recovered?: RecoveryReport
}

export class PartitionLog {
  readonly dir: string
  private readonly chain: SegmentChain
  private startOffset = 0
  private recoveryPoint = 0
  private syncedSinceCheckpointBytes = 0
  private directoryUnsynced = false
  private readonly storage: StorageGuard
  private closed = false

  private constructor(
    private readonly fs: FileSystem,
    dir: string,
    private readonly config: PartitionLogConfig,
    private readonly clock: Clock,
  ) {
    this.dir = dir
    this.chain = new SegmentChain(fs, dir)
    this.storage = new StorageGuard(dir)
  }

  static open(args: OpenPartitionLogArgs): { log: PartitionLog; report: RecoveryReport } {
    validateLogConfig(args.config)
    const clock = args.clock ?? systemClock
    let report = args.recovered
    if (report === undefined || !reportMatchesFiles(args.fs, args.dir, report)) {
      report = scanPartitionForRecovery({ fs: args.fs, dir: args.dir, config: args.config, clock })
    }
    const log = new PartitionLog(args.fs, args.dir, args.config, clock)
    log.load(report)
    return { log, report }
  }

  get logStartOffset(): number {
    return this.startOffset
  }

  /** The next offset append assigns. */
  get logEndOffset(): number {
    return this.active.info.nextOffset
  }

  /** Every offset below this is on stable storage. */
  get recoveryPointOffset(): number {
    return this.recoveryPoint
  }

  /** The segment appends go to. */
  private get active(): ActiveSegment {
    return this.chain.active
  }

  get isFailed(): boolean {
    return this.storage.isFailed
  }

  /** See the module comment. Throws SLUICE_ERR_CORRUPT_BATCH / _RECORD_TOO_LARGE before any
   *  write when a batch is bad, SLUICE_ERR_STORAGE when the write fails. */
  append(batches: readonly Uint8Array[]): AppendOutcome {
    this.requireWritable()
    const headers = validateBatches(batches, this.config.maxMessageBytes, this.dir)
    const nowMs = this.clock.nowMs()
    const groups = planAppend(headers, this.active.info, this.config, nowMs)
    const outcome: AppendOutcome = { batches: [], rolled: false, indexEntries: [] }
    const endBefore = this.logEndOffset
    try {
      for (const group of groups) {
        if (group.rollBefore) {
          this.storage.guard(() => this.roll(nowMs))
          outcome.rolled = true
        }
        this.writeGroup(batches.slice(group.first, group.end), group, outcome)
      }
    } catch (error) {
      // Nothing of a failed call is acknowledged, even the groups that reached the file.
      this.storage.noteAcknowledgedEnd(this.acknowledgedEnd(endBefore))
      throw error
    }
    return outcome
  }

  /** fdatasync of everything appended since the last sync; advances the recovery point. */
  sync(): void {
    this.requireWritable()
    this.storage.guardWith(this.acknowledgedEnd(this.logEndOffset), () => {
      const syncedBytes = this.active.unsyncedBytes
      if (syncedBytes > 0) this.active.syncLog()
      if (this.directoryUnsynced) this.fs.syncDirectory(this.dir)
      this.directoryUnsynced = false
      this.recoveryPoint = this.logEndOffset
      this.syncedSinceCheckpointBytes += syncedBytes
      if (this.syncedSinceCheckpointBytes >= CHECKPOINT_INTERVAL_BYTES) this.writeCheckpoint()
    })
  }

  segments(): SegmentInfo[] {
    return this.chain.all().map((s) => ({ ...s }))
  }

  /** The segment appends go to (cheaper than segments() when only the tail matters). */
  activeSegment(): SegmentInfo {
    return { ...this.active.info }
  }

  /** Offset-index entries of a segment, as readers need them (the engine's shared index). */
  indexEntries(segmentBaseOffset: number): OffsetIndexEntry[] {
    return this.chain.indexEntries(segmentBaseOffset)
  }

  /** Where the batch holding `offset` starts; null at the log end; out of range otherwise. */
  locate(offset: number): { segmentBaseOffset: number; position: number } | null {
    this.requireOpen()
    this.checkOffset(offset)
    if (offset === this.logEndOffset) return null
    const segment = this.chain.segmentFor(offset)
    const position = this.chain.positionOf(segment, offset)
    assert(position !== null, `offset ${offset} is below the log end but in no batch`)
    return { segmentBaseOffset: segment.baseOffset, position }
  }

  /** Whole batches from the one holding `offset`, up to maxBytes (≥ one batch), within one
   *  segment; empty at the log end. Continue from the last batch's lastOffset + 1. */
  read(offset: number, maxBytes: number): Buffer {
    if (!Number.isInteger(maxBytes) || maxBytes < 0) {
      throw new SluiceError('SLUICE_ERR_INVALID_CONFIG', `maxBytes ${maxBytes} is not a size`)
    }
    const found = this.locate(offset)
    if (found === null) return Buffer.alloc(0)
    return this.chain.readBatches(this.chain.segmentFor(offset), found.position, maxBytes)
  }

  /**
   * ListOffsets by time: the base offset of the first batch at or after the log start whose
   * maxTimestamp ≥ timestampMs, or null. Batch granularity: the exact record may come later in
   * that batch (the log never decodes records; the caller may).
   */
  timeLookup(timestampMs: number): number | null {
    this.requireOpen()
    for (const segment of this.chain.all()) {
      if (segment.maxTimestamp < timestampMs || segment.nextOffset <= this.startOffset) continue
      const below = lastTimeEntryBelow(this.chain.timeEntries(segment), timestampMs)
      const from = Math.max(below === undefined ? segment.baseOffset : below.offset + 1,
        this.startOffset)
      if (from >= segment.nextOffset) continue
      const start = this.locate(from)!.position
      const wanted = (span: { lastOffset: number; maxTimestamp: number }): boolean =>
        span.lastOffset >= this.startOffset && span.maxTimestamp >= timestampMs
      const span = this.chain.findBatch(segment, start, wanted)
      if (span !== null) return Math.max(span.baseOffset, this.startOffset)
    }
    return null
  }

  /** Retires sealed segments past retentionMs / retentionBytes / below the log start. */
  enforceRetention(): RetiredSegment[] {
    this.requireOpen()
    const count = countRetiredSegments(this.chain.sealedSegments, this.active.info.sizeBytes,
      this.config, this.startOffset, this.clock.nowMs())
    if (count === 0) return []
    return this.storage.guard(() => {
      const retired = this.chain.retireOldest(count)
      this.startOffset = Math.max(this.startOffset, this.chain.oldestBaseOffset)
      this.writeCheckpoint()
      return retired
    })
  }

  /** Kafka DeleteRecords: moves the log start up to `offset` (≤ logEndOffset), durably. */
  deleteRecordsBefore(offset: number): number {
    this.requireOpen()
    this.checkOffset(offset)
    if (offset > this.startOffset) {
      this.startOffset = offset
      this.storage.guard(() => this.writeCheckpoint())
    }
    return this.startOffset
  }

  /** After a storage error: closes the files, rescans from the recovery point (truncating what
   *  was torn, reported), and takes appends again. */
  recover(): RecoveryReport {
    this.requireOpen()
    this.chain.close()
    this.storage.beginRecovery()
    const cutOffset = this.storage.acknowledgedEndOffset
    const report = this.storage.guard(() => scanPartitionForRecovery({
      fs: this.fs, dir: this.dir, config: this.config, clock: this.clock,
      recoveryPointOffset: this.recoveryPoint, ignoreCleanShutdown: true,
      ...(cutOffset === null ? {} : { maxLogEndOffset: cutOffset }),
    }))
    this.storage.guard(() => this.load(report))
    this.storage.clear()
    return report
  }

  /** Clean: sync everything, write the checkpoint, then the clean-shutdown marker. */
  close(clean: boolean): void {
    if (this.closed) return
    try {
      if (clean && !this.storage.isFailed) this.storage.guard(() => this.closeCleanly())
    } finally {
      this.closed = true
      this.chain.close()
    }
  }

  private closeCleanly(): void {
    if (this.config.durability !== 'memory') {
      this.active.syncAll()
      this.fs.syncDirectory(this.dir)
    }
    this.recoveryPoint = this.logEndOffset
    this.writeCheckpoint()
    this.fs.writeFileAtomic(path.join(this.dir, CLEAN_SHUTDOWN_FILE), Buffer.from('clean\n'))
  }

  private load(report: RecoveryReport): void {
    this.chain.load(report, this.config.indexIntervalBytes)
    this.startOffset = report.logStartOffset
    this.recoveryPoint = report.recoveryPointOffset
    this.syncedSinceCheckpointBytes = 0
    this.directoryUnsynced = false
  }

  /** Rewrites offsets in place, then writes the group to the active segment. */
  private writeGroup(batches: Uint8Array[], group: AppendGroup, outcome: AppendOutcome): void {
    assert(group.segmentBaseOffset === this.active.baseOffset, 'group planned for another segment')
    batches.forEach((batch, i) => {
      const planned = group.batches[i]!
      writeBaseOffset(batch, planned.baseOffset)
      writePartitionLeaderEpoch(batch, 0)
      outcome.batches.push({ ...planned, segmentBaseOffset: group.segmentBaseOffset })
    })
    const entries = this.storage.guard(() => this.active.write(batches, group.batches))
    for (const entry of entries) {
      outcome.indexEntries.push({ ...entry, segmentBaseOffset: group.segmentBaseOffset })
    }
  }

  private roll(nowMs: number): void {
    const durable = this.config.durability !== 'memory'
    const sealed = this.chain.sealActive(durable)
    if (durable) this.recoveryPoint = sealed.nextOffset
    this.chain.startActive(sealed.nextOffset, nowMs, this.config.indexIntervalBytes)
    this.directoryUnsynced = true
    if (durable) this.writeCheckpoint()
  }

  private writeCheckpoint(): void {
    writeCheckpoint(this.fs, this.dir, {
      recoveryPointOffset: this.recoveryPoint,
      logStartOffset: this.startOffset,
      activeSegmentBaseOffset: this.active.baseOffset,
      activeSegmentCreatedMs: this.active.info.createdMs,
    })
    // writeFileAtomic synced the directory, which covers segment files created since.
    this.directoryUnsynced = false
    this.syncedSinceCheckpointBytes = 0
  }

  private checkOffset(offset: number): void {
    if (!Number.isInteger(offset) || offset < this.startOffset || offset > this.logEndOffset) {
      throw new SluiceError('SLUICE_ERR_OFFSET_OUT_OF_RANGE', `offset ${offset} is outside ` +
        `[${this.startOffset}, ${this.logEndOffset}] of ${this.dir}`)
    }
  }

  private requireOpen(): void {
    if (this.closed) throw new SluiceError('SLUICE_ERR_CLOSED', `${this.dir}: the log is closed`)
  }

  private requireWritable(): void {
    this.requireOpen()
    this.storage.refuseIfFailed()
  }

  /** What callers were told is stored: in 'fsync' durability an append is acknowledged only
   *  once a sync covers it; otherwise once written. */
  private acknowledgedEnd(writtenEndOffset: number): number {
    return this.config.durability === 'fsync' ? this.recoveryPoint : writtenEndOffset
  }
}
