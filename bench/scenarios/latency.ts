/**
 * End-to-end latency, embedded, push versus pull on the same data in the same run, open loop at
 * fixed offered rates.
 *
 * One producer (`producer.send`, the kafkajs-shaped client) sends records on a fixed schedule
 * whether or not earlier sends are done. Two consumer groups read the same topic at once:
 *
 *   push  Flume's model: `consumer.run({ eachMessage })`. The handler is called as soon as the
 *         append is acknowledged, woken by the shared index's high watermark (Atomics.waitAsync).
 *   pull  Kafka's model: a loop of `consumer.fetch({ maxWaitMs })`, a long poll that returns as
 *         soon as the high watermark moves.
 *
 * Both see every record, so both are measured on identical data; they share one thread, as an
 * embedded application would, so each is charged for the other's work when their wake-ups
 * coincide (a few µs per batch).
 *
 * Each record's latency is (time its handler saw it) − (time it was *meant* to be sent), which
 * corrects for coordinated omission (bench/scenarios/open-loop.ts has the harness and the rules:
 * warm-up, drain, and the producer's send lag reported beside them as the floor).
 *
 * Targets (the client issue), judged at 10,000 records/s: with durability `os`, push p99 ≤ 100 µs
 * and pull p99 ≤ 200 µs; with `fsync`, each p99 within 100 µs of this run's fdatasync p99.
 */
import type { Histogram } from 'hdr-histogram-js'
import { Sluice, logLevel, type SluiceConsumer, type SluiceProducer } from '../../src/index.js'
import type { Durability } from '../../src/engine/types.js'
import { DISK_LIMIT_NAMES } from '../limits/disk.js'
import { sizeLabel } from '../limits/cpu.js'
import { latencyHistogram, nowMs, percentilesOf } from '../measure.js'
import {
  figure, type Figure, type Limit, type LatencySeries, type ScenarioResult, type TargetSpec,
} from '../results.js'
import type { BenchLog } from './engine.js'
import {
  drain, percentileFigures, produceOpenLoop, readStamp, scheduleAt, seriesOf, Tally,
  undeliveredNote, type DeliveryMode,
} from './open-loop.js'

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

export type { DeliveryMode } from './open-loop.js'

/** The offered rate at which the latency targets are judged. */
export const TARGET_RATE_PER_SEC = 10_000
const OS_P99_TARGET_US: Record<DeliveryMode, number> = { push: 100, pull: 200 }
const FSYNC_P99_MARGIN_US = 100

export function latencyCaseName(c: LatencyCase): string {
  return `latency/${sizeLabel(c.recordBytes)}/${c.durability}`
}

async function pullLoop(consumer: SluiceConsumer, tally: Tally, phase: LatencyPhase,
  stop: { requested: boolean }): Promise<void> {
  while (!stop.requested && tally.delivered < tally.schedule.total) {
    const batches = await consumer.fetch({ maxWaitMs: phase.pullMaxWaitMs })
    const deliveredMs = nowMs()
    for (const batch of batches) {
      for (const message of batch.messages) tally.deliver(readStamp(message.value!), deliveredMs)
    }
  }
}

interface RateOutcome {
  series: LatencySeries[]
  undelivered: Record<DeliveryMode, number>
  sendLag: Histogram
}

async function connectConsumer(sluice: Sluice, topic: string, mode: DeliveryMode)
  : Promise<SluiceConsumer> {
  const consumer = sluice.consumer({ groupId: `${mode}-${topic}` })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  return consumer
}

async function measureRate(bench: BenchLog, c: LatencyCase, rate: number, phase: LatencyPhase)
  : Promise<RateOutcome> {
  const topic = await bench.createTopic('latency', { partitions: 1, durability: c.durability })
  const sluice = new Sluice({ log: bench.log, clientId: 'bench', logLevel: logLevel.NOTHING })
  try {
    const producer = sluice.producer()
    await producer.connect()
    const push = await connectConsumer(sluice, topic, 'push')
    const pull = await connectConsumer(sluice, topic, 'pull')
    const schedule = scheduleAt(rate, phase.warmupMs, phase.measureMs)
    const tallies = { push: new Tally(schedule), pull: new Tally(schedule) }
    // Neither side commits: pull's fetch commits nothing, and kafkajs's auto-commit after every
    // delivered batch would charge push for fsync'd offset writes, not for delivery.
    await push.run({ autoCommit: false, eachMessage: async ({ message }) => {
      tallies.push.deliver(readStamp(message.value!), nowMs())
    } })
    await pull.fetch({ maxWaitMs: 0 }) // joins its group before the clock starts
    const stop = { requested: false }
    const pulling = pullLoop(pull, tallies.pull, phase, stop)
    const sendLag = latencyHistogram()
    await produceOpenLoop(schedule, c.recordBytes, phase.maxRecordsPerAppend, sendLag,
      (values) => producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) }))
    await drain([tallies.push.done, tallies.pull.done], phase.drainTimeoutMs)
    stop.requested = true
    const undelivered = { push: tallies.push.chargeUndelivered(),
      pull: tallies.pull.chargeUndelivered() }
    await pulling
    const series = (['push', 'pull'] as const).map((mode) =>
      seriesOf(mode, rate, tallies[mode].histogram, phase.measureMs))
    return { series, undelivered, sendLag }
  } finally {
    await sluice.close()
  }
}

/** The p99 goal for this case and mode, or undefined where it sets none. */
export function p99Target(c: LatencyCase, mode: DeliveryMode, rate: number, limits: Limit[])
  : TargetSpec | undefined {
  if (rate !== TARGET_RATE_PER_SEC) return undefined
  if (c.durability === 'os') {
    const valueUs = OS_P99_TARGET_US[mode]
    return { description: `${mode} p99 ≤ ${valueUs} µs at ${rate}/s, durability os`,
      value: valueUs, appliesTo: 'value', direction: 'atMost' }
  }
  if (c.durability !== 'fsync') return undefined
  const fsync = limits.find((l) => l.name === DISK_LIMIT_NAMES.syncP99)
  if (fsync === undefined) return undefined
  const fsyncUs = fsync.unit === 'ms' ? fsync.value * 1000 : fsync.value
  return { description: `${mode} p99 ≤ fdatasync p99 (${Math.round(fsyncUs)} µs) + ` +
    `${FSYNC_P99_MARGIN_US} µs at ${rate}/s`, value: fsyncUs + FSYNC_P99_MARGIN_US,
  appliesTo: 'value', direction: 'atMost' }
}

function seriesFigures(c: LatencyCase, s: LatencySeries, limits: Limit[]) {
  const p = s.percentilesUs
  return [
    figure(`${s.mode} p50 @ ${s.offeredRatePerSec}/s`, p.p50, 'µs'),
    figure(`${s.mode} p99 @ ${s.offeredRatePerSec}/s`, p.p99, 'µs', undefined,
      p99Target(c, s.mode, s.offeredRatePerSec, limits)),
    figure(`${s.mode} p99.9 @ ${s.offeredRatePerSec}/s`, p.p999, 'µs'),
    figure(`${s.mode} max @ ${s.offeredRatePerSec}/s`, p.max, 'µs'),
  ]
}

export async function runLatencyCase(bench: BenchLog, c: LatencyCase, phase: LatencyPhase,
  limits: Limit[], onRate: (rate: number) => void = () => undefined): Promise<ScenarioResult> {
  const series: LatencySeries[] = []
  const notes: string[] = []
  const floors: Figure[] = []
  for (const rate of c.ratesPerSec) {
    onRate(rate)
    const outcome = await measureRate(bench, c, rate, phase)
    series.push(...outcome.series)
    floors.push(...percentileFigures('send lag', rate, percentilesOf(outcome.sendLag)))
    for (const mode of ['push', 'pull'] as const) {
      if (outcome.undelivered[mode] === 0) continue
      notes.push(undeliveredNote(mode, rate, outcome.undelivered[mode], phase.drainTimeoutMs))
    }
  }
  const push = series.filter((s) => s.mode === 'push')
  const pull = series.filter((s) => s.mode === 'pull')
  const figures = [...push, ...pull].flatMap((s) => seriesFigures(c, s, limits))
  figures.push(...floors)
  for (const [i, p] of push.entries()) {
    const q = pull[i]!
    figures.push(figure(`pull p99 / push p99 @ ${p.offeredRatePerSec}/s`,
      q.percentilesUs.p99 / Math.max(1, p.percentilesUs.p99), 'x'))
  }
  return {
    name: latencyCaseName(c),
    kind: 'latency',
    params: { recordBytes: c.recordBytes, durability: c.durability,
      rates: c.ratesPerSec.join(','), warmupMs: phase.warmupMs, measureMs: phase.measureMs,
      pullMaxWaitMs: phase.pullMaxWaitMs, openLoop: true, api: 'producer.send → ' +
        'consumer.run (push) and consumer.fetch (pull), two groups on one topic',
      latencyFrom: 'intended send time (coordinated-omission corrected)' },
    figures,
    latency: series,
    notes,
  }
}
