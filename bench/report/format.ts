/**
 * Number formatting shared by the terminal table and the HTML report: rates with M/k suffixes,
 * bandwidths in whole MB/s, latencies in µs or ms, ratios as percentages.
 */
export function formatCount(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} G`
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`
  if (value >= 1e4) return `${(value / 1e3).toFixed(0)} k`
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`
  return value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2)
}

export function formatMicros(micros: number): string {
  if (micros >= 1_000_000) return `${(micros / 1_000_000).toFixed(2)} s`
  if (micros >= 10_000) return `${(micros / 1000).toFixed(1)} ms`
  if (micros >= 1000) return `${(micros / 1000).toFixed(2)} ms`
  return `${micros.toFixed(micros >= 100 ? 0 : 1)} µs`
}

export function formatPercent(ratio: number): string {
  // Small fractions keep two significant places, so 0.046% does not print as 0.0%.
  return `${(ratio * 100).toFixed(ratio >= 0.1 ? 0 : ratio >= 0.001 ? 1 : 2)}%`
}

/** A value in its unit, as a person reads it. */
export function formatValue(value: number, unit: string): string {
  switch (unit) {
    case 'MB/s':
      return `${value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1)} MB/s`
    case 'µs':
      return formatMicros(value)
    case 'ms':
      return formatMicros(value * 1000)
    case 'fraction':
      return formatPercent(value)
    case 'x':
      return `${value.toFixed(2)}x`
    default:
      return `${formatCount(value)} ${unit}`
  }
}

/** Renders rows as a fixed-width text table; numeric-looking columns are right-aligned. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const numeric = header.map((_, i) => i > 0 && rows.every((r) => /^[-\d.,]/.test(r[i] ?? '0')))
  const line = (cells: string[]) => cells.map((cell, i) => numeric[i]
    ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)).join('  ').trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}
