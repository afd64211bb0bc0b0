// Proves that the broker benchmark (bench/scenarios/broker.ts) runs end to end with each client
// on a tiny plan and writes what its report promises: for every client a produce and a fetch
// scenario with records/s, payload MB/s beside its limit, the broker's, its main thread's, the
// client's and other processes' CPU, the CPU-cost ceilings and the ratio to the embedded Log,
// in a results.json that validates. It never judges the numbers (speed is the bench's business).
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { measureLimits } from '../../bench/limits/index.js'
import { brokerPlan, buildPlan } from '../../bench/plan.js'
import { RESULTS_SCHEMA, parseResults, type BenchResults } from '../../bench/results.js'
import { writeResults } from '../../bench/runner.js'
import { clientMissing, runBrokerScenarios } from '../../bench/scenarios/broker.js'
import { tempDir } from '../helpers.js'
import { assertGateOpen, interopGate, killChildren } from './interop-kit.js'

const gate = interopGate('kcat and rdkafka_performance',
  clientMissing('kcat') ?? clientMissing('rdkafka_performance'))
const scratch = tempDir('sluice-broker-bench-')

afterAll(() => {
  killChildren()
  scratch.remove()
})

describe.skipIf(gate.skip)('broker benchmark', () => {
  it('measures every client against a sluice broker child and writes valid results', async () => {
    assertGateOpen(gate)
    const plan = brokerPlan('tiny')
    const limits = measureLimits(buildPlan('tiny').limits, path.join(scratch.dir, 'limits'),
      [1024])
    const run = await runBrokerScenarios(plan.cases, plan.phase, scratch.dir, limits)
    expect(run.skipped).toEqual([])
    const names = run.scenarios.map((s) => s.name)
    for (const client of ['kcat', 'rdkafka_performance', 'kafkajs']) {
      expect(names).toContain(`broker/produce/${client}/1KiB/os`)
      expect(names).toContain(`broker/fetch/${client}/1KiB/os`)
    }
    expect(names).toContain('broker/embedded/append/1KiB/os')

    const started = new Date()
    const results: BenchResults = { schema: RESULTS_SCHEMA, startedAt: started.toISOString(),
      durationMs: 0, mode: 'tiny', scenarioFilter: 'broker',
      machine: { cpus: 2, cpuModel: 'test', totalMemoryBytes: 0, node: process.version,
        platform: 'test', dataDir: scratch.dir },
      limits, scenarios: run.scenarios, skipped: run.skipped }
    const { jsonPath } = writeResults(results, path.join(scratch.dir, 'out'), started)
    const written = parseResults(readFileSync(jsonPath, 'utf8'))
    const measured = written.scenarios.filter((s) => /^broker\/(produce|fetch)/.test(s.name))
    for (const scenario of measured) {
      const figures = new Map(scenario.figures.map((f) => [f.name, f]))
      for (const name of ['payload MB/s', 'broker CPU', 'broker main-thread CPU', 'client CPU',
        'other processes CPU', 'client CPU ceiling', 'broker CPU ceiling',
        'client + broker CPU ceiling on this machine', 'payload MB/s vs embedded']) {
        expect(figures.get(name), `${scenario.name}: ${name}`).toBeDefined()
      }
      expect(figures.get('payload MB/s')!.value).toBeGreaterThan(0)
      expect(figures.get('payload MB/s')!.limit).toBeDefined()
      expect(figures.get('payload MB/s vs embedded')!.ratio).toBeGreaterThan(0)
      expect(scenario.notes?.[0]).toMatch(/-bound by CPU cost/)
    }
    const librdkafkaProduce = written.scenarios.filter((s) =>
      /^broker\/produce\/(kcat|rdkafka_performance)\//.test(s.name))
    for (const s of librdkafkaProduce) {
      expect(s.figures.find((f) => f.name === 'payload MB/s')?.target?.value).toBe(300)
    }
  }, 180_000)
})
