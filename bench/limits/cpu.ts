/**
 * The CPU-bound limits: memcpy bandwidth (the ceiling of any read path that copies, and what a
 * zero-copy read should beat), and LZ4 frame compression speed on exactly the bytes the append
 * scenarios hand the shard (the records section of each append's batch), which bounds every
 * compressed append on one core.
 *
 * Each limit is the best run (interference only slows a run down), with the median beside it.
 * Buffers are allocated and touched before timing: first-touch memory on this VM runs at
 * ~1 GB/s instead of ~5 GB/s (shared/reference/performance.md §1).
 */
import { compressFrameSync } from 'lz4-napi'
import { BATCH_HEADER_BYTES } from '../../src/format/batch-header.js'
import { encodeBatch } from '../../src/format/record-batch.js'
import { logLineValues, recordGroups } from '../data/log-lines.js'
import type { Limit } from '../results.js'
import { MIB, megabytesPerSec, median, timeRuns } from '../measure.js'

export interface CpuPlan {
  memcpyBytes: number
  memcpyBudgetMs: number
  lz4BudgetMs: number
}

export const MEMCPY_LIMIT = 'memcpy'

export function lz4LimitName(recordBytes: number): string {
  return `lz4 compress ${sizeLabel(recordBytes)} records`
}

export function lz4RatioName(recordBytes: number): string {
  return `lz4 ratio ${sizeLabel(recordBytes)} records`
}

export function sizeLabel(bytes: number): string {
  return bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024}KiB` : `${bytes}B`
}

export function measureMemcpy(plan: CpuPlan): Limit {
  const source = Buffer.allocUnsafeSlow(plan.memcpyBytes)
  const target = Buffer.allocUnsafeSlow(plan.memcpyBytes)
  source.fill(0x5a)
  target.fill(0)
  source.copy(target)
  const runs = timeRuns(() => source.copy(target), plan.memcpyBudgetMs)
  return {
    name: MEMCPY_LIMIT,
    value: megabytesPerSec(plan.memcpyBytes, Math.min(...runs)),
    unit: 'MB/s',
    method: `Buffer.copy of ${plan.memcpyBytes / MIB} MiB between warm buffers, ` +
      `best of ${runs.length} copies (median ${megabytesPerSec(plan.memcpyBytes, median(runs))
        .toFixed(0)} MB/s)`,
  }
}

/** Records per append for a record size: ~1000, capped so a batch stays near 512 KiB. */
export function recordsPerAppend(recordBytes: number): number {
  return Math.max(1, Math.min(1000, Math.floor((512 * 1024) / recordBytes)))
}

/** The uncompressed records section the shard compresses for one append of this size. */
export function appendRecordsSection(recordBytes: number): Buffer {
  const count = recordsPerAppend(recordBytes)
  const [group] = recordGroups(logLineValues(recordBytes, count), count, 1)
  const batch = encodeBatch(group!, { compression: 'none', now: 0 })
  return batch.subarray(BATCH_HEADER_BYTES)
}

export function measureLz4(recordBytes: number, plan: CpuPlan): Limit[] {
  const section = appendRecordsSection(recordBytes)
  const compressedBytes = compressFrameSync(section).byteLength
  const runs = timeRuns(() => compressFrameSync(section), plan.lz4BudgetMs)
  const method = `lz4-napi compressFrameSync on one append's records section ` +
    `(${recordsPerAppend(recordBytes)} log-line records, ${section.byteLength} B), one core, ` +
    `best of ${runs.length} runs (median ${megabytesPerSec(section.byteLength, median(runs))
      .toFixed(0)} MB/s)`
  return [
    { name: lz4LimitName(recordBytes), unit: 'MB/s', method,
      value: megabytesPerSec(section.byteLength, Math.min(...runs)) },
    { name: lz4RatioName(recordBytes), unit: 'x', method,
      value: section.byteLength / compressedBytes },
  ]
}
