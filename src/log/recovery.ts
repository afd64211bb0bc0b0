/**
 * Opening a partition directory: decide what to trust, repair the rest, and say what was done
 * (DESIGN rule 4: recovery trusts the log, never derived state, and never truncates silently).
 *
 * scanPartitionForRecovery is self-contained (file system + directory + config → report) so the
 * engine can run it in the background pool; PartitionLog.open({ recovered: report }) then starts
 * from the report without scanning again, once reportMatchesFiles says the files still match.
 *
 * Recovery cases, in the order they are met (one test per row in test/log/recovery.test.ts, but
 * row 13 in storage-faults.test.ts, where the failures are made):
 *
 * | #  | found at open                       | action                            | report       |
 * |----|-------------------------------------|-----------------------------------|--------------|
 * | 1  | clean-shutdown marker + valid       | trust each segment after its      | clean: true  |
 * |    | checkpoint                          | cheap check (segment-check.ts);   |              |
 * |    |                                     | the last must end at the          |              |
 * |    |                                     | checkpoint's offset               |              |
 * | 2  | no marker (crash, kill, power loss) | full scan from the segment that   | clean: false |
 * |    |                                     | holds the recovery point          | notes        |
 * | 3  | checkpoint missing                  | full scan from the first segment  | checkpoint   |
 * | 4  | checkpoint fails xxhash64/size/magic| same as 3                         | checkpoint   |
 * | 5  | torn tail: the last batch is shorter| truncate at that batch's start    | truncations  |
 * |    | than it declares, or < a header     |                                   |              |
 * | 6  | bad header, CRC or offset gap in the| truncate at the bad batch         | truncations  |
 * |    | last segment                        |                                   |              |
 * | 7  | the same in a middle segment        | truncate it, drop every later     | truncations, |
 * |    |                                     | segment (as Kafka: offsets stay   | segments-    |
 * |    |                                     | contiguous)                       | Dropped      |
 * | 8  | a segment whose base is not its     | drop it and every later segment   | segments-    |
 * |    | predecessor's end                   |                                   | Dropped      |
 * | 9  | scanned segment's .index/.timeindex | rewrite it from the scan          | indexes-     |
 * |    | missing, short, garbage, or with    |                                   | Rebuilt      |
 * |    | entries past the end                |                                   | (reason)     |
 * | 10 | trusted segment failing its cheap   | full scan of it (rows 5-9)        | clean: false |
 * |    | check (index missing or short, tail |                                   | notes        |
 * |    | not on a batch boundary)            |                                   |              |
 * | 11 | leftover *.deleted, *.tmp, orphan   | delete                            | leftovers-   |
 * |    | index files                         |                                   | Deleted      |
 * | 12 | no segment at all                   | create an empty one at the        | -            |
 * |    |                                     | checkpoint's log start (else 0)   |              |
 * | 13 | recover() of a live log: batches    | truncate at the first of them     | truncations  |
 * |    | never acknowledged (the failed      |                                   |              |
 * |    | append's; in 'fsync' durability all |                                   |              |
 * |    | past the last successful sync)      |                                   |              |
 *
 * Afterwards every kept byte is on stable storage (scanned segments are fdatasynced; trusted ones
 * were synced before), so the new checkpoint's recovery point is the log end offset, and the
 * marker is removed durably before the log takes a single append.
 */
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { FileSystem } from '../io/file-system.js'
import { FileWindow } from './batch-scanner.js'
import { encodeCheckpoint, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js'
import { EMPTY_INDEXER_STATE } from './offset-index.js'
import {
  CHECKPOINT_FILE, CLEAN_SHUTDOWN_FILE, SEGMENT_FILE_KINDS, listPartitionDirectory,
  segmentFileName, segmentPath,
} from './segment-files.js'
import {
  scanAndRepair, trustSegment, type RecoveredSegment, type SegmentCheckContext,
} from './segment-check.js'
import {
  systemClock, validateLogConfig, type Clock, type PartitionLogConfig, type RecoveryReport,
  type SegmentInfo,
} from './types.js'

/** Bytes read per call while scanning; batches larger than this are checked chunk by chunk. */
export const RECOVERY_BUFFER_BYTES = 1024 * 1024

export interface RecoveryScanArgs {
  fs: FileSystem
  dir: string
  config: PartitionLogConfig
  clock?: Clock
  /** Scan from here instead of the checkpoint's recovery point (a live log knows better). */
  recoveryPointOffset?: number
  /** Scan as after a crash even if a clean-shutdown marker is present. */
  ignoreCleanShutdown?: boolean
  /** Cut every batch from this offset on: a live log's appends that failed, never acknowledged
   *  (must be ≥ the recovery point, so every segment holding such batches is scanned). */
  maxLogEndOffset?: number
}

interface ScanPlan {
  /** Segments with an index ≥ this are fully scanned; the others get the cheap check. */
  firstScannedIndex: number
  /** Where the last segment must end when trusted (the clean checkpoint's offset), else null. */
  expectedEndOffset: number | null
}

export function scanPartitionForRecovery(args: RecoveryScanArgs): RecoveryReport {
  const startedMs = performance.now()
  const { fs, dir, config } = args
  const clock = args.clock ?? systemClock
  validateLogConfig(config)
  fs.mkdirp(dir)
  const report = emptyReport(dir)
  const listing = listPartitionDirectory(fs, dir)
  for (const name of listing.leftovers) fs.unlink(path.join(dir, name))
  report.leftoversDeleted = listing.leftovers
  const stored = readCheckpoint(fs, dir)
  report.checkpoint = stored.status
  if (stored.problem !== null) report.notes.push(stored.problem)
  const markerPath = path.join(dir, CLEAN_SHUTDOWN_FILE)
  const markerFound = fs.stat(markerPath) !== null
  const plan = planScan(args, stored.checkpoint, markerFound, listing.segmentBases, report)

  const context: SegmentCheckContext = { fs, dir, config, report,
    stopAtOffset: args.maxLogEndOffset ?? Number.POSITIVE_INFINITY }
  const recovered = recoverSegments(context, listing.segmentBases, plan)
  const segments = recovered.map((segment) => toInfo(fs, dir, segment, stored.checkpoint))
  let activeIndexer = recovered.at(-1)?.indexer ?? EMPTY_INDEXER_STATE
  if (segments.length === 0) {
    segments.push(createEmptySegment(fs, dir, stored.checkpoint?.logStartOffset ?? 0, clock))
    activeIndexer = EMPTY_INDEXER_STATE
  }
  report.clean = markerFound && plan.firstScannedIndex === listing.segmentBases.length
    && report.segmentsScanned === 0 && report.segmentsDropped.length === 0
  if (markerFound) fs.unlink(markerPath)
  if (config.durability !== 'memory') fs.syncDirectory(dir)

  const first = segments[0]!
  const active = segments[segments.length - 1]!
  report.logEndOffset = active.nextOffset
  report.logStartOffset = Math.min(report.logEndOffset,
    Math.max(first.baseOffset, stored.checkpoint?.logStartOffset ?? first.baseOffset))
  report.recoveryPointOffset = report.logEndOffset
  report.segments = segments
  report.activeIndexer = activeIndexer
  const checkpoint: Checkpoint = {
    recoveryPointOffset: report.recoveryPointOffset,
    logStartOffset: report.logStartOffset,
    activeSegmentBaseOffset: active.baseOffset,
    activeSegmentCreatedMs: active.createdMs,
  }
  const onDisk = fs.readFile(path.join(dir, CHECKPOINT_FILE))
  if (onDisk === null || !onDisk.equals(encodeCheckpoint(checkpoint))) {
    writeCheckpoint(fs, dir, checkpoint)
  }
  report.durationMs = performance.now() - startedMs
  return report
}

/**
 * Whether a report made elsewhere (the background pool) still describes the directory: same
 * segments, same size of the last one. PartitionLog.open scans again when it does not.
 */
export function reportMatchesFiles(fs: FileSystem, dir: string, report: RecoveryReport): boolean {
  if (path.resolve(report.dir) !== path.resolve(dir) || report.segments.length === 0) return false
  const bases = listPartitionDirectory(fs, dir).segmentBases
  if (bases.length !== report.segments.length) return false
  if (!report.segments.every((s, i) => s.baseOffset === bases[i])) return false
  const last = report.segments[report.segments.length - 1]!
  return fs.stat(last.path)?.size === last.sizeBytes
}

function planScan(
  args: RecoveryScanArgs, checkpoint: Checkpoint | null, markerFound: boolean,
  bases: readonly number[], report: RecoveryReport,
): ScanPlan {
  if (markerFound && checkpoint !== null && args.ignoreCleanShutdown !== true) {
    return { firstScannedIndex: bases.length, expectedEndOffset: checkpoint.recoveryPointOffset }
  }
  if (markerFound && checkpoint === null) {
    report.notes.push('clean-shutdown marker found, but no valid checkpoint: scanning')
  } else if (!markerFound && bases.length > 0) {
    report.notes.push('no clean-shutdown marker: the log was not closed cleanly')
  }
  const recoveryPoint = args.recoveryPointOffset ?? checkpoint?.recoveryPointOffset ?? -1
  const holding = bases.findLastIndex((base) => base <= recoveryPoint)
  return { firstScannedIndex: Math.max(0, holding), expectedEndOffset: null }
}

/** Walks the segments oldest first: trust or scan each, drop what cannot follow. */
function recoverSegments(
  context: SegmentCheckContext, bases: readonly number[], plan: ScanPlan,
): RecoveredSegment[] {
  const { fs, dir, report } = context
  const recovered: RecoveredSegment[] = []
  const buffer = Buffer.allocUnsafe(RECOVERY_BUFFER_BYTES)
  let dropReason: string | null = null
  bases.forEach((baseOffset, i) => {
    const name = segmentFileName(baseOffset, 'log')
    const previous = recovered[recovered.length - 1]
    if (dropReason === null && previous !== undefined && previous.nextOffset !== baseOffset) {
      dropReason = `starts at offset ${baseOffset}, but the segment before it ends at ` +
        `${previous.nextOffset}`
    }
    if (dropReason !== null) {
      dropSegment(fs, dir, baseOffset, dropReason, report)
      return
    }
    const isLast = i === bases.length - 1
    const handle = fs.open(segmentPath(dir, baseOffset, 'log'), 'readwrite')
    try {
      const sizeBytes = fs.size(handle)
      const window = new FileWindow(fs, handle, buffer)
      let segment: RecoveredSegment | string = 'scheduled for a full scan'
      if (i < plan.firstScannedIndex) {
        const expectedNext = isLast ? plan.expectedEndOffset : bases[i + 1]!
        segment = trustSegment(context, window, baseOffset, sizeBytes, expectedNext, isLast)
        if (typeof segment === 'string') report.notes.push(`${name}: ${segment}; scanning it`)
        else if (segment.nextOffset > context.stopAtOffset) segment = 'holds unacknowledged offsets'
      }
      if (typeof segment === 'string') {
        segment = scanAndRepair(context, window, handle, baseOffset, sizeBytes, isLast)
      }
      if (segment.truncated && !isLast) dropReason = `follows ${name}, which was truncated`
      recovered.push(segment)
    } finally {
      fs.close(handle)
    }
  })
  return recovered
}

function dropSegment(
  fs: FileSystem, dir: string, baseOffset: number, reason: string, report: RecoveryReport,
): void {
  const sizeBytes = fs.stat(segmentPath(dir, baseOffset, 'log'))?.size ?? 0
  for (const kind of SEGMENT_FILE_KINDS) fs.unlink(segmentPath(dir, baseOffset, kind))
  report.segmentsDropped.push({ segment: segmentFileName(baseOffset, 'log'), sizeBytes, reason })
}

function toInfo(
  fs: FileSystem, dir: string, segment: RecoveredSegment, checkpoint: Checkpoint | null,
): SegmentInfo {
  const logPath = segmentPath(dir, segment.baseOffset, 'log')
  const createdMs = checkpoint !== null && checkpoint.activeSegmentBaseOffset === segment.baseOffset
    ? checkpoint.activeSegmentCreatedMs
    : Math.floor(fs.stat(logPath)?.mtimeMs ?? 0)
  return {
    baseOffset: segment.baseOffset,
    sizeBytes: segment.sizeBytes,
    nextOffset: segment.nextOffset,
    path: logPath,
    maxTimestamp: segment.maxTimestamp,
    createdMs,
  }
}

function createEmptySegment(fs: FileSystem, dir: string, baseOffset: number, clock: Clock)
  : SegmentInfo {
  for (const kind of SEGMENT_FILE_KINDS) {
    fs.close(fs.open(segmentPath(dir, baseOffset, kind), 'create'))
  }
  return {
    baseOffset,
    sizeBytes: 0,
    nextOffset: baseOffset,
    path: segmentPath(dir, baseOffset, 'log'),
    maxTimestamp: -1,
    createdMs: clock.nowMs(),
  }
}

function emptyReport(dir: string): RecoveryReport {
  return {
    dir,
    clean: false,
    checkpoint: 'missing',
    notes: [],
    segmentsScanned: 0,
    batchesScanned: 0,
    bytesScanned: 0,
    truncations: [],
    segmentsDropped: [],
    indexesRebuilt: [],
    leftoversDeleted: [],
    logStartOffset: 0,
    logEndOffset: 0,
    recoveryPointOffset: 0,
    durationMs: 0,
    segments: [],
    activeIndexer: EMPTY_INDEXER_STATE,
  }
}
