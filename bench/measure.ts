/**
 * Small measuring tools shared by the limits and scenarios: a clock, rates in the units the
 * reports use (MB/s means 10^6 bytes per second), medians, and HDR latency histograms.
 *
 * Latency histograms count microseconds as integers from 1 µs to 60 s with 3 significant digits;
 * a value above the range is clamped to it rather than dropped, so a stall is never hidden.
 */
import { build, type Histogram } from 'hdr-histogram-js'
import type { CurvePoint, Percentiles } from './results.js'

export const MB = 1_000_000
export const MIB = 1024 * 1024

export function nowMs(): number {
  return performance.now()
}

export function megabytesPerSec(bytes: number, elapsedMs: number): number {
  return elapsedMs > 0 ? bytes / MB / (elapsedMs / 1000) : 0
}

export function perSec(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? count / (elapsedMs / 1000) : 0
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

const HIGHEST_TRACKABLE_US = 60_000_000

export function latencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  })
}

export function recordMicros(histogram: Histogram, micros: number): void {
  const clamped = Math.min(HIGHEST_TRACKABLE_US, Math.max(1, Math.round(micros)))
  histogram.recordValue(clamped)
}

export function percentilesOf(histogram: Histogram): Percentiles {
  return {
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    // The bucket's highest equivalent value, as the percentiles report theirs: the raw
    // maxValue can sit a unit below p99.9's bucket bound and break the ordering.
    max: histogram.getValueAtPercentile(100),
  }
}

/** Percentiles for a curve drawn on a 1/(1-p) axis: dense near the tail, where stalls live. */
export const CURVE_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100]

export function curveOf(histogram: Histogram): CurvePoint[] {
  return CURVE_PERCENTILES.map((percentile) => ({
    percentile,
    valueUs: histogram.getValueAtPercentile(percentile),
  }))
}

/** Runs `step` until `budgetMs` has passed (at least `minRuns` times); returns each run's ms. */
export function timeRuns(step: () => void, budgetMs: number, minRuns = 3): number[] {
  const runs: number[] = []
  const started = nowMs()
  while (runs.length < minRuns || nowMs() - started < budgetMs) {
    const before = nowMs()
    step()
    runs.push(nowMs() - before)
  }
  return runs
}
