/**
 * `sluice bench compare A B`: the ratio B/A of every figure and limit the two runs share, matched
 * by scenario name and figure name. Both files are validated first. Figures present in only one
 * run are listed, not silently dropped. For throughputs a ratio above 1 means B is faster; for
 * latencies (µs, ms) it means B is slower, so each row says which way is better.
 */
import { readFileSync, statSync } from 'node:fs'
import * as path from 'node:path'
import { SluiceError } from '../src/errors.js'
import { formatValue, textTable } from './report/format.js'
import { parseResults, type BenchResults } from './results.js'

export interface ComparisonRow {
  scenario: string
  figure: string
  unit: string
  a: number
  b: number
  ratio: number
  lowerIsBetter: boolean
}

export interface Comparison {
  rows: ComparisonRow[]
  onlyInA: string[]
  onlyInB: string[]
}

/** A results.json path, or a run directory holding one. */
export function loadResults(file: string): BenchResults {
  let target = file
  try {
    if (statSync(file).isDirectory()) target = path.join(file, 'results.json')
    return parseResults(readFileSync(target, 'utf8'))
  } catch (error) {
    if (error instanceof SluiceError) throw error
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG',
      `cannot read bench results ${target}: ${(error as Error).message}`)
  }
}

function figureMap(results: BenchResults): Map<string, { scenario: string; figure: string;
  unit: string; value: number }> {
  const map = new Map<string, { scenario: string; figure: string; unit: string; value: number }>()
  for (const limit of results.limits) {
    map.set(`limits\u0000${limit.name}`,
      { scenario: 'limits', figure: limit.name, unit: limit.unit, value: limit.value })
  }
  for (const s of results.scenarios) {
    for (const f of s.figures) {
      map.set(`${s.name}\u0000${f.name}`,
        { scenario: s.name, figure: f.name, unit: f.unit, value: f.value })
    }
  }
  return map
}

export function compareResults(a: BenchResults, b: BenchResults): Comparison {
  const left = figureMap(a)
  const right = figureMap(b)
  const rows: ComparisonRow[] = []
  const onlyInA: string[] = []
  for (const [key, x] of left) {
    const y = right.get(key)
    if (y === undefined) {
      onlyInA.push(`${x.scenario} ${x.figure}`)
      continue
    }
    rows.push({ scenario: x.scenario, figure: x.figure, unit: x.unit, a: x.value, b: y.value,
      ratio: x.value !== 0 ? y.value / x.value : Number.NaN,
      lowerIsBetter: x.unit === 'µs' || x.unit === 'ms' })
  }
  const onlyInB = [...right].filter(([key]) => !left.has(key))
    .map(([, y]) => `${y.scenario} ${y.figure}`)
  return { rows, onlyInA, onlyInB }
}

export function renderComparison(comparison: Comparison, aLabel: string, bLabel: string): string {
  const rows = comparison.rows.map((r) => [r.scenario, r.figure, formatValue(r.a, r.unit),
    formatValue(r.b, r.unit), Number.isNaN(r.ratio) ? 'n/a' : r.ratio.toFixed(3),
    r.lowerIsBetter ? 'lower' : 'higher'])
  const parts = [`A = ${aLabel}\nB = ${bLabel}`,
    textTable(['scenario', 'figure', 'A', 'B', 'B/A', 'better'], rows)]
  if (comparison.onlyInA.length > 0) parts.push(`only in A:\n  ${comparison.onlyInA.join('\n  ')}`)
  if (comparison.onlyInB.length > 0) parts.push(`only in B:\n  ${comparison.onlyInB.join('\n  ')}`)
  return `${parts.join('\n\n')}\n`
}
