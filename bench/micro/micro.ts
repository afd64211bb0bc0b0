/**
 * Micro-benchmarks of the hot functions, with tinybench: batch encode and decode (none and lz4),
 * CRC-32C, LZ4 frame compress and the project's block-walking LZ4 decompress, the shared offset
 * index lookup a reader does before every read, and the hand-off of an append to a shard thread
 * and back (the per-batch cost group commit amortises).
 *
 * Each task reports ops/s and per-op latency (mean, p99); where an op moves a known number of
 * bytes or records, MB/s or records/s is derived from the mean. All inputs are built before
 * timing, from the same log-line records the scenarios append.
 */
import { crc32c } from '@node-rs/crc32'
import { compressFrameSync } from 'lz4-napi'
import { Bench } from 'tinybench'
import { Codec } from '../../src/format/batch-header.js'
import { decompress } from '../../src/format/compression.js'
import { decodeBatch, encodeBatch } from '../../src/format/record-batch.js'
import {
  SharedIndexReader, SharedIndexWriter, createSharedIndexBuffer,
} from '../../src/engine/shared-index.js'
import { seededRandom } from '../../src/seeded-random.js'
import { logLineValues, recordGroups } from '../data/log-lines.js'
import { MIB } from '../measure.js'
import { figure, type Figure, type ScenarioResult } from '../results.js'
import type { BenchLog } from '../scenarios/engine.js'

export interface MicroPlan {
  timeMs: number
  warmupMs: number
  /** Minimum runs per task (tinybench runs until both the time and this are reached). */
  iterations: number
}

interface MicroTask {
  name: string
  run: () => unknown
  bytesPerOp?: number
  recordsPerOp?: number
}

function formatTasks(): MicroTask[] {
  const [records] = recordGroups(logLineValues(100, 1000), 1000, 1)
  const plain = encodeBatch(records!, { compression: 'none' })
  const compressed = encodeBatch(records!, { compression: 'lz4' })
  const payload = Buffer.concat(logLineValues(1024, 1024))
  const frame = compressFrameSync(payload)
  const kib = payload.subarray(0, 1024)
  const recordBytes = 100 * 1000
  return [
    { name: 'encodeBatch 1000×100B none', run: () => encodeBatch(records!),
      bytesPerOp: recordBytes, recordsPerOp: 1000 },
    { name: 'encodeBatch 1000×100B lz4', run: () => encodeBatch(records!, { compression: 'lz4' }),
      bytesPerOp: recordBytes, recordsPerOp: 1000 },
    { name: 'decodeBatch 1000×100B none', run: () => decodeBatch(plain),
      bytesPerOp: recordBytes, recordsPerOp: 1000 },
    { name: 'decodeBatch 1000×100B lz4', run: () => decodeBatch(compressed),
      bytesPerOp: recordBytes, recordsPerOp: 1000 },
    { name: 'crc32c 1 MiB', run: () => crc32c(payload), bytesPerOp: payload.byteLength },
    { name: 'crc32c 1 KiB', run: () => crc32c(kib), bytesPerOp: kib.byteLength },
    { name: 'lz4 compressFrame 1 MiB', run: () => compressFrameSync(payload),
      bytesPerOp: payload.byteLength },
    { name: 'lz4 decompress 1 MiB (format/)', run: () => decompress(Codec.lz4, frame, 2 * MIB),
      bytesPerOp: payload.byteLength },
  ]
}

/** A published index shaped like a busy partition: 64 segments, 16 k active-index entries. */
function indexLookupTask(): MicroTask {
  const buffer = createSharedIndexBuffer()
  const writer = new SharedIndexWriter(buffer)
  const segments = []
  for (let s = 0; s < 64; s++) {
    segments.push({ baseOffset: s * 1_000_000, committedBytes: 1 << 30,
      nextOffset: (s + 1) * 1_000_000 })
  }
  const activeBase = 63 * 1_000_000
  const entries = []
  for (let e = 0; e < 16_384; e++) entries.push({ offset: activeBase + e * 40, position: e * 4096 })
  writer.publishLayout({ logStartOffset: 0, highWatermark: 64 * 1_000_000, segments }, entries)
  const reader = new SharedIndexReader(buffer)
  const random = seededRandom(7)
  const offsets = Array.from({ length: 4096 }, () => Math.floor(random() * 64 * 1_000_000))
  let next = 0
  return { name: 'index lookup (shared index plan)',
    run: () => reader.plan(offsets[next++ & 4095]!) }
}

async function handOffTasks(bench: BenchLog): Promise<MicroTask[]> {
  const topic = await bench.createTopic('micro', { partitions: 1, durability: 'memory' })
  const one = [{ value: logLineValues(100, 1)[0]! }]
  const burst = 64
  return [
    { name: 'hand-off to a shard: append 1 record, round trip',
      run: () => bench.log.append(topic, 0, one), recordsPerOp: 1 },
    { name: `hand-off to a shard: ${burst} appends in one turn`,
      run: () => Promise.all(Array.from({ length: burst }, () => bench.log.append(topic, 0, one))),
      recordsPerOp: burst },
  ]
}

/** Rates derive from the mean latency (total time / runs), not tinybench's mean of per-sample
 * rates, which fast outliers inflate; so ops/s, MB/s and records/s agree with one another. */
function figuresOf(task: MicroTask, meanMs: number, p99Ms: number): Figure[] {
  const opsFromMean = meanMs > 0 ? 1000 / meanMs : 0
  const figures = [
    figure(`${task.name} ops/s`, opsFromMean, 'ops/s'),
    figure(`${task.name} mean`, meanMs * 1000, 'µs'),
    figure(`${task.name} p99`, p99Ms * 1000, 'µs'),
  ]
  if (task.bytesPerOp !== undefined) {
    figures.push(figure(`${task.name} MB/s`, (task.bytesPerOp * opsFromMean) / 1e6, 'MB/s'))
  }
  if (task.recordsPerOp !== undefined && task.recordsPerOp > 1) {
    figures.push(figure(`${task.name} records/s`, task.recordsPerOp * opsFromMean, 'records/s'))
  }
  return figures
}

export async function runMicro(bench: BenchLog, plan: MicroPlan): Promise<ScenarioResult> {
  const tasks = [...formatTasks(), indexLookupTask(), ...(await handOffTasks(bench))]
  const runner = new Bench({ time: plan.timeMs, warmupTime: plan.warmupMs, throws: true,
    iterations: plan.iterations, warmupIterations: Math.max(1, plan.iterations >> 2) })
  for (const task of tasks) runner.add(task.name, task.run)
  await runner.run()
  const figures: Figure[] = []
  for (const task of tasks) {
    const result = runner.getTask(task.name)?.result
    if (result === undefined || (result.state !== 'completed')) {
      throw new Error(`micro-benchmark "${task.name}" did not complete (${result?.state})`)
    }
    figures.push(...figuresOf(task, result.period, result.latency.p99))
  }
  return {
    name: 'micro',
    kind: 'micro',
    params: { tool: 'tinybench', timeMsPerTask: plan.timeMs, warmupMsPerTask: plan.warmupMs,
      minIterations: plan.iterations },
    figures,
  }
}
