/**
 * The actions behind `sluice bench` and `sluice bench compare`: run, print the table to stdout
 * and the progress to stderr, and say where the report went.
 */
import { compareResults, loadResults, renderComparison } from '../../bench/compare.js'
import { stderrProgress } from '../../bench/progress.js'
import { renderTable } from '../../bench/report/table.js'
import type { BenchMode } from '../../bench/results.js'
import { runBench } from '../../bench/runner.js'

export interface BenchCommandOptions {
  mode: BenchMode
  scenario: string | null
  outRoot: string
  dataRoot?: string
}

export async function runBenchCommand(options: BenchCommandOptions): Promise<void> {
  const output = await runBench({ ...options, progress: (steps) => stderrProgress(steps) })
  process.stdout.write(renderTable(output.results))
  process.stdout.write(`\nresults: ${output.jsonPath}\nreport:  ${output.htmlPath}\n`)
}

export function runCompareCommand(a: string, b: string): void {
  const comparison = compareResults(loadResults(a), loadResults(b))
  process.stdout.write(renderComparison(comparison, a, b))
}
