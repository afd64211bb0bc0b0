/**
 * Read throughput through the embedded `Log`, on one partition filled beforehand:
 *
 *   hot   the data fits in the partition's tail window (shared memory), so `readBatches` should
 *         hand out zero-copy views; compared with memcpy, which a copying read could not beat.
 *   cold  the data spans many small sealed segments and the reads stay in the older half, so
 *         every byte comes from positioned reads of segment files; compared with page-cache read
 *         bandwidth. The page cache is not dropped (that would disturb the whole machine), so
 *         "cold" means "not in the tail window", not "not in RAM".
 *
 * Each case measures both forms on the same data: stored batches (MB/s of batch bytes) and
 * decoded records from `read` (records/s). Readers sweep [from, to) in maxBytes steps and wrap.
 */
import { readBatchHeader } from '../../src/format/batch-header.js'
import { logLineValues, recordGroups } from '../data/log-lines.js'
import { DISK_LIMIT_NAMES } from '../limits/disk.js'
import { MEMCPY_LIMIT, sizeLabel } from '../limits/cpu.js'
import { findLimit } from '../limits/index.js'
import { MIB, megabytesPerSec, nowMs, perSec } from '../measure.js'
import { figure, type Limit, type ScenarioResult } from '../results.js'
import type { BenchLog } from './engine.js'

export interface ReadCase {
  recordBytes: number
  where: 'hot' | 'cold'
  compression: 'none' | 'lz4'
}

export interface ReadPhase {
  hotFillBytes: number
  coldFillBytes: number
  coldSegmentBytes: number
  measureMs: number
  maxBytes: number
}

const FILL_APPEND_BYTES = 128 * 1024

export function readCaseName(c: ReadCase): string {
  return `read/${c.where}/${sizeLabel(c.recordBytes)}/${c.compression}`
}

async function fill(bench: BenchLog, c: ReadCase, phase: ReadPhase): Promise<string> {
  const topic = await bench.createTopic('read', {
    partitions: 1, durability: 'os', compression: c.compression,
    ...(c.where === 'cold' ? { segmentBytes: phase.coldSegmentBytes } : {}),
  })
  const perAppend = Math.max(1, Math.floor(FILL_APPEND_BYTES / c.recordBytes))
  const groups = recordGroups(logLineValues(c.recordBytes, 4096), perAppend, 8)
  const fillBytes = c.where === 'hot' ? phase.hotFillBytes : phase.coldFillBytes
  const appends = Math.max(1, Math.ceil(fillBytes / (perAppend * c.recordBytes)))
  for (let i = 0; i < appends; i += 4) {
    const burst: Promise<unknown>[] = []
    for (let j = i; j < Math.min(appends, i + 4); j++) {
      burst.push(bench.log.append(topic, 0, groups[j % groups.length]!))
    }
    await Promise.all(burst)
  }
  return topic
}

interface Sweep {
  bytes: number
  batches: number
  sharedBatches: number
  elapsedMs: number
}

async function sweepBatches(
  bench: BenchLog, topic: string, from: number, to: number, phase: ReadPhase,
): Promise<Sweep> {
  const sweep: Sweep = { bytes: 0, batches: 0, sharedBatches: 0, elapsedMs: 0 }
  const started = nowMs()
  const deadline = started + phase.measureMs
  let offset = from
  while (nowMs() < deadline) {
    const { batches } = await bench.log.readBatches(topic, 0, offset, { maxBytes: phase.maxBytes })
    for (const batch of batches) {
      sweep.bytes += batch.byteLength
      if (batch.buffer instanceof SharedArrayBuffer) sweep.sharedBatches++
    }
    sweep.batches += batches.length
    const last = batches[batches.length - 1]
    const header = last === undefined ? null : readBatchHeader(last)
    offset = header === null ? to : header.baseOffset + header.lastOffsetDelta + 1
    if (offset >= to) offset = from
  }
  sweep.elapsedMs = nowMs() - started
  return sweep
}

async function sweepRecords(
  bench: BenchLog, topic: string, from: number, to: number, phase: ReadPhase,
): Promise<{ records: number; elapsedMs: number }> {
  let records = 0
  const started = nowMs()
  const deadline = started + phase.measureMs
  let offset = from
  while (nowMs() < deadline) {
    const result = await bench.log.read(topic, 0, offset, { maxBytes: phase.maxBytes })
    records += result.records.length
    const last = result.records[result.records.length - 1]
    offset = last === undefined ? to : last.offset + 1
    if (offset >= to) offset = from
  }
  return { records, elapsedMs: nowMs() - started }
}

export async function runReadCase(
  bench: BenchLog, c: ReadCase, phase: ReadPhase, limits: readonly Limit[],
): Promise<ScenarioResult> {
  const topic = await fill(bench, c, phase)
  const { highWatermark } = bench.log.offsets(topic, 0)
  // Cold reads stay in the older half, well behind the tail window.
  const to = c.where === 'hot' ? highWatermark : Math.floor(highWatermark / 2)
  const batches = await sweepBatches(bench, topic, 0, to, phase)
  const records = await sweepRecords(bench, topic, 0, to, phase)

  const byteLimit = findLimit(limits, c.where === 'hot' ? MEMCPY_LIMIT : DISK_LIMIT_NAMES.read)
  const hotGoals = c.where === 'hot' && c.compression === 'none'
  const figures = [
    figure('stored batches MB/s', megabytesPerSec(batches.bytes, batches.elapsedMs), 'MB/s',
      byteLimit, hotGoals
        ? { description: 'hot stored batches at ≥ 50% of memcpy', value: 0.5, appliesTo: 'ratio' }
        : undefined),
    figure('decoded records/s', perSec(records.records, records.elapsedMs), 'records/s',
      undefined, hotGoals && c.recordBytes === 100
        ? { description: '≥ 5 M decoded 100 B records/s', value: 5_000_000, appliesTo: 'value' }
        : undefined),
    figure('batches as shared-memory views', batches.batches > 0
      ? batches.sharedBatches / batches.batches : 0, 'fraction'),
  ]
  return {
    name: readCaseName(c),
    kind: 'read',
    params: { ...c, fillMiB: (c.where === 'hot' ? phase.hotFillBytes : phase.coldFillBytes) / MIB,
      offsetsRead: to, maxBytes: phase.maxBytes, measureMs: phase.measureMs,
      ...(c.where === 'cold' ? { segmentBytes: phase.coldSegmentBytes } : {}) },
    figures,
  }
}
