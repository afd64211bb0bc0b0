/**
 * Append throughput through the embedded `Log`: records/s and payload MB/s for one record size,
 * partition count, durability mode and codec, with several appends in flight per partition so
 * the shard's group commit has something to group (one writev and one fdatasync per group).
 *
 * Closed loop on purpose: each in-flight slot sends its next append as soon as the previous one
 * is acknowledged, which is how a saturating producer behaves. A warm-up phase runs first and is
 * not counted; the measured phase ends when every append started before its deadline is acked,
 * and the elapsed time runs to that last ack.
 *
 * Payload MB/s counts record values only (not keys, framing or the 61-byte batch header), so it is
 * the user's data rate, compared with the limit that bounds it:
 *   fsync → sequential write + fdatasync   os → sequential write into the page cache
 *   memory → memcpy                        lz4 (any durability) → one core's LZ4 frame speed
 */
import type { Durability } from '../../src/engine/types.js'
import { encodeBatch } from '../../src/format/record-batch.js'
import { logLineValues, recordGroups } from '../data/log-lines.js'
import { DISK_LIMIT_NAMES } from '../limits/disk.js'
import { MEMCPY_LIMIT, lz4LimitName, recordsPerAppend, sizeLabel } from '../limits/cpu.js'
import { findLimit } from '../limits/index.js'
import {
  latencyHistogram, megabytesPerSec, nowMs, perSec, percentilesOf, recordMicros,
} from '../measure.js'
import {
  figure, type Figure, type Limit, type ScenarioResult, type TargetSpec,
} from '../results.js'
import type { BenchLog } from './engine.js'

export interface AppendCase {
  recordBytes: number
  partitions: number
  durability: Durability
  compression: 'none' | 'lz4'
  /** 'append' encodes records on the caller's thread; 'appendBatch' sends pre-encoded batches. */
  api: 'append' | 'appendBatch'
}

export interface AppendPhase {
  warmupMs: number
  measureMs: number
  inFlightPerPartition: number
}

/** Distinct record groups cycled by the appenders (so values are not one repeated batch). */
const GROUPS = 8

export function appendCaseName(c: AppendCase): string {
  const api = c.api === 'appendBatch' ? '/batches' : ''
  const size = sizeLabel(c.recordBytes)
  return `append/${size}/p${c.partitions}/${c.durability}/${c.compression}${api}`
}

interface Tally {
  records: number
  appends: number
}

async function drive(
  send: (partition: number, group: number) => Promise<unknown>,
  c: AppendCase, slots: number, durationMs: number, perAppend: number,
  onAck: (micros: number) => void,
): Promise<Tally & { elapsedMs: number }> {
  const tally: Tally = { records: 0, appends: 0 }
  const started = nowMs()
  const deadline = started + durationMs
  const loops: Promise<void>[] = []
  for (let partition = 0; partition < c.partitions; partition++) {
    for (let slot = 0; slot < slots; slot++) {
      loops.push((async () => {
        let group = (partition + slot) % GROUPS
        while (nowMs() < deadline) {
          const sentAt = nowMs()
          await send(partition, group)
          onAck((nowMs() - sentAt) * 1000)
          tally.records += perAppend
          tally.appends++
          group = (group + 1) % GROUPS
        }
      })())
    }
  }
  await Promise.all(loops)
  return { ...tally, elapsedMs: nowMs() - started }
}

function payloadLimit(c: AppendCase, limits: readonly Limit[]): Limit {
  if (c.compression === 'lz4') return findLimit(limits, lz4LimitName(c.recordBytes))
  if (c.durability === 'fsync') return findLimit(limits, DISK_LIMIT_NAMES.writeSync)
  if (c.durability === 'os') return findLimit(limits, DISK_LIMIT_NAMES.writeOs)
  return findLimit(limits, MEMCPY_LIMIT)
}

/** Issue 2's goals, attached where they apply. */
function targets(c: AppendCase): { records?: TargetSpec; payload?: TargetSpec } {
  if (c.durability !== 'fsync' || c.compression !== 'none') return {}
  if (c.recordBytes === 100 && c.partitions > 1) {
    return { records: { description: '≥ 2 M 100 B records/s, fsync, across partitions',
      value: 2_000_000, appliesTo: 'value' } }
  }
  if (c.recordBytes === 1024) {
    return { payload: { description: '1 KiB records at ≥ 50% of seq-write + fdatasync',
      value: 0.5, appliesTo: 'ratio' } }
  }
  return {}
}

export async function runAppendCase(
  bench: BenchLog, c: AppendCase, phase: AppendPhase, limits: readonly Limit[],
): Promise<ScenarioResult> {
  const perAppend = recordsPerAppend(c.recordBytes)
  const groups = recordGroups(logLineValues(c.recordBytes, 4096), perAppend, GROUPS)
  const batches = groups.map((group) => encodeBatch(group, { compression: 'none' }))
  const topic = await bench.createTopic('append', {
    partitions: c.partitions, durability: c.durability, compression: c.compression,
  })
  const { log } = bench
  const send = c.api === 'append'
    ? (partition: number, group: number) => log.append(topic, partition, groups[group]!)
    : (partition: number, group: number) => log.appendBatch(topic, partition, batches[group]!)
  const slots = phase.inFlightPerPartition
  await drive(send, c, slots, phase.warmupMs, perAppend, () => undefined)
  const histogram = latencyHistogram()
  const measured = await drive(send, c, slots, phase.measureMs, perAppend,
    (micros) => recordMicros(histogram, micros))

  const ack = percentilesOf(histogram)
  const goal = targets(c)
  const payloadBytes = measured.records * c.recordBytes
  const figures: Figure[] = [
    figure('records/s', perSec(measured.records, measured.elapsedMs), 'records/s', undefined,
      goal.records),
    figure('payload MB/s', megabytesPerSec(payloadBytes, measured.elapsedMs), 'MB/s',
      payloadLimit(c, limits), goal.payload),
    figure('append ack p50', ack.p50 / 1000, 'ms'),
    figure('append ack p99', ack.p99 / 1000, 'ms'),
  ]
  return {
    name: appendCaseName(c),
    kind: 'append',
    params: { ...c, recordsPerAppend: perAppend, inFlightPerPartition: slots,
      measureMs: phase.measureMs, warmupMs: phase.warmupMs },
    figures,
    notes: [`${measured.appends} appends of ${perAppend} records in ` +
      `${measured.elapsedMs.toFixed(0)} ms; ack latency is closed-loop service time`],
  }
}
