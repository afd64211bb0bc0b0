// Proves the agent benchmark runs end to end on a tiny plan and writes results the report
// trusts (validateResults): events/s and ack → write percentiles for http and netcat into the
// memory and the file channel. It checks the shape of the figures, never their speed (that is
// bench/'s job).
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { agentPlan, buildPlan } from '../../bench/plan.js'
import { measureLimits } from '../../bench/limits/index.js'
import { RESULTS_SCHEMA, validateResults } from '../../bench/results.js'
import { runAgentScenarios } from '../../bench/scenarios/agent.js'
import { tempDir } from '../helpers.js'

const scratch = tempDir('sluice-agent-bench-')
afterAll(() => scratch.remove())

it('measures events/s and ack → write latency for both channels', async () => {
  const plan = agentPlan('tiny')
  const limits = measureLimits(buildPlan('tiny').limits, path.join(scratch.dir, 'limits'), [100])
  const scenarios = await runAgentScenarios(plan.cases, plan.phase, scratch.dir, limits,
    () => undefined)
  expect(scenarios.map((s) => s.name)).toEqual(['agent/http/memory/file_roll/100B',
    'agent/http/file/file_roll/100B', 'agent/netcat/memory/file_roll/100B',
    'agent/netcat/file/file_roll/100B'])
  for (const scenario of scenarios) {
    expect(scenario.figures.find((f) => f.name === 'events/s')!.value).toBeGreaterThan(0)
    expect(scenario.latency![0]!.records).toBeGreaterThan(0)
    expect(scenario.latency![0]!.mode).toBe('push')
  }
  validateResults({ schema: RESULTS_SCHEMA, startedAt: new Date().toISOString(), durationMs: 1,
    mode: 'tiny', scenarioFilter: 'agent', machine: { cpus: 2, cpuModel: '', totalMemoryBytes: 1,
      node: process.version, platform: '', dataDir: scratch.dir }, limits, scenarios,
    skipped: [] })
})
