/**
 * The shape of a bench run as written to `results.json`, and the checks a file must pass before
 * the report or `sluice bench compare` trust it.
 *
 * A run holds the machine's limits measured in the same run, then one ScenarioResult per case.
 * Every throughput Figure that has a physical ceiling names it (`limit`) and carries
 * `ratio = value / limit.value`, so a reader never has to look a limit up elsewhere. Latency
 * series carry HDR percentiles in microseconds, measured from each record's intended send time.
 *
 * Invariants checked by validateResults: every number is finite, every ratio equals
 * value / limit within rounding, and every percentile list is ordered p50 ≤ p99 ≤ p99.9 ≤ max.
 */
import { SluiceError } from '../src/errors.js'

export const RESULTS_SCHEMA = 'sluice-bench/1'

export type BenchMode = 'quick' | 'full' | 'tiny'
export type ScenarioKind = 'limit' | 'append' | 'read' | 'latency' | 'micro' | 'peer'
export type ParamValue = string | number | boolean

/** A measured ceiling of this machine (disk, memory, LZ4), with how it was measured. */
export interface Limit {
  name: string
  value: number
  unit: string
  method: string
}

export interface LimitRef {
  name: string
  value: number
  unit: string
}

/** A goal from the issue tracker, kept beside the figure it judges. */
export interface Target {
  description: string
  value: number
  /** Ratio targets compare `ratio`, not `value`. */
  appliesTo: 'value' | 'ratio'
  /** atLeast (the default): met when the figure is ≥ value; atMost (latencies): when ≤ value. */
  direction?: 'atLeast' | 'atMost'
  met: boolean
}

export interface Figure {
  name: string
  value: number
  unit: string
  limit?: LimitRef
  ratio?: number
  target?: Target
}

export interface Percentiles {
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
}

export interface CurvePoint {
  percentile: number
  valueUs: number
}

/** One delivery mode at one offered rate. */
export interface LatencySeries {
  mode: 'pull' | 'push'
  offeredRatePerSec: number
  achievedRatePerSec: number
  records: number
  percentilesUs: Percentiles
  curve: CurvePoint[]
}

export interface ScenarioResult {
  name: string
  kind: ScenarioKind
  params: Record<string, ParamValue>
  figures: Figure[]
  latency?: LatencySeries[]
  notes?: string[]
}

export interface Skipped {
  name: string
  reason: string
}

export interface MachineInfo {
  cpus: number
  cpuModel: string
  totalMemoryBytes: number
  node: string
  platform: string
  dataDir: string
}

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA
  startedAt: string
  durationMs: number
  mode: BenchMode
  scenarioFilter: string | null
  machine: MachineInfo
  limits: Limit[]
  scenarios: ScenarioResult[]
  skipped: Skipped[]
}

/** Builds a figure and, when a limit is given, its ratio. */
export function figure(
  name: string, value: number, unit: string, limit?: Limit | LimitRef, target?: TargetSpec,
): Figure {
  const result: Figure = { name, value, unit }
  if (limit !== undefined) {
    result.limit = { name: limit.name, value: limit.value, unit: limit.unit }
    result.ratio = limit.value > 0 ? value / limit.value : 0
  }
  if (target !== undefined) {
    const judged = target.appliesTo === 'ratio' ? result.ratio ?? 0 : value
    const met = target.direction === 'atMost' ? judged <= target.value : judged >= target.value
    result.target = { ...target, met }
  }
  return result
}

export type TargetSpec = Omit<Target, 'met'>

function invalid(message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_INVALID_CONFIG', `bench results: ${message}`)
}

function checkFinite(where: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(`${where} is not a finite number (${String(value)})`)
  }
}

/** p50 ≤ p90 ≤ p99 ≤ p99.9 ≤ max, all finite and ≥ 0. */
export function checkPercentiles(where: string, p: Percentiles): void {
  const ordered = [p.p50, p.p90, p.p99, p.p999, p.max]
  ordered.forEach((value, i) => checkFinite(`${where} percentile #${i}`, value))
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i - 1]! > ordered[i]! || ordered[0]! < 0) {
      throw invalid(`${where}: percentiles out of order ${JSON.stringify(p)}`)
    }
  }
}

function checkFigure(where: string, f: Figure): void {
  if (typeof f.name !== 'string' || typeof f.unit !== 'string') throw invalid(`${where} unnamed`)
  checkFinite(`${where}.value`, f.value)
  if (f.limit === undefined) return
  checkFinite(`${where}.limit.value`, f.limit.value)
  checkFinite(`${where}.ratio`, f.ratio)
  const expected = f.limit.value > 0 ? f.value / f.limit.value : 0
  if (Math.abs((f.ratio ?? 0) - expected) > 1e-9 * Math.max(1, expected)) {
    throw invalid(`${where}.ratio ${String(f.ratio)} is not value/limit ${expected}`)
  }
}

function checkLatency(where: string, series: LatencySeries): void {
  checkPercentiles(where, series.percentilesUs)
  checkFinite(`${where}.records`, series.records)
  for (let i = 1; i < series.curve.length; i++) {
    const previous = series.curve[i - 1]!
    const point = series.curve[i]!
    if (point.percentile < previous.percentile || point.valueUs < previous.valueUs) {
      throw invalid(`${where}: latency curve is not monotonic at point ${i}`)
    }
  }
}

/** Parses and checks a results.json text; throws SLUICE_ERR_INVALID_CONFIG naming the flaw. */
export function parseResults(text: string): BenchResults {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw invalid(`not JSON (${(error as Error).message})`)
  }
  validateResults(parsed)
  return parsed
}

export function validateResults(value: unknown): asserts value is BenchResults {
  const results = value as BenchResults
  if (results === null || typeof results !== 'object' || results.schema !== RESULTS_SCHEMA) {
    throw invalid(`schema is not ${RESULTS_SCHEMA}`)
  }
  if (!Array.isArray(results.limits) || !Array.isArray(results.scenarios)
    || !Array.isArray(results.skipped)) {
    throw invalid('limits, scenarios and skipped must be arrays')
  }
  results.limits.forEach((l, i) => checkFinite(`limits[${i}] ${l.name}`, l.value))
  const names = new Set<string>()
  for (const scenario of results.scenarios) {
    if (names.has(scenario.name)) throw invalid(`scenario ${scenario.name} appears twice`)
    names.add(scenario.name)
    scenario.figures.forEach((f, i) => checkFigure(`${scenario.name}.figures[${i}]`, f))
    scenario.latency?.forEach((s, i) => checkLatency(`${scenario.name}.latency[${i}]`, s))
  }
}
