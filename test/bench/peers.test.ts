// Proves the peer drivers run Redis Streams and NATS JetStream beside sluice on a tiny plan when
// the servers are installed (and skip with a printed reason when they are not), that each server
// is stopped and its directory removed, and that the report sets the two side by side.
import { existsSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { measureLimits } from '../../bench/limits/index.js'
import { buildPlan, filterPlan, planSteps } from '../../bench/plan.js'
import {
  peerAvailability, runPeerScenarios, type PeerCase, type PeerPhase,
} from '../../bench/peers/peers.js'
import { withServer } from '../../bench/peers/server-process.js'
import { renderHtml } from '../../bench/report/html.js'
import { renderTable } from '../../bench/report/table.js'
import {
  RESULTS_SCHEMA, validateResults, type BenchResults, type Limit, type ScenarioResult,
} from '../../bench/results.js'
import { tempDir } from '../helpers.js'

/** CI (.ci/run) installs both servers and sets this, so a broken install cannot pass as a skip. */
const REQUIRE_PEERS = process.env['SLUICE_REQUIRE_INTEROP'] === '1'
const redis = peerAvailability('redis-streams')
const nats = peerAvailability('nats-jetstream')
const missing = [redis.missing, nats.missing].filter((m) => m !== null)
if (missing.length > 0) {
  console.warn(`[bench peers] ${missing.join('; ')}; ` +
    `${REQUIRE_PEERS ? 'FAILING (SLUICE_REQUIRE_INTEROP=1)' : 'skipping the live peer run'}`)
}
const skipLive = missing.length > 0 && !REQUIRE_PEERS

const PHASE: PeerPhase = {
  publish: { warmupMs: 50, measureMs: 250, inFlightPerPartition: 1 },
  latency: { warmupMs: 50, measureMs: 300, pullMaxWaitMs: 100, drainTimeoutMs: 3000,
    maxRecordsPerAppend: 1000 },
}

const CASES: PeerCase[] = [
  { peer: 'redis-streams', workload: 'publish', recordBytes: 100, durability: 'fsync',
    ratesPerSec: [] },
  { peer: 'redis-streams', workload: 'latency', recordBytes: 100, durability: 'os',
    ratesPerSec: [1000] },
  { peer: 'nats-jetstream', workload: 'publish', recordBytes: 1024, durability: 'os',
    ratesPerSec: [] },
  { peer: 'nats-jetstream', workload: 'publish', recordBytes: 1024, durability: 'fsync',
    ratesPerSec: [] },
  { peer: 'nats-jetstream', workload: 'latency', recordBytes: 100, durability: 'os',
    ratesPerSec: [1000] },
]

const scratch = tempDir('sluice-bench-peers-')
afterAll(() => scratch.remove())

function tinyLimits(dir: string): Limit[] {
  return measureLimits(buildPlan('tiny').limits, dir, [100, 1024])
}

describe('peers when a server or client is absent', () => {
  it('names the missing server with its Debian package, and the missing client', () => {
    const none = peerAvailability('nats-jetstream', '/nonexistent', () => false)
    expect(none.executable).toBeNull()
    expect(none.missing).toMatch(/nats-server is not installed \(Debian package nats-server/)
    expect(none.missing).toMatch(/@nats-io\/transport-node and @nats-io\/jetstream/)
  })

  it('skips every case with its reason and starts nothing', async () => {
    const scenarios: ScenarioResult[] = []
    const run = await runPeerScenarios(CASES, PHASE, { dataRoot: path.join(scratch.dir, 'absent'),
      limits: [], scenarios, step: () => undefined,
      availability: (peer) => peerAvailability(peer, '/nonexistent', () => false) })
    expect(run.scenarios).toEqual([])
    expect(scenarios).toEqual([])
    expect(run.skipped.map((s) => s.name)).toEqual([
      'peers/redis-streams/xadd/100B/fsync', 'peers/redis-streams/latency/100B/os',
      'peers/nats-jetstream/publish/1KiB/os', 'peers/nats-jetstream/publish/1KiB/fsync',
      'peers/nats-jetstream/latency/100B/os'])
    expect(run.skipped[0]!.reason).toMatch(/redis-server is not installed/)
    // JetStream's fsync case is skipped for what 2.9 cannot do, whatever is installed.
    expect(run.skipped[3]!.reason).toMatch(/cannot fsync each write/)
  })

  it('fails a server that exits before ready, naming it, and removes its dir', async () => {
    const root = path.join(scratch.dir, 'broken')
    await expect(withServer(root, () => Promise.resolve({ label: 'fake-server',
      executable: '/bin/sh', args: ['-c', 'echo bad config line 3 >&2; exit 3'],
      ready: /never printed/ }), () => Promise.resolve('ran'), 2))
      .rejects.toThrow(/fake-server did not start .*bad config line 3/s)
    expect(readdirSync(root)).toEqual([])
  })
})

describe('the peer plan', () => {
  it('runs peers in the quick set and alone with --scenario peers', () => {
    const quick = filterPlan(buildPlan('quick'), null)
    expect(quick.peers.cases.map((c) => c.peer)).toEqual(
      expect.arrayContaining(['redis-streams', 'nats-jetstream']))
    const only = filterPlan(buildPlan('quick'), 'peers')
    expect(only.append.cases.length + only.latency.cases.length).toBe(0)
    expect(only.peers.cases.length).toBe(quick.peers.cases.length)
    // limits + 5 runnable peer cases (JetStream fsync is skipped unrun) + their 5 sluice cases,
    // which the filtered plan no longer runs itself; unfiltered, only append/1KiB/p1/os is extra
    expect(only.peers.cases.length).toBe(6)
    expect(planSteps(only)).toBe(1 + 5 + 5)
    expect(planSteps(quick) - planSteps({ ...quick, peers: { ...quick.peers, cases: [] } }))
      .toBe(5 + 1)
    expect(filterPlan(buildPlan('quick'), 'peers/redis-streams').peers.cases
      .every((c) => c.peer === 'redis-streams')).toBe(true)
  })
})

describe.skipIf(skipLive)('peers beside sluice on a tiny plan (servers installed)', () => {
  const dataRoot = path.join(scratch.dir, 'live')
  const scenarios: ScenarioResult[] = []
  let results: BenchResults
  let skippedNames: string[]

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(`peer servers or clients unavailable: ${missing}`)
    const limits = tinyLimits(path.join(dataRoot, 'limits'))
    const run = await runPeerScenarios(CASES, PHASE,
      { dataRoot, limits, scenarios, step: () => undefined })
    skippedNames = run.skipped.map((s) => s.name)
    results = { schema: RESULTS_SCHEMA, startedAt: new Date().toISOString(), durationMs: 1,
      mode: 'tiny', scenarioFilter: 'peers', machine: { cpus: 1, cpuModel: 'test',
        totalMemoryBytes: 1, node: process.version, platform: 'test', dataDir: dataRoot },
      limits, scenarios, skipped: run.skipped }
  }, 60_000)

  it('measures each peer beside the sluice case it names, with sluice / peer ratios', () => {
    validateResults(results)
    expect(skippedNames).toEqual(['peers/nats-jetstream/publish/1KiB/fsync'])
    const peers = scenarios.filter((s) => s.kind === 'peer')
    expect(peers.map((s) => s.name)).toEqual(['peers/redis-streams/xadd/100B/fsync',
      'peers/redis-streams/latency/100B/os', 'peers/nats-jetstream/publish/1KiB/os',
      'peers/nats-jetstream/latency/100B/os'])
    for (const peer of peers.filter((s) => s.params['workload'] === 'publish')) {
      const sluice = scenarios.find((s) => s.name === peer.params['sluiceScenario'])!
      expect(sluice.kind).toBe('append')
      const at = (s: ScenarioResult, name: string) => s.figures.find((f) => f.name === name)!.value
      expect(at(peer, 'records/s')).toBeGreaterThan(0)
      expect(at(peer, 'sluice records/s')).toBe(at(sluice, 'records/s'))
      expect(at(peer, 'sluice / peer records/s'))
        .toBeCloseTo(at(sluice, 'records/s') / at(peer, 'records/s'), 9)
    }
  })

  it('states each peer\'s durability as the server reports it', () => {
    const byName = (name: string) => scenarios.find((s) => s.name === name)!.params
    expect(byName('peers/redis-streams/xadd/100B/fsync')['peerDurability'])
      .toMatch(/appendonly yes, appendfsync always/)
    expect(byName('peers/redis-streams/latency/100B/os')['peerDurability'])
      .toMatch(/appendfsync everysec/)
    expect(byName('peers/nats-jetstream/publish/1KiB/os')['server']).toMatch(/^nats-server 2\./)
  })

  it('orders every peer latency percentile, push and pull for JetStream, pull for Redis', () => {
    const modes = (name: string) => scenarios.find((s) => s.name === name)!.latency!
      .map((l) => l.mode)
    expect(modes('peers/redis-streams/latency/100B/os')).toEqual(['pull'])
    expect(modes('peers/nats-jetstream/latency/100B/os')).toEqual(['push', 'pull'])
    const lag = scenarios.find((s) => s.name === 'peers/redis-streams/latency/100B/os')!
      .figures.find((f) => f.name === 'send lag p99 @ 1000/s')
    expect(lag?.unit).toBe('µs') // the floor under the peer's figures is reported beside them
    for (const series of scenarios.filter((s) => s.kind === 'peer')
      .flatMap((s) => s.latency ?? [])) {
      const p = series.percentilesUs
      expect(series.records).toBeGreaterThan(0)
      expect(p.p50).toBeLessThanOrEqual(p.p99)
      expect(p.p99).toBeLessThanOrEqual(p.p999)
      expect(p.p999).toBeLessThanOrEqual(p.max)
    }
  })

  it('stops every server and removes its directory', () => {
    const root = path.join(dataRoot, 'peers')
    expect(existsSync(root)).toBe(true)
    expect(readdirSync(root)).toEqual([])
  })

  it('sets peers beside sluice in the table and the report', () => {
    const table = renderTable(results)
    expect(table).toMatch(/redis-streams\/xadd\/100B\/fsync +AOF appendfsync always ≈ fsync/)
    expect(table).toContain('sluice/peer')
    const html = renderHtml(results)
    expect(html).toContain('Peers: sluice beside Redis Streams and NATS JetStream')
    expect(html).toContain('sluice push @ 1.0 k/s')
  })
})
