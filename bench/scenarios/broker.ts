/**
 * Broker throughput over loopback: `sluice broker` as a child process (what a user runs), fed and
 * drained by real Kafka clients, beside the embedded `Log` doing the same work in the same run.
 *
 *   librdkafka  kcat -P of a file of records (one per line), then kcat -C -e of all of them;
 *               and librdkafka's own rdkafka_performance -P / -C (records from memory)
 *   kafkajs     producer.send of 1000-record batches, 4 in flight; then a group consumer's
 *               eachBatch from the beginning
 *   embedded    Log.appendBatch of the same record size and durability, then readBatches (cold)
 *
 * Every figure names what bounds it. Beside records/s and payload MB/s (record values only) it
 * reports CPU in cores (CPU seconds / wall seconds) for the broker process, for the broker's main
 * thread alone (the protocol and the event loop live there; the shards are worker threads), and
 * for the client, read from /proc/<pid>/task/<tid>/stat for the broker, bash's `times` for kcat
 * and process.cpuUsage() for kafkajs (which runs in this process), plus what every other process
 * on the machine used meanwhile (from /proc/stat), since the cores are shared. The verdict says
 * which side is the bottleneck from CPU cost per MB (see `ceilings` in broker-cpu.ts), which
 * stays fair when other work shares the cores, and what was observed (a side saturated, or all
 * cores busy).
 *
 * This module owns the orchestration and the figures; the broker child process lives in
 * broker-process.ts, the client drivers in broker-clients.ts, the CPU accounting in broker-cpu.ts.
 *
 * The target, judged on the librdkafka produce figure: ≥ 300 MB/s of 1 KiB records with
 * durability `os`. The kafkajs target (the client's CPU, not the broker's, is the bottleneck)
 * is judged in the verdict note and the `client is the bottleneck` figure (1 = yes).
 *
 * Run: `sluice bench --scenario broker` (quick scale), `npm run bench:broker` (full scale), or
 * any `--full` run. Cases come from brokerPlan() in bench/plan.ts; bench/runner.ts writes them.
 */
import { mkdirSync, rmSync } from 'node:fs'
import * as path from 'node:path'
import type { Durability } from '../../src/engine/types.js'
import { DISK_LIMIT_NAMES } from '../limits/disk.js'
import { MEMCPY_LIMIT, sizeLabel } from '../limits/cpu.js'
import { findLimit } from '../limits/index.js'
import { MIB, megabytesPerSec, perSec } from '../measure.js'
import { figure, type Figure, type Limit, type ScenarioResult } from '../results.js'
import { withBenchLog } from './engine.js'
import { runAppendCase } from './append.js'
import { runReadCase } from './read.js'
import {
  clientMissing, kafkajsFetch, kafkajsProduce, kcatFetch, kcatProduce, perfFetch, perfProduce,
  writeRecordFile, type BrokerCase,
} from './broker-clients.js'
import { ceilings, otherProcessesCores, verdict, type ClientRun } from './broker-cpu.js'
import { createTopic, startBrokerChild } from './broker-process.js'

export { clientMissing, type BrokerCase, type BrokerClient } from './broker-clients.js'

export interface BrokerPhase {
  /** records each librdkafka (kcat) case produces and then fetches */
  librdkafkaRecords: number
  /** records each kafkajs case produces and then fetches (kafkajs is far slower) */
  kafkajsRecords: number
  /** bound on any one client run; a run past it fails the bench */
  clientTimeoutMs: number
  /** the embedded baseline's measured phase */
  embeddedMeasureMs: number
  /** bytes the embedded cold-read baseline fills its partition with */
  embeddedReadFillBytes: number
}

const LIBRDKAFKA_TARGET_MBS = 300

export function brokerCaseName(c: BrokerCase, direction: 'produce' | 'fetch'): string {
  return `broker/${direction}/${c.client}/${sizeLabel(c.recordBytes)}/${c.durability}`
}

// ---- figures -----------------------------------------------------------------------------------

function payloadLimit(durability: Durability, direction: 'produce' | 'fetch',
  limits: readonly Limit[]): Limit {
  if (direction === 'fetch') return findLimit(limits, DISK_LIMIT_NAMES.read)
  if (durability === 'fsync') return findLimit(limits, DISK_LIMIT_NAMES.writeSync)
  if (durability === 'os') return findLimit(limits, DISK_LIMIT_NAMES.writeOs)
  return findLimit(limits, MEMCPY_LIMIT)
}

function runFigures(run: ClientRun, c: BrokerCase, direction: 'produce' | 'fetch',
  limits: readonly Limit[], embedded: Figure | undefined): Figure[] {
  const seconds = run.elapsedMs / 1000
  const mbs = megabytesPerSec(run.payloadBytes, run.elapsedMs)
  const judged = direction === 'produce' && c.client !== 'kafkajs' && c.durability === 'os'
    && c.recordBytes === 1024
  const figures = [
    figure(direction === 'fetch' ? 'decoded records/s' : 'records/s',
      perSec(run.records, run.elapsedMs), 'records/s'),
    figure('payload MB/s', mbs, 'MB/s', payloadLimit(c.durability, direction, limits), judged
      ? { description: `librdkafka produce of 1 KiB records, durability os, ≥ ` +
        `${LIBRDKAFKA_TARGET_MBS} MB/s`, value: LIBRDKAFKA_TARGET_MBS, appliesTo: 'value' }
      : undefined),
    figure('broker CPU', run.broker.totalSec / seconds, 'cores'),
    figure('broker main-thread CPU', run.broker.mainThreadSec / seconds, 'cores'),
    figure('client CPU', run.clientCpuSec / seconds, 'cores'),
    figure('other processes CPU', otherProcessesCores(run), 'cores'),
    figure('broker CPU per MB', run.broker.totalSec * 1000 / (run.payloadBytes / 1e6), 'ms/MB'),
    figure('client CPU per MB', run.clientCpuSec * 1000 / (run.payloadBytes / 1e6), 'ms/MB'),
  ]
  const bound = verdict(run)
  const limit = ceilings(run)
  figures.push(figure('client CPU ceiling', limit.clientMBs, 'MB/s'),
    figure('broker CPU ceiling', limit.brokerMBs, 'MB/s'),
    figure('client + broker CPU ceiling on this machine', limit.machineMBs, 'MB/s'))
  figures.push(figure('client is the bottleneck', bound.clientBound ? 1 : 0, 'boolean',
    undefined, c.client === 'kafkajs'
      ? { description: 'with kafkajs the client CPU, not the broker, is the bottleneck',
        value: 1, appliesTo: 'value' }
      : undefined))
  if (embedded !== undefined) {
    figures.push(figure(`payload MB/s vs embedded`, mbs, 'MB/s',
      { name: `embedded ${embedded.name}`, value: embedded.value, unit: embedded.unit }))
  }
  return figures
}

function scenarioOf(run: ClientRun, c: BrokerCase, direction: 'produce' | 'fetch',
  limits: readonly Limit[], embedded: Figure | undefined): ScenarioResult {
  const figures = runFigures(run, c, direction, limits, embedded)
  const mbs = figures.find((f) => f.name === 'payload MB/s')!
  return {
    name: brokerCaseName(c, direction),
    kind: direction === 'produce' ? 'append' : 'read',
    params: { ...c, direction, records: run.records, partitions: 1, transport: 'loopback TCP',
      clientConfig: run.config },
    figures,
    notes: [`${mbs.value.toFixed(0)} MB/s, ${run.records} records in ` +
      `${run.elapsedMs.toFixed(0)} ms; ${verdict(run).text}`],
  }
}

// ---- the scenario ------------------------------------------------------------------------------

interface Embedded {
  scenarios: ScenarioResult[]
  produce: Figure | undefined
  fetch: Figure | undefined
}

/** The embedded Log doing the broker's work: appendBatch of stored batches, cold readBatches. */
async function runEmbedded(recordBytes: number, durability: Durability, phase: BrokerPhase,
  dataRoot: string, limits: readonly Limit[]): Promise<Embedded> {
  const label = `${sizeLabel(recordBytes)}/${durability}`
  const append = await withBenchLog(dataRoot, `broker-embedded-append-${label.replace('/', '-')}`,
    (bench) => runAppendCase(bench, { recordBytes, partitions: 1, durability,
      compression: 'none', api: 'appendBatch' }, { warmupMs: 300,
      measureMs: phase.embeddedMeasureMs, inFlightPerPartition: 4 }, limits))
  const read = await withBenchLog(dataRoot, `broker-embedded-read-${label.replace('/', '-')}`,
    (bench) => runReadCase(bench, { recordBytes, where: 'cold', compression: 'none' },
      { hotFillBytes: MIB, coldFillBytes: phase.embeddedReadFillBytes, coldSegmentBytes: 4 * MIB,
        measureMs: phase.embeddedMeasureMs, maxBytes: MIB }, limits))
  const produce = append.figures.find((f) => f.name === 'payload MB/s')
  const fetch = read.figures.find((f) => f.name === 'stored batches MB/s')
  return {
    scenarios: [{ ...append, name: `broker/embedded/append/${label}` },
      { ...read, name: `broker/embedded/read-cold/${sizeLabel(recordBytes)}` }],
    produce: produce && { ...produce, name: 'append payload MB/s' },
    fetch: fetch && { ...fetch, name: 'cold readBatches MB/s' },
  }
}

async function runClientCase(c: BrokerCase, phase: BrokerPhase, dataRoot: string,
  limits: readonly Limit[], embedded: Embedded): Promise<ScenarioResult[]> {
  const caseDir = path.join(dataRoot, `broker-${c.client}-${sizeLabel(c.recordBytes)}`)
  rmSync(caseDir, { recursive: true, force: true })
  mkdirSync(caseDir, { recursive: true })
  const broker = await startBrokerChild(path.join(caseDir, 'data'), c.durability)
  try {
    const topic = `bench-${c.client}`
    await createTopic(broker.bootstrap, topic, c.durability)
    let produced: ClientRun
    let fetched: ClientRun
    if (c.client === 'kcat') {
      const file = path.join(caseDir, 'records.txt')
      await writeRecordFile(file, c.recordBytes, phase.librdkafkaRecords)
      produced = await kcatProduce(broker, topic, c, phase.librdkafkaRecords, file,
        phase.clientTimeoutMs)
      rmSync(file, { force: true })
      fetched = await kcatFetch(broker, topic, c, phase.librdkafkaRecords, phase.clientTimeoutMs)
    } else if (c.client === 'rdkafka_performance') {
      produced = await perfProduce(broker, topic, c, phase.librdkafkaRecords,
        phase.clientTimeoutMs)
      fetched = await perfFetch(broker, topic, c, phase.librdkafkaRecords, phase.clientTimeoutMs)
    } else {
      produced = await kafkajsProduce(broker, topic, c, phase.kafkajsRecords)
      fetched = await kafkajsFetch(broker, topic, c, produced.records, phase.clientTimeoutMs)
    }
    return [scenarioOf(produced, c, 'produce', limits, embedded.produce),
      scenarioOf(fetched, c, 'fetch', limits, embedded.fetch)]
  } finally {
    await broker.stop()
    rmSync(caseDir, { recursive: true, force: true })
  }
}

export interface BrokerRun {
  scenarios: ScenarioResult[]
  skipped: { name: string; reason: string }[]
}

/** Runs the embedded baseline once per (size, durability), then every client case. */
export async function runBrokerScenarios(cases: readonly BrokerCase[], phase: BrokerPhase,
  dataRoot: string, limits: readonly Limit[], step: (label: string) => void = () => undefined)
  : Promise<BrokerRun> {
  const run: BrokerRun = { scenarios: [], skipped: [] }
  const baselines = new Map<string, Embedded>()
  for (const c of cases) {
    const missing = clientMissing(c.client)
    if (missing !== null) {
      run.skipped.push({ name: brokerCaseName(c, 'produce'), reason: missing })
      continue
    }
    const key = `${c.recordBytes}/${c.durability}`
    let embedded = baselines.get(key)
    if (embedded === undefined) {
      step(`broker/embedded/${sizeLabel(c.recordBytes)}/${c.durability}`)
      embedded = await runEmbedded(c.recordBytes, c.durability, phase, dataRoot, limits)
      baselines.set(key, embedded)
      run.scenarios.push(...embedded.scenarios)
    }
    step(brokerCaseName(c, 'produce'))
    run.scenarios.push(...await runClientCase(c, phase, dataRoot, limits, embedded))
  }
  return run
}
