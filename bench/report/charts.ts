/**
 * Inline SVG charts for the HTML report (no scripts, no CDN: the page must open offline):
 *
 *   barChart      horizontal bars on one shared axis; a pale bar behind each shows its limit,
 *                 so "how far from the ceiling" reads at a glance
 *   latencyChart  HDR-style percentile curves: x is 1/(1−p) on a log scale (50%, 90%, 99%,
 *                 99.9%, …), y is latency on a log scale; pull solid, push dashed, one colour
 *                 per offered rate, all on the same axes
 */
import type { LatencySeries } from '../results.js'
import { formatMicros } from './format.js'

export interface Bar {
  label: string
  value: number
  valueText: string
  limit?: number
  limitText?: string
  /** the value bar's colour; default blue */
  colour?: string
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf',
  '#e377c2', '#7f7f7f', '#bcbd22', '#393b79', '#ad494a']
const LABEL_WIDTH = 260
const BAR_HEIGHT = 22
const BAR_GAP = 8

/** Rough width of 11 px sans-serif text, to decide whether a label fits beside its bar. */
function textWidth(text: string): number {
  return text.length * 6.2
}

export function barChart(bars: Bar[], width = 1100): string {
  const plotWidth = width - LABEL_WIDTH - 20
  const scale = Math.max(1e-9, ...bars.map((b) => Math.max(b.value, b.limit ?? 0)))
  const height = bars.length * (BAR_HEIGHT + BAR_GAP) + 10
  const rows = bars.map((bar, i) => {
    const y = 5 + i * (BAR_HEIGHT + BAR_GAP)
    const valueWidth = Math.max(1, (bar.value / scale) * plotWidth)
    const limitWidth = bar.limit === undefined ? 0 : (bar.limit / scale) * plotWidth
    const limitRect = bar.limit === undefined ? ''
      : `<rect x="${LABEL_WIDTH}" y="${y}" width="${limitWidth}" ` +
        `height="${BAR_HEIGHT}" fill="#dfe6ee" stroke="#9fb0c3" stroke-dasharray="3 2"/>`
    const text = bar.limitText === undefined ? bar.valueText : `${bar.valueText} · ${bar.limitText}`
    // Dark text beside both bars when it fits; else white inside the value bar when it fits
    // there; else dark text just past the value bar, over the pale limit bar.
    const besideX = LABEL_WIDTH + Math.max(valueWidth, limitWidth) + 6
    const inside = textWidth(text) + 12 <= valueWidth
    const placement = besideX + textWidth(text) <= width ? { x: besideX, fill: '#111' }
      : inside ? { x: LABEL_WIDTH + 6, fill: '#fff' }
        : { x: LABEL_WIDTH + valueWidth + 6, fill: '#111' }
    const label = `<text x="${placement.x}" y="${y + 15}" font-size="11" ` +
      `fill="${placement.fill}">${escapeXml(text)}</text>`
    return `<g><text x="${LABEL_WIDTH - 8}" y="${y + 15}" text-anchor="end" font-size="12">` +
      `${escapeXml(bar.label)}</text>${limitRect}` +
      `<rect x="${LABEL_WIDTH}" y="${y + 4}" width="${valueWidth}" height="${BAR_HEIGHT - 8}" ` +
      `fill="${bar.colour ?? '#2b6cb0'}"/>${label}</g>`
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `font-family="sans-serif" role="img">${rows.join('')}</svg>`
}

const X_TICKS = [0, 50, 90, 99, 99.9, 99.99]

/** x position of a percentile: log10(1/(1−p)); the maximum sits one decade past 99.99%. */
function percentileX(percentile: number): number {
  if (percentile >= 100) return 5
  return Math.log10(1 / (1 - percentile / 100))
}

function logTicks(minUs: number, maxUs: number): number[] {
  const ticks: number[] = []
  for (let decade = Math.floor(Math.log10(minUs)); decade <= Math.ceil(Math.log10(maxUs));
    decade++) {
    ticks.push(10 ** decade)
  }
  return ticks
}

export interface LatencyChartSeries extends LatencySeries {
  label: string
  /** a fixed colour (the peer charts keep sluice one colour and each peer another) */
  colour?: string
}

export function latencyChart(series: LatencyChartSeries[], pendingNote: string | null,
  width = 1100, height = 460): string {
  // The legend sits right of the plot and gets room for its longest label (up to half the width).
  const longest = Math.max(0, ...series.map((l) => textWidth(l.label)))
  const margin = { left: 80, right: Math.min(width / 2, Math.max(240, longest + 60)), top: 20,
    bottom: 50 }
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const values = series.flatMap((s) => s.curve.map((p) => Math.max(1, p.valueUs)))
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...values, 10)))
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...values, 100)))
  const x = (p: number) => margin.left + (percentileX(p) / 5) * plotW
  const y = (us: number) => margin.top + plotH
    - ((Math.log10(Math.max(1, us)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin)))
    * plotH
  const grid = [
    ...X_TICKS.map((p) => `<line x1="${x(p)}" x2="${x(p)}" y1="${margin.top}" ` +
      `y2="${margin.top + plotH}" stroke="#eee"/>` +
      `<text x="${x(p)}" y="${margin.top + plotH + 16}" ` +
      `text-anchor="middle" font-size="11">${p}%</text>`),
    `<text x="${x(100)}" y="${margin.top + plotH + 16}" text-anchor="middle" font-size="11">max` +
      '</text>',
    ...logTicks(yMin, yMax).map((us) => `<line x1="${margin.left}" x2="${margin.left + plotW}" ` +
      `y1="${y(us)}" y2="${y(us)}" stroke="#eee"/><text x="${margin.left - 6}" y="${y(us) + 4}" ` +
      `text-anchor="end" font-size="11">${escapeXml(formatMicros(us))}</text>`),
  ]
  const lines = series.map((s, i) => {
    const colour = s.colour ?? PALETTE[i % PALETTE.length]!
    const points = s.curve.map((p) => `${x(p.percentile).toFixed(1)},${y(p.valueUs).toFixed(1)}`)
    const dash = s.mode === 'push' ? ' stroke-dasharray="6 4"' : ''
    const legendY = margin.top + 10 + i * 18
    return `<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} ` +
      `points="${points.join(' ')}"/><line x1="${width - margin.right + 15}" ` +
      `x2="${width - margin.right + 40}" y1="${legendY}" y2="${legendY}" stroke="${colour}" ` +
      `stroke-width="2"${dash}/><text x="${width - margin.right + 46}" y="${legendY + 4}" ` +
      `font-size="11">${escapeXml(s.label)}</text>`
  })
  const pending = pendingNote === null ? '' : `<line x1="${width - margin.right + 15}" ` +
    `x2="${width - margin.right + 40}" y1="${margin.top + 10 + series.length * 18}" ` +
    `y2="${margin.top + 10 + series.length * 18}" stroke="#aaa" stroke-dasharray="6 4"/>` +
    `<text x="${width - margin.right + 46}" y="${margin.top + 14 + series.length * 18}" ` +
    `font-size="11" fill="#777">${escapeXml(pendingNote)}</text>`
  const axes = `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" ` +
    'fill="none" stroke="#999"/>' +
    `<text x="${margin.left + plotW / 2}" y="${height - 12}" text-anchor="middle" ` +
    'font-size="12">percentile (log scale of 1/(1−p))</text>' +
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" ` +
    'text-anchor="middle" font-size="12">latency from intended send time</text>'
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `font-family="sans-serif" role="img">${grid.join('')}${axes}${lines.join('')}${pending}</svg>`
}
