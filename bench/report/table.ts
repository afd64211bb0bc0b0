/**
 * The terminal summary of a run: limits, then one table per scenario kind, each throughput figure
 * beside its limit and the fraction of it reached, targets marked met or missed, the peers beside
 * sluice (report/peers.ts), then the skipped scenarios with their reasons.
 */
import type { BenchResults, Figure, ScenarioResult } from '../results.js'
import { formatCount, formatMicros, formatPercent, formatValue, textTable } from './format.js'
import { peerTable } from './peers.js'

function find(scenario: ScenarioResult, name: string): Figure | undefined {
  return scenario.figures.find((f) => f.name === name)
}

function limitCells(f: Figure | undefined): string[] {
  if (f?.limit === undefined) return ['', '', '']
  const target = f.target === undefined ? '' : f.target.met ? 'met' : 'MISSED'
  return [`${f.limit.name} ${formatValue(f.limit.value, f.limit.unit)}`,
    formatPercent(f.ratio ?? 0), target]
}

function targetCell(f: Figure | undefined): string {
  if (f?.target === undefined) return ''
  return f.target.met ? 'met' : 'MISSED'
}

function appendTable(scenarios: ScenarioResult[]): string {
  const rows = scenarios.map((s) => {
    const records = find(s, 'records/s')
    const payload = find(s, 'payload MB/s')
    const ackP99 = find(s, 'append ack p99')
    return [s.name, formatCount(records?.value ?? 0), targetCell(records),
      (payload?.value ?? 0).toFixed(0), ...limitCells(payload),
      ackP99 === undefined ? '' : formatMicros(ackP99.value * 1000)]
  })
  return textTable(['append', 'records/s', 'goal', 'MB/s', 'limit', 'of limit', 'goal',
    'ack p99'], rows)
}

function readTable(scenarios: ScenarioResult[]): string {
  const rows = scenarios.map((s) => {
    // The broker's fetch cases count the payload a client received, not stored batches.
    const batches = find(s, 'stored batches MB/s') ?? find(s, 'payload MB/s')
    const records = find(s, 'decoded records/s')
    return [s.name, (batches?.value ?? 0).toFixed(0), ...limitCells(batches),
      formatCount(records?.value ?? 0), targetCell(records),
      formatPercent(find(s, 'batches as shared-memory views')?.value ?? 0)]
  })
  return textTable(['read', 'batches MB/s', 'limit', 'of limit', 'goal', 'records/s', 'goal',
    'views'], rows)
}

function latencyTable(scenarios: ScenarioResult[]): string {
  const rows = scenarios.flatMap((s) => (s.latency ?? []).map((series) => {
    const p99 = s.figures.find((f) => f.name === `${series.mode} p99 @ ${series.offeredRatePerSec}/s`)
    const goal = p99?.target === undefined ? ''
      : `${p99.target.met ? 'met' : 'MISSED'} (≤ ${formatMicros(p99.target.value)})`
    return [
      s.name, series.mode, formatCount(series.offeredRatePerSec),
      formatCount(series.achievedRatePerSec),
      formatMicros(series.percentilesUs.p50), formatMicros(series.percentilesUs.p99), goal,
      formatMicros(series.percentilesUs.p999), formatMicros(series.percentilesUs.max),
    ]
  }))
  const floors = scenarios.flatMap((s) => [...new Set((s.latency ?? [])
    .map((l) => l.offeredRatePerSec))].map((rate) => {
    const at = (p: string) => formatMicros(find(s, `send lag ${p} @ ${rate}/s`)?.value ?? 0)
    return [s.name, 'send lag', formatCount(rate), '', at('p50'), at('p99'), '', at('p99.9'),
      at('max')]
  }))
  return textTable(['latency', 'mode', 'offered/s', 'recorded/s', 'p50', 'p99', 'p99 goal',
    'p99.9', 'max'], [...rows, ...floors])
}

/** The agents: closed-loop events/s beside its limit, and the open-loop ack → write latency. */
function agentTable(scenarios: ScenarioResult[]): string {
  const rows = scenarios.map((s) => {
    const payload = find(s, 'payload MB/s')
    const p = s.latency?.[0]?.percentilesUs
    return [s.name, formatCount(find(s, 'events/s')?.value ?? 0),
      (payload?.value ?? 0).toFixed(1), ...limitCells(payload).slice(0, 2),
      formatMicros(p?.p50 ?? 0), formatMicros(p?.p99 ?? 0), formatMicros(p?.p999 ?? 0)]
  })
  return textTable(['agent', 'events/s', 'MB/s', 'limit', 'of limit', 'ack→write p50', 'p99',
    'p99.9'], rows)
}

function microTable(scenario: ScenarioResult): string {
  const tasks = scenario.figures.filter((f) => f.name.endsWith(' ops/s'))
    .map((f) => f.name.slice(0, -' ops/s'.length))
  const rows = tasks.map((task) => {
    const mb = find(scenario, `${task} MB/s`)
    const records = find(scenario, `${task} records/s`)
    return [task, formatCount(find(scenario, `${task} ops/s`)?.value ?? 0),
      formatMicros(find(scenario, `${task} mean`)?.value ?? 0),
      formatMicros(find(scenario, `${task} p99`)?.value ?? 0),
      mb === undefined ? '' : mb.value.toFixed(0),
      records === undefined ? '' : formatCount(records.value)]
  })
  return textTable(['micro (tinybench)', 'ops/s', 'mean', 'p99', 'MB/s', 'records/s'], rows)
}

function notesOf(scenarios: ScenarioResult[]): string[] {
  return scenarios.flatMap((s) => (s.notes ?? []).map((note) => `  ${s.name}: ${note}`))
}

export function renderTable(results: BenchResults): string {
  const sections: string[] = []
  sections.push(textTable(['machine limit', 'value', 'how'], results.limits.map((l) =>
    [l.name, formatValue(l.value, l.unit), l.method])))
  const byKind = (kind: ScenarioResult['kind']) => results.scenarios.filter((s) => s.kind === kind)
  if (byKind('append').length > 0) sections.push(appendTable(byKind('append')))
  if (byKind('read').length > 0) sections.push(readTable(byKind('read')))
  const isAgent = (s: ScenarioResult) => s.name.startsWith('agent/')
  const latency = byKind('latency').filter((s) => !isAgent(s))
  if (latency.length > 0) {
    sections.push(`${latencyTable(latency)}\n(open loop; latency from each record's ` +
      'intended send time, so coordinated omission is corrected; "send lag" is how late the ' +
      'producer itself sent: the floor this thread and machine allow)')
  }
  const agents = results.scenarios.filter(isAgent)
  if (agents.length > 0) {
    sections.push(`${agentTable(agents)}\n(events/s closed loop; latency open loop, from the ` +
      'first source\'s acknowledgement to the last sink\'s write)')
  }
  for (const micro of byKind('micro')) sections.push(microTable(micro))
  const peers = peerTable(results)
  if (peers !== '') sections.push(peers)
  const notes = notesOf(results.scenarios.filter((s) => s.kind !== 'append'))
  if (notes.length > 0) sections.push(['notes:', ...notes].join('\n'))
  if (results.skipped.length > 0) {
    sections.push(['skipped:', ...results.skipped.map((s) => `  ${s.name}: ${s.reason}`)]
      .join('\n'))
  }
  return `${sections.join('\n\n')}\n`
}
