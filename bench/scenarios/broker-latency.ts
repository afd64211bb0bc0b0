/**
 * End-to-end latency over the Kafka protocol: `sluice broker` as a child process (what a user
 * runs), a kafkajs producer sending open loop at fixed offered rates (acks -1), and a kafkajs
 * consumer reading the same topic with `consumer.run({ eachMessage })`, all over loopback TCP;
 * the same harness, rates and record values as the embedded latency cases
 * (bench/scenarios/open-loop.ts), so the curves sit on the same axes.
 *
 * Over the Kafka protocol every consumer pulls: kafkajs's handler API runs a loop of Fetch long
 * polls (maxWaitTimeInMs = pullMaxWaitMs, minBytes 1) that the broker answers as soon as the high
 * watermark moves. So the series is `pull`, and stands beside embedded pull (consumer.fetch) and
 * embedded push (consumer.run woken in-process); the broker adds the wire, the protocol codec and
 * kafkajs's own costs. The consumer commits nothing (as the embedded readers).
 *
 * Run in --full, or with `--scenario latency/kafka` (a few seconds per rate, plus the broker's
 * start and the group join). Cases come from kafkaLatencyPlan() in bench/plan.ts.
 */
import { mkdirSync, rmSync } from 'node:fs'
import * as path from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { sizeLabel } from '../limits/cpu.js'
import { latencyHistogram, nowMs, percentilesOf } from '../measure.js'
import { type Figure, type LatencySeries, type ScenarioResult } from '../results.js'
import { createTopic, startBrokerChild } from './broker-process.js'
import type { LatencyCase, LatencyPhase } from './latency.js'
import {
  drain, percentileFigures, produceOpenLoop, readStamp, scheduleAt, seriesOf, Tally,
  undeliveredNote,
} from './open-loop.js'

/** Bound on the consumer's group join before the clock starts. */
const JOIN_TIMEOUT_MS = 30_000

export function kafkaLatencyCaseName(c: LatencyCase): string {
  return `latency/kafka/${sizeLabel(c.recordBytes)}/${c.durability}`
}

interface RateOutcome {
  series: LatencySeries
  undelivered: number
  sendLag: ReturnType<typeof latencyHistogram>
}

async function measureRate(kafka: Kafka, bootstrap: string, c: LatencyCase, rate: number,
  phase: LatencyPhase): Promise<RateOutcome> {
  const topic = `latency-${rate}`
  await createTopic(bootstrap, topic, c.durability)
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  const consumer = kafka.consumer({ groupId: `latency-${rate}`,
    maxWaitTimeInMs: phase.pullMaxWaitMs, minBytes: 1 })
  try {
    await producer.connect()
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const holder: { tally: Tally | null } = { tally: null }
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench: kafkajs consumer did not join ` +
        `its group within ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS)
      consumer.on(consumer.events.GROUP_JOIN, () => { clearTimeout(timer); resolve() })
    })
    await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => {
      holder.tally?.deliver(readStamp(message.value!), nowMs())
    } })
    await joined
    const schedule = scheduleAt(rate, phase.warmupMs, phase.measureMs)
    const tally = new Tally(schedule)
    holder.tally = tally
    const sendLag = latencyHistogram()
    await produceOpenLoop(schedule, c.recordBytes, phase.maxRecordsPerAppend, sendLag,
      (values) => producer.send({ topic, acks: -1,
        messages: values.map((value) => ({ value })) }))
    await drain([tally.done], phase.drainTimeoutMs)
    const undelivered = tally.chargeUndelivered()
    return { series: seriesOf('pull', rate, tally.histogram, phase.measureMs), undelivered,
      sendLag }
  } finally {
    await consumer.disconnect()
    await producer.disconnect()
  }
}

export async function runKafkaLatencyCase(c: LatencyCase, phase: LatencyPhase, dataRoot: string,
  onRate: (rate: number) => void = () => undefined): Promise<ScenarioResult> {
  const caseDir = path.join(dataRoot, `kafka-latency-${sizeLabel(c.recordBytes)}-${c.durability}`)
  rmSync(caseDir, { recursive: true, force: true })
  mkdirSync(caseDir, { recursive: true })
  const broker = await startBrokerChild(path.join(caseDir, 'data'), c.durability)
  const series: LatencySeries[] = []
  const figures: Figure[] = []
  const notes: string[] = []
  try {
    const kafka = new Kafka({ clientId: 'sluice-bench-latency', brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING })
    for (const rate of c.ratesPerSec) {
      onRate(rate)
      const outcome = await measureRate(kafka, broker.bootstrap, c, rate, phase)
      series.push(outcome.series)
      figures.push(...percentileFigures('pull', rate, outcome.series.percentilesUs),
        ...percentileFigures('send lag', rate, percentilesOf(outcome.sendLag)))
      if (outcome.undelivered > 0) {
        notes.push(undeliveredNote('pull', rate, outcome.undelivered, phase.drainTimeoutMs))
      }
    }
  } finally {
    await broker.stop()
    rmSync(caseDir, { recursive: true, force: true })
  }
  return {
    name: kafkaLatencyCaseName(c),
    kind: 'latency',
    params: { recordBytes: c.recordBytes, durability: c.durability,
      rates: c.ratesPerSec.join(','), warmupMs: phase.warmupMs, measureMs: phase.measureMs,
      pullMaxWaitMs: phase.pullMaxWaitMs, openLoop: true, transport: 'Kafka protocol, loopback',
      api: 'kafkajs producer.send (acks -1) → sluice broker → kafkajs consumer.run ' +
        '(eachMessage; Fetch long polls on the wire, so pull)',
      latencyFrom: 'intended send time (coordinated-omission corrected)' },
    figures,
    latency: series,
    notes,
  }
}
