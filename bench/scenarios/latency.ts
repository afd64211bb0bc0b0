/**
 * End-to-end latency, embedded, open-loop at fixed offered rates: a producer appends records on a
 * fixed schedule whether or not earlier appends are done, and a consumer on the same thread
 * records, for every record, (time it was delivered) − (time it was *meant* to be sent). Measuring
 * from the intended send time is the correction for coordinated omission: when anything stalls,
 * the records scheduled during the stall are charged the stall, instead of being sent late and
 * timed from then. The intended time travels inside the record (first 8 bytes, float64 ms of
 * performance.now()).
 *
 * Delivery modes:
 *   pull  Kafka's model: a loop of `log.read(offset, { maxWaitMs })`, a long poll that returns as
 *         soon as the high watermark moves (Atomics.waitAsync), from the last offset read.
 *   push  Flume's model (consumer.run, agents): not in the engine yet, so it is reported as
 *         skipped with that reason; a pull loop relabelled "push" would be a fake.
 *
 * Records scheduled during the warm-up are delivered but not recorded. Records still undelivered
 * `drainTimeoutMs` after the producer stops are recorded at their latency at that moment.
 */
import type { Log } from '../../src/index.js'
import type { Durability } from '../../src/engine/types.js'
import { SluiceError } from '../../src/errors.js'
import { logLineValues } from '../data/log-lines.js'
import { sizeLabel } from '../limits/cpu.js'
import {
  curveOf, latencyHistogram, nowMs, percentilesOf, perSec, recordMicros,
} from '../measure.js'
import { figure, type LatencySeries, type ScenarioResult } from '../results.js'
import type { BenchLog } from './engine.js'

export interface LatencyCase {
  recordBytes: number
  durability: Durability
  ratesPerSec: number[]
}

export interface LatencyPhase {
  warmupMs: number
  measureMs: number
  pullMaxWaitMs: number
  drainTimeoutMs: number
  maxRecordsPerAppend: number
}

export const PUSH_PENDING_REASON = 'the engine has no push delivery yet (consumer.run and the ' +
  'agents are not built); push latency is pending, only the pull long-poll is measured'

const STAMP_BYTES = 8

export function latencyCaseName(c: LatencyCase): string {
  return `latency/${sizeLabel(c.recordBytes)}/${c.durability}`
}

function stampedValue(template: Buffer, intendedMs: number): Buffer {
  const value = Buffer.allocUnsafe(template.byteLength)
  template.copy(value)
  value.writeDoubleLE(intendedMs, 0)
  return value
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

interface Schedule {
  startMs: number
  intervalMs: number
  total: number
}

/** Sends record i at schedule.startMs + i × intervalMs; returns once every append is acked. */
async function produce(log: Log, topic: string, c: LatencyCase, schedule: Schedule,
  phase: LatencyPhase, state: { sent: number }): Promise<void> {
  const templates = logLineValues(Math.max(STAMP_BYTES, c.recordBytes), 256)
  const acks: Promise<unknown>[] = []
  let failure: unknown = null
  while (state.sent < schedule.total && failure === null) {
    const due = Math.min(schedule.total,
      Math.floor((nowMs() - schedule.startMs) / schedule.intervalMs) + 1)
    while (state.sent < due) {
      const count = Math.min(due - state.sent, phase.maxRecordsPerAppend)
      const records = []
      for (let i = state.sent; i < state.sent + count; i++) {
        const intended = schedule.startMs + i * schedule.intervalMs
        records.push({ value: stampedValue(templates[i % templates.length]!, intended) })
      }
      // Open loop: not awaited here. A failure is kept and ends the run after this turn.
      acks.push(log.append(topic, 0, records).catch((error: unknown) => { failure ??= error }))
      state.sent += count
    }
    await nextTurn()
  }
  await Promise.all(acks)
  if (failure !== null) throw failure
}

async function pullConsume(log: Log, topic: string, schedule: Schedule, phase: LatencyPhase,
  recordFromMs: number, record: (micros: number) => void): Promise<number> {
  let offset = 0
  let giveUpAt = Infinity
  const stopAt = schedule.startMs + schedule.total * schedule.intervalMs
  while (offset < schedule.total) {
    if (giveUpAt === Infinity && nowMs() > stopAt) giveUpAt = nowMs() + phase.drainTimeoutMs
    if (nowMs() > giveUpAt) break
    const { records } = await log.read(topic, 0, offset, { maxWaitMs: phase.pullMaxWaitMs })
    const deliveredMs = nowMs()
    for (const stored of records) {
      const intended = stored.value!.readDoubleLE(0)
      if (intended >= recordFromMs) record((deliveredMs - intended) * 1000)
      offset = stored.offset + 1
    }
  }
  const undelivered = schedule.total - offset
  for (let i = offset; i < schedule.total; i++) {
    const intended = schedule.startMs + i * schedule.intervalMs
    if (intended >= recordFromMs) record((nowMs() - intended) * 1000)
  }
  return undelivered
}

async function pullAtRate(bench: BenchLog, c: LatencyCase, rate: number, phase: LatencyPhase)
  : Promise<{ series: LatencySeries; undelivered: number }> {
  const topic = await bench.createTopic('latency', { partitions: 1, durability: c.durability })
  const histogram = latencyHistogram()
  const intervalMs = 1000 / rate
  const total = Math.max(1, Math.round(((phase.warmupMs + phase.measureMs) / 1000) * rate))
  const schedule: Schedule = { startMs: nowMs() + 5, intervalMs, total }
  const recordFromMs = schedule.startMs + phase.warmupMs
  const state = { sent: 0 }
  const [, undelivered] = await Promise.all([
    produce(bench.log, topic, c, schedule, phase, state),
    pullConsume(bench.log, topic, schedule, phase, recordFromMs,
      (micros) => recordMicros(histogram, micros)),
  ])
  if (histogram.totalCount === 0) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG',
      `latency at ${rate}/s recorded nothing: measureMs ${phase.measureMs} is too short`)
  }
  const series: LatencySeries = {
    mode: 'pull',
    offeredRatePerSec: rate,
    achievedRatePerSec: perSec(histogram.totalCount, phase.measureMs),
    records: histogram.totalCount,
    percentilesUs: percentilesOf(histogram),
    curve: curveOf(histogram),
  }
  return { series, undelivered }
}

export async function runLatencyCase(bench: BenchLog, c: LatencyCase, phase: LatencyPhase,
  onRate: (rate: number) => void = () => undefined): Promise<ScenarioResult> {
  const series: LatencySeries[] = []
  const notes: string[] = []
  for (const rate of c.ratesPerSec) {
    onRate(rate)
    const result = await pullAtRate(bench, c, rate, phase)
    series.push(result.series)
    if (result.undelivered > 0) {
      notes.push(`pull at ${rate}/s: ${result.undelivered} records undelivered after the ` +
        `${phase.drainTimeoutMs} ms drain, recorded at their latency then`)
    }
  }
  const figures = series.flatMap((s) => [
    figure(`pull p50 @ ${s.offeredRatePerSec}/s`, s.percentilesUs.p50, 'µs'),
    figure(`pull p99 @ ${s.offeredRatePerSec}/s`, s.percentilesUs.p99, 'µs'),
    figure(`pull p99.9 @ ${s.offeredRatePerSec}/s`, s.percentilesUs.p999, 'µs'),
    figure(`pull max @ ${s.offeredRatePerSec}/s`, s.percentilesUs.max, 'µs'),
  ])
  return {
    name: latencyCaseName(c),
    kind: 'latency',
    params: { recordBytes: c.recordBytes, durability: c.durability,
      rates: c.ratesPerSec.join(','), warmupMs: phase.warmupMs, measureMs: phase.measureMs,
      pullMaxWaitMs: phase.pullMaxWaitMs, openLoop: true,
      latencyFrom: 'intended send time (coordinated-omission corrected)' },
    figures,
    latency: series,
    notes,
  }
}
