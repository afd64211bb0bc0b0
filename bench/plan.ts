/**
 * What a bench run measures, per mode:
 *
 *   quick  `npm run bench`: the headline cases, ~80 s of measuring on 2 cores
 *   full   every combination: 100 B / 1 KiB / 10 KiB × 1 / 4 / 16 partitions ×
 *          fsync / os / memory × lz4 off / on, reads hot and cold, more offered rates
 *   tiny   the self-test's configuration: one case of each kind, a few hundred ms each (no
 *          peers: test/bench/peers.test.ts runs them on its own tiny plan)
 *
 * `--scenario NAME` keeps the cases whose name starts with NAME (a group such as `append`, or a
 * case such as `append/1KiB/p8/fsync/none`). Limits are always measured: every figure needs them.
 */
import { SluiceError } from '../src/errors.js'
import type { Durability } from '../src/engine/types.js'
import type { LimitsPlan } from './limits/index.js'
import { MIB } from './measure.js'
import type { MicroPlan } from './micro/micro.js'
import { peerCaseName, type PeerCase, type PeerPhase } from './peers/peers.js'
import { sluiceAppendName, sluiceLatencyName, type PeerName } from './peers/workload.js'
import { appendCaseName, type AppendCase, type AppendPhase } from './scenarios/append.js'
import { agentCaseName, type AgentCase, type AgentPhase } from './scenarios/agent.js'
import { agentPathCaseName, type AgentPathCase } from './scenarios/agent-paths.js'
import { brokerCaseName, type BrokerCase, type BrokerPhase } from './scenarios/broker.js'
import { latencyCaseName, type LatencyCase, type LatencyPhase } from './scenarios/latency.js'
import { kafkaLatencyCaseName } from './scenarios/broker-latency.js'
import { readCaseName, type ReadCase, type ReadPhase } from './scenarios/read.js'
import type { BenchMode } from './results.js'

export interface BenchPlan {
  mode: BenchMode
  limits: LimitsPlan
  append: { cases: AppendCase[]; phase: AppendPhase }
  read: { cases: ReadCase[]; phase: ReadPhase }
  latency: { cases: LatencyCase[]; phase: LatencyPhase }
  micro: MicroPlan | null
  agent: { cases: AgentCase[]; phase: AgentPhase }
  /**
   * Agents beyond one file_roll (bench/scenarios/agent-paths.ts): an avro hop, a Kafka log, the
   * hdfs sink; measured with the agent phase, selected by `--scenario agent` too.
   */
  agentPaths: { cases: AgentPathCase[] }
  /** Runs by default only in --full (minutes of client runs); `--scenario broker` asks for it. */
  broker: { cases: BrokerCase[]; phase: BrokerPhase }
  /**
   * Latency over the Kafka protocol (bench/scenarios/broker-latency.ts), beside the embedded
   * cases; like the broker, only in --full or when `--scenario latency/kafka` asks.
   */
  kafkaLatency: { cases: LatencyCase[]; phase: LatencyPhase }
  /** Redis Streams and NATS JetStream beside sluice, when installed (bench/peers/peers.ts). */
  peers: { cases: PeerCase[]; phase: PeerPhase }
}

export const SCENARIO_GROUPS = ['append', 'read', 'latency', 'micro', 'agent', 'broker',
  'peers'] as const

function appendCase(recordBytes: number, partitions: number, durability: Durability,
  compression: 'none' | 'lz4' = 'none', api: AppendCase['api'] = 'append'): AppendCase {
  return { recordBytes, partitions, durability, compression, api }
}

function fullAppendCases(): AppendCase[] {
  const cases: AppendCase[] = []
  for (const size of [100, 1024, 10 * 1024]) {
    for (const partitions of [1, 4, 16]) {
      for (const durability of ['fsync', 'os', 'memory'] as const) {
        for (const compression of ['none', 'lz4'] as const) {
          cases.push(appendCase(size, partitions, durability, compression))
        }
      }
    }
  }
  cases.push(appendCase(100, 4, 'fsync', 'none', 'appendBatch'))
  cases.push(appendCase(1024, 4, 'fsync', 'none', 'appendBatch'))
  return cases
}

const QUICK_APPEND: AppendCase[] = [
  appendCase(100, 1, 'fsync'),
  appendCase(100, 8, 'fsync'),
  appendCase(1024, 1, 'fsync'),
  appendCase(1024, 8, 'fsync'),
  appendCase(100, 8, 'fsync', 'lz4'),
  appendCase(1024, 8, 'fsync', 'lz4'),
  appendCase(1024, 8, 'os'),
  appendCase(100, 8, 'fsync', 'none', 'appendBatch'),
]

function readCases(sizes: number[], compressions: ('none' | 'lz4')[]): ReadCase[] {
  const cases: ReadCase[] = []
  for (const where of ['hot', 'cold'] as const) {
    for (const recordBytes of sizes) {
      for (const compression of compressions) cases.push({ recordBytes, where, compression })
    }
  }
  return cases
}

const LIMITS: Record<BenchMode, LimitsPlan> = {
  quick: {
    disk: { passBytes: 64 * MIB, passes: 5, chunkBytes: MIB, syncSamples: 300,
      syncAppendBytes: 4096 },
    cpu: { memcpyBytes: 64 * MIB, memcpyBudgetMs: 150, lz4BudgetMs: 150 },
  },
  full: {
    disk: { passBytes: 512 * MIB, passes: 5, chunkBytes: MIB, syncSamples: 2000,
      syncAppendBytes: 4096 },
    cpu: { memcpyBytes: 64 * MIB, memcpyBudgetMs: 1000, lz4BudgetMs: 1000 },
  },
  tiny: {
    disk: { passBytes: 8 * MIB, passes: 1, chunkBytes: MIB, syncSamples: 20,
      syncAppendBytes: 4096 },
    cpu: { memcpyBytes: 8 * MIB, memcpyBudgetMs: 20, lz4BudgetMs: 20 },
  },
}

export function buildPlan(mode: BenchMode): BenchPlan {
  const limits = LIMITS[mode]
  if (mode === 'tiny') {
    const appendPhase = { warmupMs: 50, measureMs: 200, inFlightPerPartition: 2 }
    const latencyPhase = { warmupMs: 50, measureMs: 300, pullMaxWaitMs: 100,
      drainTimeoutMs: 2000, maxRecordsPerAppend: 1000 }
    return {
      mode, limits,
      append: { cases: [appendCase(100, 2, 'fsync')], phase: appendPhase },
      read: { cases: [{ recordBytes: 100, where: 'hot', compression: 'none' }],
        phase: { hotFillBytes: MIB, coldFillBytes: 4 * MIB, coldSegmentBytes: 256 * 1024,
          measureMs: 150, maxBytes: MIB } },
      latency: { cases: [{ recordBytes: 100, durability: 'fsync', ratesPerSec: [2000] }],
        phase: latencyPhase },
      micro: { timeMs: 10, warmupMs: 5, iterations: 8 },
      agent: { cases: [], phase: agentPlan(mode).phase },
      agentPaths: { cases: [] },
      broker: { cases: [], phase: brokerPlan(mode).phase },
      kafkaLatency: { cases: [], phase: latencyPhase },
      peers: { cases: [], phase: { publish: appendPhase, latency: latencyPhase } },
    }
  }
  const full = mode === 'full'
  const appendPhase = { warmupMs: full ? 1000 : 300, measureMs: full ? 4000 : 1500,
    inFlightPerPartition: 4 }
  const latencyPhase = { warmupMs: full ? 1000 : 300, measureMs: full ? 5000 : 2000,
    pullMaxWaitMs: 500, drainTimeoutMs: 5000, maxRecordsPerAppend: 1000 }
  return {
    mode, limits,
    append: { cases: full ? fullAppendCases() : QUICK_APPEND, phase: appendPhase },
    read: { cases: full ? readCases([100, 1024, 10 * 1024], ['none', 'lz4'])
      : readCases([100, 1024], ['none']),
      phase: { hotFillBytes: 2 * MIB, coldFillBytes: (full ? 256 : 64) * MIB,
        coldSegmentBytes: 4 * MIB, measureMs: full ? 3000 : 1000, maxBytes: MIB } },
    latency: { cases: full
      ? [{ recordBytes: 100, durability: 'os', ratesPerSec: [1000, 10_000, 50_000, 200_000] },
        { recordBytes: 100, durability: 'fsync', ratesPerSec: [1000, 10_000, 50_000] },
        { recordBytes: 1024, durability: 'os', ratesPerSec: [1000, 10_000, 50_000] }]
      : [{ recordBytes: 100, durability: 'os', ratesPerSec: [10_000] },
        { recordBytes: 100, durability: 'fsync', ratesPerSec: [10_000] }],
    phase: latencyPhase },
    micro: { timeMs: full ? 1000 : 150, warmupMs: full ? 200 : 30, iterations: 64 },
    agent: agentPlan(mode),
    agentPaths: agentPathPlan(mode),
    broker: brokerPlan(mode),
    kafkaLatency: { phase: latencyPhase, cases: full
      ? [{ recordBytes: 100, durability: 'os', ratesPerSec: [1000, 10_000] },
        { recordBytes: 100, durability: 'fsync', ratesPerSec: [10_000] }]
      : [{ recordBytes: 100, durability: 'os', ratesPerSec: [10_000] }] },
    peers: { cases: peerCases(full), phase: { publish: appendPhase, latency: latencyPhase } },
  }
}

function peerCase(peer: PeerName, workload: PeerCase['workload'], recordBytes: number,
  durability: PeerCase['durability'], ratesPerSec: number[] = []): PeerCase {
  return { peer, workload, recordBytes, durability, ratesPerSec }
}

/**
 * The peers (bench/peers/): in the quick set each case is one append-phase or latency-phase
 * long (~2 s), 100 B and 1 KiB records (JetStream publish 1 KiB only, to keep the quick set
 * short), each peer at the durability it can match; --full adds
 * 10 KiB, Redis at both durabilities and more rates (the latency rates are a subset of sluice's
 * own, so sluice's figures come from the same run's latency cases). The JetStream fsync case is
 * listed so its skip (2.9 cannot sync each write) is printed.
 */
function peerCases(full: boolean): PeerCase[] {
  const sizes = full ? [100, 1024, 10 * 1024] : [100, 1024]
  const rates = full ? [1000, 10_000, 50_000] : [10_000]
  const redisDurabilities = full ? (['fsync', 'os'] as const) : (['fsync'] as const)
  return [
    ...sizes.flatMap((size) => redisDurabilities.map((durability) =>
      peerCase('redis-streams', 'publish', size, durability))),
    // quick: 1 KiB only, as JetStream's os cases need sluice baselines the quick set lacks
    ...(full ? sizes : [1024]).map((size) => peerCase('nats-jetstream', 'publish', size, 'os')),
    peerCase('nats-jetstream', 'publish', 1024, 'fsync'),
    ...redisDurabilities.map((durability) =>
      peerCase('redis-streams', 'latency', 100, durability, rates)),
    peerCase('nats-jetstream', 'latency', 100, 'os', rates),
  ]
}

/**
 * The broker scenario (bench/scenarios/broker.ts: `sluice broker` as a child process, librdkafka
 * and kafkajs clients over loopback, beside the embedded Log). Its full runs take minutes, so
 * filterPlan drops it from the quick set; `--full` and `--scenario broker` run it.
 */
export function brokerPlan(mode: BenchMode): { cases: BrokerCase[]; phase: BrokerPhase } {
  const scale = mode === 'full' ? 1 : mode === 'quick' ? 1 / 8 : 1 / 256
  return {
    cases: [{ client: 'kcat', recordBytes: 1024, durability: 'os' },
      { client: 'rdkafka_performance', recordBytes: 1024, durability: 'os' },
      { client: 'kafkajs', recordBytes: 1024, durability: 'os' }],
    phase: { librdkafkaRecords: Math.ceil(1024 * 1024 * scale),
      kafkajsRecords: Math.ceil(256 * 1024 * scale), clientTimeoutMs: 300_000,
      embeddedMeasureMs: mode === 'tiny' ? 200 : 2000,
      embeddedReadFillBytes: Math.ceil(256 * MIB * scale) },
  }
}

/**
 * The agent scenario (bench/scenarios/agent.ts: http → memory | file channel → file_roll). Run
 * in the quick set and with `--scenario agent`; quick stays a few seconds.
 */
export function agentPlan(mode: BenchMode): { cases: AgentCase[]; phase: AgentPhase } {
  const sizes = mode === 'full' ? [100, 1024] : [100]
  const measureMs = { full: 5000, quick: 1200, tiny: 250 }[mode]
  return {
    cases: sizes.flatMap((eventBytes) => (['http', 'netcat'] as const).flatMap((source) =>
      (['memory', 'file'] as const).map((channel) => ({ source, channel, eventBytes })))),
    phase: { warmupMs: measureMs / 5, measureMs, clients: 16, eventsPerPost: 100,
      latencyRatePerSec: 5000, latencyEventsPerPost: 10, latencyMeasureMs: measureMs,
      drainTimeoutMs: 10_000 },
  }
}

/**
 * The agent paths (bench/scenarios/agent-paths.ts): avro hop, Kafka log and hdfs at 100 B in
 * the quick set (one agent phase each, ~3 s), 100 B and 1 KiB in --full. The tiny plan has
 * none (its self-test runs in seconds); test/bench/agent-paths.test.ts runs agentPathPlan('tiny').
 */
export function agentPathPlan(mode: BenchMode): { cases: AgentPathCase[] } {
  const sizes = mode === 'full' ? [100, 1024] : [100]
  return { cases: sizes.flatMap((eventBytes) => (['avro-hop', 'kafka-log', 'hdfs'] as const)
    .map((path) => ({ path, eventBytes }))) }
}

/** Keeps the cases whose name starts with `filter`; an unmatched filter is a typed error. */
export function filterPlan(plan: BenchPlan, filter: string | null): BenchPlan {
  if (filter === null) {
    return plan.mode === 'full' ? plan : { ...plan, broker: { ...plan.broker, cases: [] },
      kafkaLatency: { ...plan.kafkaLatency, cases: [] } }
  }
  const keep = (name: string) => name === filter || name.startsWith(`${filter}/`)
    || (filter.includes('/') && name.startsWith(filter))
  const filtered: BenchPlan = {
    ...plan,
    append: { ...plan.append, cases: plan.append.cases.filter((c) => keep(appendCaseName(c))) },
    read: { ...plan.read, cases: plan.read.cases.filter((c) => keep(readCaseName(c))) },
    latency: { ...plan.latency,
      cases: plan.latency.cases.filter((c) => keep(latencyCaseName(c))) },
    micro: keep('micro') ? plan.micro : null,
    agent: { ...plan.agent, cases: plan.agent.cases.filter((c) => keep(agentCaseName(c))) },
    agentPaths: { cases: plan.agentPaths.cases.filter((c) => keep(agentPathCaseName(c))) },
    broker: { ...plan.broker, cases: plan.broker.cases.filter((c) =>
      keep(brokerCaseName(c, 'produce')) || keep(brokerCaseName(c, 'fetch'))) },
    kafkaLatency: { ...plan.kafkaLatency,
      cases: plan.kafkaLatency.cases.filter((c) => keep(kafkaLatencyCaseName(c))) },
    peers: { ...plan.peers, cases: plan.peers.cases.filter((c) => keep(peerCaseName(c))) },
  }
  const left = filtered.append.cases.length + filtered.read.cases.length
    + filtered.latency.cases.length + (filtered.micro === null ? 0 : 1)
    + filtered.agent.cases.length + filtered.agentPaths.cases.length
    + filtered.broker.cases.length + filtered.peers.cases.length
    + filtered.kafkaLatency.cases.length
  if (left === 0 && filter !== 'limits') {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG',
      `--scenario ${filter} matches no case in --${plan.mode}; groups: ` +
      `${SCENARIO_GROUPS.join(', ')}, limits, or a case name such as ${appendCaseName(
        plan.append.cases[0] ?? appendCase(100, 1, 'fsync'))}`)
  }
  return filtered
}

/** The sluice cases the peers need that the plan does not run itself (each run once). */
function peerBaselines(plan: BenchPlan): number {
  const planned = new Set([...plan.append.cases.map(appendCaseName),
    ...plan.latency.cases.map(latencyCaseName)])
  const needed = new Set(plan.peers.cases
    .filter((c) => !(c.peer === 'nats-jetstream' && c.durability === 'fsync'))
    .map((c) => c.workload === 'publish' ? sluiceAppendName(c) : sluiceLatencyName(c))
    .filter((name) => !planned.has(name)))
  return needed.size
}

/**
 * Number of steps a progress bar counts: limits, each case, each latency rate (embedded and over
 * the Kafka protocol), for the broker one
 * embedded baseline per record size and durability, and each peer case and sluice baseline.
 */
export function planSteps(plan: BenchPlan): number {
  const rates = [...plan.latency.cases, ...plan.kafkaLatency.cases]
    .reduce((sum, c) => sum + c.ratesPerSec.length, 0)
  const baselines = new Set(plan.broker.cases.map((c) => `${c.recordBytes}/${c.durability}`))
  const peers = plan.peers.cases
    .filter((c) => !(c.peer === 'nats-jetstream' && c.durability === 'fsync')).length
  return 1 + plan.append.cases.length + plan.read.cases.length + rates
    + (plan.micro === null ? 0 : 1) + plan.agent.cases.length + plan.agentPaths.cases.length
    + plan.broker.cases.length
    + baselines.size + peers + peerBaselines(plan)
}
