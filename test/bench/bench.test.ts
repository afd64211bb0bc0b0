// Proves the bench runs end to end on a tiny plan and writes well-formed, ordered results.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareResults, loadResults, renderComparison } from '../../bench/compare.js'
import { buildPlan, filterPlan } from '../../bench/plan.js'
import { silentProgress } from '../../bench/progress.js'
import { renderTable } from '../../bench/report/table.js'
import {
  checkPercentiles, parseResults, validateResults, type BenchResults,
} from '../../bench/results.js'
import { runBench, type RunOutput } from '../../bench/runner.js'
import { tempDir } from '../helpers.js'

const scratch = tempDir('sluice-bench-test-')
let output: RunOutput
let results: BenchResults

beforeAll(async () => {
  output = await runBench({
    mode: 'tiny', scenario: null, outRoot: `${scratch.dir}/out`, dataRoot: `${scratch.dir}/data`,
    plan: buildPlan('tiny'), progress: () => silentProgress(),
  })
  results = parseResults(readFileSync(output.jsonPath, 'utf8'))
}, 30_000)

afterAll(() => scratch.remove())

describe('sluice bench on a tiny plan', () => {
  it('writes a results.json that parses and passes validation', () => {
    expect(results.schema).toBe('sluice-bench/1')
    expect(results.mode).toBe('tiny')
    const kinds = new Set(results.scenarios.map((s) => s.kind))
    expect([...kinds].sort()).toEqual(['append', 'latency', 'micro', 'read'])
    for (const limit of results.limits) expect(limit.value).toBeGreaterThan(0)
  })

  it('gives every throughput figure its limit and the ratio to it', () => {
    const withLimits = results.scenarios.flatMap((s) => s.figures.filter((f) => f.limit))
    expect(withLimits.length).toBeGreaterThanOrEqual(2)
    for (const f of withLimits) {
      expect(results.limits.map((l) => l.name)).toContain(f.limit!.name)
      expect(f.ratio).toBeCloseTo(f.value / f.limit!.value, 9)
    }
    const append = results.scenarios.find((s) => s.kind === 'append')!
    expect(append.figures.find((f) => f.name === 'records/s')!.value).toBeGreaterThan(0)
  })

  it('orders every latency percentile: p50 ≤ p99 ≤ p99.9 ≤ max', () => {
    const series = results.scenarios.flatMap((s) => s.latency ?? [])
    expect(series.length).toBeGreaterThan(0)
    for (const s of series) {
      const p = s.percentilesUs
      expect(s.records).toBeGreaterThan(0)
      expect(p.p50).toBeGreaterThan(0)
      expect(p.p50).toBeLessThanOrEqual(p.p99)
      expect(p.p99).toBeLessThanOrEqual(p.p999)
      expect(p.p999).toBeLessThanOrEqual(p.max)
    }
    expect(new Set(series.map((s) => s.mode))).toEqual(new Set(['push', 'pull']))
  })

  it('writes a self-contained HTML report and a terminal table', () => {
    const html = readFileSync(output.htmlPath, 'utf8')
    expect(html).toMatch(/^<!doctype html>/)
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(3)
    expect(html).not.toMatch(/<script|<link|src="http/)
    expect(renderTable(results)).toContain('append/100B/p2/fsync/none')
  })

  it('compares two runs figure by figure', () => {
    const comparison = compareResults(loadResults(output.dir), results)
    expect(comparison.onlyInA).toEqual([])
    for (const row of comparison.rows) if (row.a !== 0) expect(row.ratio).toBeCloseTo(1, 12)
    expect(renderComparison(comparison, 'A', 'B')).toContain('B/A')
  })
})

describe('results validation', () => {
  it('rejects percentiles out of order and ratios that disagree with their limit', () => {
    expect(() => checkPercentiles('x', { p50: 5, p90: 6, p99: 4, p999: 7, max: 8 }))
      .toThrow(/out of order/)
    const broken = structuredClone(results)
    const f = broken.scenarios.flatMap((s) => s.figures).find((x) => x.limit !== undefined)!
    f.ratio = (f.ratio ?? 0) * 2 + 1
    expect(() => validateResults(broken)).toThrow(/ratio/)
    expect(() => parseResults('{"schema":')).toThrow(/not JSON/)
  })

  it('refuses a --scenario that matches nothing', () => {
    expect(() => filterPlan(buildPlan('quick'), 'apend')).toThrow(/matches no case/)
    const only = filterPlan(buildPlan('quick'), 'append/1KiB')
    expect(only.append.cases.every((c) => c.recordBytes === 1024)).toBe(true)
    expect(only.read.cases).toEqual([])
    expect(only.micro).toBeNull()
  })

  it('runs the agents in the quick set, and the broker only in --full or when asked', () => {
    const quick = filterPlan(buildPlan('quick'), null)
    expect(quick.agent.cases.length).toBeGreaterThan(0)
    expect(quick.broker.cases).toEqual([])
    expect(filterPlan(buildPlan('full'), null).broker.cases.length).toBeGreaterThan(0)
    const broker = filterPlan(buildPlan('quick'), 'broker')
    expect(broker.broker.cases.map((c) => c.client)).toContain('kafkajs')
    expect(broker.append.cases.length + broker.agent.cases.length).toBe(0)
    const agents = filterPlan(buildPlan('quick'), 'agent/http')
    expect(agents.agent.cases.every((c) => c.source === 'http')).toBe(true)
  })
})
