/**
 * What a peer case is and what every peer driver shares: the case names, the closed-loop publish
 * driver, and the figures that put a peer's numbers beside sluice's for the same workload.
 *
 * The workloads are sluice's own, so the comparison is like for like:
 *
 *   publish  closed loop for sluice's append phase (same warm-up and measured time, same record
 *            values), with as many records in flight as sluice's append case has
 *            (inFlightPerPartition appends × recordsPerAppend records), one partition / stream;
 *            each peer record is one command (XADD, PUB), as neither batches records per command
 *   latency  sluice's open-loop harness (bench/scenarios/open-loop.ts) at the same offered
 *            rates, warm-up, measured time and drain, with the same stamped record values
 *
 * Publish cases also report the CPU the server and this process (the client) used in cores, so
 * a reader can tell which side bounds the peer on shared cores.
 *
 * Every peer scenario names the sluice scenario it is compared with (`params.sluiceScenario`) and
 * carries the ratios sluice / peer as figures (unit `x`): above 1 means sluice is higher, which
 * for records/s is better and for latency is worse.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import type { Durability } from '../../src/engine/types.js'
import { logLineValues } from '../data/log-lines.js'
import { DISK_LIMIT_NAMES } from '../limits/disk.js'
import { recordsPerAppend, sizeLabel } from '../limits/cpu.js'
import { findLimit } from '../limits/index.js'
import {
  latencyHistogram, megabytesPerSec, nowMs, percentilesOf, perSec, recordMicros,
} from '../measure.js'
import {
  figure, type Figure, type LatencySeries, type Limit, type Percentiles, type ScenarioResult,
} from '../results.js'
import type { AppendPhase } from '../scenarios/append.js'
import { cpuBetween, sampleCpu } from '../scenarios/broker-cpu.js'

export type PeerName = 'redis-streams' | 'nats-jetstream'
export type PeerWorkload = 'publish' | 'latency'
/** The sluice durability mode a peer case is set up to match. */
export type ComparedDurability = Extract<Durability, 'fsync' | 'os'>

export interface PeerCase {
  peer: PeerName
  workload: PeerWorkload
  recordBytes: number
  durability: ComparedDurability
  /** offered rates, for latency cases */
  ratesPerSec: number[]
}

/** What a driver says about how it ran: the versions, the settings, what matched what. */
export interface PeerSetup {
  server: string
  client: string
  /** the peer's durability setting, as configured and as read back from the server */
  durabilitySetting: string
  /** the same in a few words, for table cells: "appendfsync always" */
  durabilityLabel: string
  /** how that setting compares with the sluice mode it stands beside */
  durabilityComparison: string
  /** client connections to the server in this case */
  connections: number
}

export function peerCaseName(c: PeerCase): string {
  const verb = c.workload === 'latency' ? 'latency'
    : c.peer === 'redis-streams' ? 'xadd' : 'publish'
  return `peers/${c.peer}/${verb}/${sizeLabel(c.recordBytes)}/${c.durability}`
}

/** The sluice append case a publish case stands beside (bench/scenarios/append.ts's name). */
export function sluiceAppendName(c: PeerCase): string {
  return `append/${sizeLabel(c.recordBytes)}/p1/${c.durability}/none`
}

export function sluiceLatencyName(c: PeerCase): string {
  return `latency/${sizeLabel(c.recordBytes)}/${c.durability}`
}

/** Records a peer keeps in flight: as many as sluice's append case of the same size. */
export function recordsInFlight(c: PeerCase, phase: AppendPhase): number {
  return phase.inFlightPerPartition * recordsPerAppend(c.recordBytes)
}

/**
 * An installed package's version, from the package.json above its entry point (the NATS packages
 * do not export ./package.json).
 */
export function packageVersion(pkg: string): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve(pkg))
  for (;;) {
    const file = path.join(dir, 'package.json')
    if (existsSync(file)) {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
      if (json.name === pkg) return json.version ?? 'unknown'
    }
    const parent = path.dirname(dir)
    if (parent === dir) return 'unknown'
    dir = parent
  }
}

/** How late the open-loop producer sent, at one rate: the floor under the peer's latency. */
export interface SendLag {
  rate: number
  percentilesUs: Percentiles
}

export interface PeerLatencyRun {
  setup: PeerSetup
  series: LatencySeries[]
  sendLag: SendLag[]
  notes: string[]
}

/** Distinct values cycled by publishers, as the sluice cases cycle theirs. */
const DISTINCT_VALUES = 4096

export interface PublishOutcome {
  records: number
  elapsedMs: number
  ackP50Us: number
  ackP99Us: number
  /** CPU seconds per second of the measured phase: the server process (all threads) */
  serverCores: number
  /** … and this process, where the client runs */
  clientCores: number
}

/**
 * Closed loop: `inFlight` slots each send a record and send the next when it is acked (`slot`
 * lets a driver spread them over connections). A warm-up of the same shape runs first; the
 * measured phase ends at its last ack.
 */
export async function drivePublish(send: (value: Buffer, slot: number) => Promise<unknown>,
  c: PeerCase,
  phase: AppendPhase, serverPid: number): Promise<PublishOutcome> {
  const values = logLineValues(c.recordBytes, DISTINCT_VALUES)
  const inFlight = recordsInFlight(c, phase)
  const histogram = latencyHistogram()
  const run = async (durationMs: number, measured: boolean) => {
    let records = 0
    const started = nowMs()
    const deadline = started + durationMs
    const slots = Array.from({ length: inFlight }, async (_, slot) => {
      let next = slot
      while (nowMs() < deadline) {
        const sentAt = nowMs()
        await send(values[next % values.length]!, slot)
        if (measured) recordMicros(histogram, (nowMs() - sentAt) * 1000)
        records++
        next += inFlight
      }
    })
    await Promise.all(slots)
    return { records, elapsedMs: nowMs() - started }
  }
  await run(phase.warmupMs, false)
  const serverBefore = sampleCpu(serverPid)
  const clientBefore = process.cpuUsage()
  const measured = await run(phase.measureMs, true)
  const client = process.cpuUsage(clientBefore)
  const server = cpuBetween(serverBefore, sampleCpu(serverPid))
  const seconds = measured.elapsedMs / 1000
  const ack = percentilesOf(histogram)
  return { ...measured, ackP50Us: ack.p50, ackP99Us: ack.p99,
    serverCores: server.totalSec / seconds,
    clientCores: (client.user + client.system) / 1e6 / seconds }
}

function payloadLimit(durability: ComparedDurability, limits: readonly Limit[]): Limit {
  return findLimit(limits, durability === 'fsync' ? DISK_LIMIT_NAMES.writeSync
    : DISK_LIMIT_NAMES.writeOs)
}

function setupParams(c: PeerCase, setup: PeerSetup) {
  return { peer: c.peer, server: setup.server, client: setup.client,
    recordBytes: c.recordBytes, comparedWithSluiceDurability: c.durability,
    peerDurability: setup.durabilitySetting, peerDurabilityLabel: setup.durabilityLabel,
    durabilityComparison: setup.durabilityComparison, connections: setup.connections,
    transport: 'loopback TCP, server started by the bench in a temp dir' }
}

export function publishScenario(c: PeerCase, setup: PeerSetup, outcome: PublishOutcome,
  phase: AppendPhase, sluice: ScenarioResult, limits: readonly Limit[]): ScenarioResult {
  const rate = perSec(outcome.records, outcome.elapsedMs)
  const sluiceRate = sluice.figures.find((f) => f.name === 'records/s')?.value ?? 0
  const mbs = megabytesPerSec(outcome.records * c.recordBytes, outcome.elapsedMs)
  return {
    name: peerCaseName(c),
    kind: 'peer',
    params: { ...setupParams(c, setup), workload: 'publish', partitions: 1,
      recordsInFlight: recordsInFlight(c, phase), warmupMs: phase.warmupMs,
      measureMs: phase.measureMs, sluiceScenario: sluice.name },
    figures: [
      figure('records/s', rate, 'records/s'),
      figure('payload MB/s', mbs, 'MB/s', payloadLimit(c.durability, limits)),
      figure('ack p50', outcome.ackP50Us / 1000, 'ms'),
      figure('ack p99', outcome.ackP99Us / 1000, 'ms'),
      figure('server CPU', outcome.serverCores, 'cores'),
      figure('client CPU (bench process)', outcome.clientCores, 'cores'),
      figure('sluice records/s', sluiceRate, 'records/s'),
      figure('sluice / peer records/s', rate > 0 ? sluiceRate / rate : 0, 'x'),
    ],
    notes: [`${outcome.records} records in ${outcome.elapsedMs.toFixed(0)} ms, ` +
      `${recordsInFlight(c, phase)} in flight; server ${outcome.serverCores.toFixed(2)} cores, ` +
      `client ${outcome.clientCores.toFixed(2)} cores; beside ${sluice.name}`],
  }
}

function p99At(scenario: ScenarioResult, mode: LatencySeries['mode'], rate: number)
  : number | undefined {
  return scenario.latency?.find((s) => s.mode === mode && s.offeredRatePerSec === rate)
    ?.percentilesUs.p99
}

/**
 * `series` are the peer's deliveries (its push and/or pull paths); `describe` names each mode's
 * mechanism ("XREAD BLOCK"). Each series gets its percentiles, and where sluice has the same
 * mode at the same rate, sluice's p99 and the ratio sluice p99 / peer p99; each rate gets the
 * producer's send lag (a stalled bench process shows there, not as the peer's latency).
 */
export function latencyScenario(c: PeerCase, run: PeerLatencyRun,
  describe: Partial<Record<LatencySeries['mode'], string>>, phaseParams: Record<string, number>,
  sluice: ScenarioResult): ScenarioResult {
  const { setup, series, notes } = run
  const figures: Figure[] = []
  for (const s of series) {
    const at = `@ ${s.offeredRatePerSec}/s`
    const p = s.percentilesUs
    figures.push(figure(`${s.mode} p50 ${at}`, p.p50, 'µs'),
      figure(`${s.mode} p99 ${at}`, p.p99, 'µs'),
      figure(`${s.mode} p99.9 ${at}`, p.p999, 'µs'),
      figure(`${s.mode} max ${at}`, p.max, 'µs'))
    const sluiceP99 = p99At(sluice, s.mode, s.offeredRatePerSec)
    if (sluiceP99 === undefined) continue
    figures.push(figure(`sluice ${s.mode} p99 ${at}`, sluiceP99, 'µs'),
      figure(`sluice / peer ${s.mode} p99 ${at}`, sluiceP99 / Math.max(1, p.p99), 'x'))
  }
  for (const { rate, percentilesUs: lag } of run.sendLag) {
    figures.push(figure(`send lag p50 @ ${rate}/s`, lag.p50, 'µs'),
      figure(`send lag p99 @ ${rate}/s`, lag.p99, 'µs'),
      figure(`send lag max @ ${rate}/s`, lag.max, 'µs'))
  }
  const paths = Object.entries(describe).map(([mode, how]) => `${mode}: ${how}`).join('; ')
  return {
    name: peerCaseName(c),
    kind: 'peer',
    params: { ...setupParams(c, setup), workload: 'latency', rates: c.ratesPerSec.join(','),
      ...phaseParams, openLoop: true, delivery: paths, sluiceScenario: sluice.name,
      latencyFrom: 'intended send time (coordinated-omission corrected)' },
    figures,
    latency: series,
    notes,
  }
}
