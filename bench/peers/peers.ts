/**
 * Peers: Redis Streams (bench/peers/redis.ts) and NATS JetStream (bench/peers/nats.ts), each run
 * beside sluice's figures for the same workload in the same run, when both its Debian server and
 * its well-kept Node client are present; otherwise each case is skipped with a printed reason.
 * Nothing is installed here: adding a server is the machine's business (`.ci/run` installs both
 * from Debian), adding a client a dependency decision (both are devDependencies).
 *
 * For every peer case the sluice scenario it stands beside (bench/peers/workload.ts names it) is
 * taken from this run's results when the plan already ran it with the same parameters, and run
 * here, on a fresh embedded Log, when it did not (`--scenario peers` runs nothing else).
 */
import { accessSync, constants, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import type { Limit, ScenarioResult, Skipped } from '../results.js'
import { runAppendCase, type AppendPhase } from '../scenarios/append.js'
import { settle, withBenchLog } from '../scenarios/engine.js'
import { runLatencyCase, type LatencyPhase } from '../scenarios/latency.js'
import { NATS_FSYNC_SKIP, natsLatency, natsPublish } from './nats.js'
import { redisLatency, redisPublish } from './redis.js'
import {
  latencyScenario, peerCaseName, publishScenario, sluiceAppendName, sluiceLatencyName,
  type PeerCase, type PeerName,
} from './workload.js'

export { peerCaseName, type PeerCase } from './workload.js'

export interface PeerPhase {
  /** sluice's append phase: the publish cases use it unchanged */
  publish: AppendPhase
  /** sluice's latency phase: the latency cases use it unchanged */
  latency: LatencyPhase
}

interface PeerSpec {
  server: string
  clients: string[]
  debianPackage: string
}

const PEERS: Record<PeerName, PeerSpec> = {
  'redis-streams': { server: 'redis-server', clients: ['redis'], debianPackage: 'redis-server' },
  'nats-jetstream': { server: 'nats-server',
    clients: ['@nats-io/transport-node', '@nats-io/jetstream'], debianPackage: 'nats-server' },
}

/** Debian puts nats-server in /usr/sbin, which a non-root PATH often lacks. */
const SYSTEM_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin']

export function findExecutable(name: string,
  searchPath = [process.env['PATH'] ?? '', ...SYSTEM_DIRS].join(path.delimiter)): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') continue
    const candidate = path.join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  return null
}

function resolvable(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg)
    return true
  } catch {
    return false
  }
}

export interface PeerAvailability {
  /** the server binary, or null with `missing` saying why */
  executable: string | null
  missing: string | null
}

/** Whether a peer can run here: its server on the PATH (or /usr/sbin) and every client module. */
export function peerAvailability(peer: PeerName, searchPath?: string,
  canResolve: (pkg: string) => boolean = resolvable): PeerAvailability {
  const spec = PEERS[peer]
  const missing: string[] = []
  const executable = findExecutable(spec.server, searchPath)
  if (executable === null) {
    missing.push(`${spec.server} is not installed (Debian package ${spec.debianPackage}: ` +
      `apt-get install -y ${spec.debianPackage})`)
  }
  const absent = spec.clients.filter((pkg) => !canResolve(pkg))
  if (absent.length > 0) missing.push(`Node client ${absent.join(' and ')} not in node_modules`)
  return { executable, missing: missing.length > 0 ? missing.join('; ') : null }
}

export interface PeerRunContext {
  dataRoot: string
  limits: Limit[]
  /** the scenarios this run already measured (baselines are looked up here, and added) */
  scenarios: ScenarioResult[]
  step: (label: string) => void
  availability?: (peer: PeerName) => PeerAvailability
}

function hasRate(scenario: ScenarioResult | undefined, rates: number[]): boolean {
  return scenario !== undefined && rates.every((rate) =>
    scenario.latency?.some((s) => s.offeredRatePerSec === rate) === true)
}

/** The sluice scenario a peer case stands beside: this run's, or measured now. */
async function sluiceBaseline(c: PeerCase, phase: PeerPhase, context: PeerRunContext)
  : Promise<ScenarioResult> {
  const name = c.workload === 'publish' ? sluiceAppendName(c) : sluiceLatencyName(c)
  const existing = context.scenarios.find((s) => s.name === name)
  if (c.workload === 'publish' ? existing !== undefined : hasRate(existing, c.ratesPerSec)) {
    return existing!
  }
  context.step(`${name} (sluice, beside ${c.peer})`)
  await settle()
  const scenario = await withBenchLog(context.dataRoot, `peer-baseline-${context.scenarios.length}`,
    (bench) => c.workload === 'publish'
      ? runAppendCase(bench, { recordBytes: c.recordBytes, partitions: 1,
        durability: c.durability, compression: 'none', api: 'append' }, phase.publish,
      context.limits)
      : runLatencyCase(bench, { recordBytes: c.recordBytes, durability: c.durability,
        ratesPerSec: c.ratesPerSec }, phase.latency, context.limits))
  // A same-named scenario with other rates keeps its name; this one says what it is for.
  if (existing !== undefined) scenario.name = `peers/baseline/${name}`
  context.scenarios.push(scenario)
  return scenario
}

const LATENCY_PATHS: Record<PeerName, Partial<Record<'push' | 'pull', string>>> = {
  'redis-streams': { pull: 'XREAD BLOCK loop (Redis Streams have no push delivery)' },
  'nats-jetstream': { push: 'push consumer (deliver_subject), consume({ callback })',
    pull: 'pull consumer, consume({ callback }) with pull requests kept outstanding' },
}

async function runPeerCase(c: PeerCase, executable: string, phase: PeerPhase, root: string,
  context: PeerRunContext): Promise<ScenarioResult> {
  const sluice = await sluiceBaseline(c, phase, context)
  context.step(peerCaseName(c))
  await settle()
  if (c.workload === 'publish') {
    const run = c.peer === 'redis-streams'
      ? await redisPublish(executable, c, phase.publish, root)
      : await natsPublish(executable, c, phase.publish, root)
    return publishScenario(c, run.setup, run.outcome, phase.publish, sluice, context.limits)
  }
  const run = c.peer === 'redis-streams'
    ? await redisLatency(executable, c, phase.latency, root)
    : await natsLatency(executable, c, phase.latency, root)
  const { warmupMs, measureMs, pullMaxWaitMs, drainTimeoutMs } = phase.latency
  return latencyScenario(c, run, LATENCY_PATHS[c.peer],
    { warmupMs, measureMs, pullMaxWaitMs, drainTimeoutMs }, sluice)
}

export interface PeerRun {
  scenarios: ScenarioResult[]
  skipped: Skipped[]
}

/** Runs every peer case that can run here; the others are skipped with their reason. */
export async function runPeerScenarios(cases: readonly PeerCase[], phase: PeerPhase,
  context: PeerRunContext): Promise<PeerRun> {
  const run: PeerRun = { scenarios: [], skipped: [] }
  const root = path.join(context.dataRoot, 'peers')
  mkdirSync(root, { recursive: true })
  const availability = context.availability ?? ((peer: PeerName) => peerAvailability(peer))
  for (const c of cases) {
    if (c.peer === 'nats-jetstream' && c.durability === 'fsync') {
      run.skipped.push({ name: peerCaseName(c), reason: NATS_FSYNC_SKIP })
      continue
    }
    const { executable, missing } = availability(c.peer)
    if (executable === null || missing !== null) {
      context.step(`${peerCaseName(c)} (skipped)`)
      run.skipped.push({ name: peerCaseName(c), reason: missing ?? 'not available' })
      continue
    }
    const scenario = await runPeerCase(c, executable, phase, root, context)
    run.scenarios.push(scenario)
    context.scenarios.push(scenario)
  }
  return run
}
