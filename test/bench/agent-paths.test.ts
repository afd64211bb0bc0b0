// Proves the agent paths (avro hop, Kafka log, hdfs) run end to end through runBench with
// `--scenario agent` on the tiny phase and write results the report trusts: a results.json
// that parses and validates, events/s beside a named limit with its ratio, ordered ack → write
// percentiles, every acknowledged event counted as written at the far end, and the cases in the
// table and report.html. It checks the shape of the figures, never their speed (bench/'s job).
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentPathPlan, buildPlan, filterPlan, planSteps } from '../../bench/plan.js'
import { silentProgress } from '../../bench/progress.js'
import { renderTable } from '../../bench/report/table.js'
import { parseResults, type BenchResults, type ScenarioResult } from '../../bench/results.js'
import { runBench, type RunOutput } from '../../bench/runner.js'
import { tempDir } from '../helpers.js'

const NAMES = ['agent/avro-hop/http/memory/file_roll/100B',
  'agent/kafka-log/http/memory/file_roll/100B', 'agent/http/memory/hdfs/100B']

const scratch = tempDir('sluice-bench-paths-')
let output: RunOutput
let results: BenchResults

beforeAll(async () => {
  output = await runBench({
    mode: 'tiny', scenario: 'agent', outRoot: `${scratch.dir}/out`,
    dataRoot: `${scratch.dir}/data`,
    plan: { ...buildPlan('tiny'), agentPaths: agentPathPlan('tiny') },
    progress: () => silentProgress(),
  })
  results = parseResults(readFileSync(output.jsonPath, 'utf8'))
}, 60_000)

afterAll(() => scratch.remove())

const figureOf = (s: ScenarioResult, name: string) => s.figures.find((f) => f.name === name)!

describe('the agent paths on the tiny phase', () => {
  it('runs exactly the three paths under --scenario agent', () => {
    expect(results.scenarioFilter).toBe('agent')
    expect(results.scenarios.map((s) => s.name)).toEqual(NAMES)
  })

  it('puts events/s beside a measured limit, with the ratio to it', () => {
    const limitOf = (name: string) => figureOf(results.scenarios.find((s) => s.name === name)!,
      'payload MB/s').limit!.name
    expect(limitOf(NAMES[0]!)).toBe('memcpy')
    expect(limitOf(NAMES[1]!)).toBe('seq-write + fdatasync')
    expect(limitOf(NAMES[2]!)).toBe('seq-write + fdatasync')
    for (const s of results.scenarios) {
      expect(figureOf(s, 'events/s').value).toBeGreaterThan(0)
      const mb = figureOf(s, 'payload MB/s')
      expect(results.limits.map((l) => l.name)).toContain(mb.limit!.name)
      expect(mb.ratio).toBeCloseTo(mb.value / mb.limit!.value, 9)
    }
  })

  it('counts every acknowledged event as written at the far end', () => {
    for (const s of results.scenarios) {
      const acknowledged = figureOf(s, 'events acknowledged').value
      expect(acknowledged).toBeGreaterThan(0)
      expect(figureOf(s, 'events written').value).toBeGreaterThanOrEqual(acknowledged)
    }
  })

  it('orders the ack → write percentiles: p50 ≤ p90 ≤ p99 ≤ p99.9 ≤ max', () => {
    for (const s of results.scenarios) {
      const [series] = s.latency!
      const p = series!.percentilesUs
      expect(series!.records).toBeGreaterThan(0)
      expect(p.p50).toBeGreaterThan(0)
      expect(p.p50).toBeLessThanOrEqual(p.p90)
      expect(p.p90).toBeLessThanOrEqual(p.p99)
      expect(p.p99).toBeLessThanOrEqual(p.p999)
      expect(p.p999).toBeLessThanOrEqual(p.max)
      expect(figureOf(s, `ack → write p99 @ ${s.params.latencyRatePerSec}/s`).value).toBe(p.p99)
    }
  })

  it('shows every path in the table and the report', () => {
    const table = renderTable(results)
    const html = readFileSync(output.htmlPath, 'utf8')
    for (const name of NAMES) {
      expect(table).toContain(name)
      expect(html).toContain(name)
    }
    const agents = html.slice(html.indexOf('<h2>Agents</h2>'), html.indexOf('<h2>Latency'))
    expect(agents).toContain('of memcpy')
    expect(agents).toContain('of seq-write + fdatasync')
    expect(agents).toContain('events written')
  })
})

describe('the agent paths in the plan', () => {
  it('runs them in the quick set at 100 B and adds 1 KiB in --full', () => {
    const quick = filterPlan(buildPlan('quick'), null)
    expect(quick.agentPaths.cases).toEqual([{ path: 'avro-hop', eventBytes: 100 },
      { path: 'kafka-log', eventBytes: 100 }, { path: 'hdfs', eventBytes: 100 }])
    const full = filterPlan(buildPlan('full'), null)
    expect(full.agentPaths.cases.filter((c) => c.eventBytes === 1024)).toHaveLength(3)
    expect(planSteps(quick)).toBe(planSteps({ ...quick, agentPaths: { cases: [] } }) + 3)
  })

  it('selects them with --scenario agent and each by its own name', () => {
    const agents = filterPlan(buildPlan('quick'), 'agent')
    expect(agents.agentPaths.cases).toHaveLength(3)
    expect(agents.agent.cases.length).toBeGreaterThan(0)
    expect(filterPlan(buildPlan('quick'), 'agent/kafka-log').agentPaths.cases)
      .toEqual([{ path: 'kafka-log', eventBytes: 100 }])
    expect(filterPlan(buildPlan('quick'), 'agent/netcat').agentPaths.cases).toEqual([])
    expect(filterPlan(buildPlan('quick'), 'append').agentPaths.cases).toEqual([])
  })
})
