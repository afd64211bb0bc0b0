/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts or network) that a person
 * can open from the results folder: the machine and its limits, throughput charts with each
 * figure against its limit (the agents' too), push and pull latency curves on the same axes,
 * the peers beside sluice (report/peers.ts), and every figure in tables, with notes and skipped
 * scenarios and their reasons.
 */
import type { BenchResults, Figure, LatencySeries, ScenarioResult } from '../results.js'
import { barChart, escapeXml as esc, latencyChart, type Bar } from './charts.js'
import { formatCount, formatPercent, formatValue } from './format.js'
import { peerSection } from './peers.js'

const STYLE = `body{font-family:sans-serif;margin:24px;color:#111;max-width:1150px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:12px;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
td.n{text-align:right;white-space:nowrap}
.met{color:#1a7f37}.missed{color:#c62828;font-weight:bold}.muted{color:#666;font-size:12px}`

function figureOf(s: ScenarioResult, name: string): Figure | undefined {
  return s.figures.find((f) => f.name === name)
}

function limitBars(scenarios: ScenarioResult[], figureName: string): Bar[] {
  return scenarios.flatMap((s) => {
    const f = figureOf(s, figureName)
    if (f === undefined) return []
    const bar: Bar = { label: s.name, value: f.value, valueText: formatValue(f.value, f.unit) }
    if (f.limit !== undefined) {
      bar.limit = f.limit.value
      bar.limitText = `${formatPercent(f.ratio ?? 0)} of ${f.limit.name} ` +
        `(${formatValue(f.limit.value, f.limit.unit)})`
    }
    return [bar]
  })
}

function countBars(scenarios: ScenarioResult[], figureName: string): Bar[] {
  return scenarios.flatMap((s) => {
    const f = figureOf(s, figureName)
    if (f === undefined) return []
    const goal = f.target === undefined ? '' : ` · goal ${f.target.met ? 'met' : 'missed'}: ` +
      f.target.description
    return [{ label: s.name, value: f.value,
      valueText: `${formatCount(f.value)} ${f.unit}${goal}` }]
  })
}

function figureTable(scenarios: ScenarioResult[]): string {
  const rows = scenarios.flatMap((s) => s.figures.map((f) => {
    const goal = f.target === undefined ? '' : `<span class="${f.target.met ? 'met' : 'missed'}">` +
      `${f.target.met ? 'met' : 'missed'}</span> ${esc(f.target.description)}`
    return `<tr><td>${esc(s.name)}</td><td>${esc(f.name)}</td>` +
      `<td class="n">${esc(formatValue(f.value, f.unit))}</td>` +
      `<td>${f.limit === undefined ? '' : esc(`${f.limit.name} ${formatValue(f.limit.value,
        f.limit.unit)}`)}</td><td class="n">${f.ratio === undefined ? ''
        : formatPercent(f.ratio)}</td><td>${goal}</td></tr>`
  }))
  return '<table><tr><th>scenario</th><th>figure</th><th>value</th><th>limit</th>' +
    `<th>of limit</th><th>goal</th></tr>${rows.join('')}</table>`
}

function paramsTable(scenarios: ScenarioResult[]): string {
  const rows = scenarios.map((s) => `<tr><td>${esc(s.name)}</td><td>${esc(Object.entries(s.params)
    .map(([k, v]) => `${k}=${String(v)}`).join(', '))}</td></tr>`)
  return `<table><tr><th>scenario</th><th>parameters</th></tr>${rows.join('')}</table>`
}

/** "met (≤ 100 µs)" for the series' p99 target, or '' where the issue sets none. */
function goalOf(scenario: ScenarioResult, series: LatencySeries): string {
  const name = `${series.mode} p99 @ ${series.offeredRatePerSec}/s`
  const target = scenario.figures.find((f) => f.name === name)?.target
  if (target === undefined) return ''
  return `${target.met ? 'met' : 'MISSED'} (≤ ${formatValue(target.value, 'µs')})`
}

/** Rows of the producer's send lag (a latency scenario's floor), one per offered rate. */
function sendLagRows(scenarios: ScenarioResult[]): string[] {
  return scenarios.flatMap((s) => [...new Set((s.latency ?? []).map((l) => l.offeredRatePerSec))]
    .flatMap((rate) => {
      const at = (p: string) => s.figures.find((f) => f.name === `send lag ${p} @ ${rate}/s`)
      if (at('p99') === undefined) return []
      const cells = ['p50', '', 'p99', 'p99.9', 'max'].map((p) => `<td class="n">${p === ''
        ? '' : esc(formatValue(at(p)?.value ?? 0, 'µs'))}</td>`).join('')
      return [`<tr><td>send lag ${esc(s.name.replace('latency/', ''))} @ ` +
        `${formatCount(rate)}/s</td><td></td><td></td>${cells}<td></td></tr>`]
    }))
}

function latencySection(results: BenchResults): string {
  const scenarios = results.scenarios.filter((s) => s.kind === 'latency')
  if (scenarios.length === 0) return ''
  const series = scenarios.flatMap((s) => (s.latency ?? []).map((l: LatencySeries) => ({
    ...l,
    label: `${l.mode} ${s.name.replace('latency/', '')} @ ${formatCount(l.offeredRatePerSec)}/s`,
    goal: goalOf(s, l),
  })))
  const rows = series.map((l) => `<tr><td>${esc(l.label)}</td>` +
    `<td class="n">${formatCount(l.achievedRatePerSec)}</td><td class="n">${l.records}</td>` +
    [l.percentilesUs.p50, l.percentilesUs.p90, l.percentilesUs.p99, l.percentilesUs.p999,
      l.percentilesUs.max].map((v) => `<td class="n">${esc(formatValue(v, 'µs'))}</td>`).join('') +
    `<td>${esc(l.goal)}</td></tr>`)
  rows.push(...sendLagRows(scenarios))
  return '<h2>Latency: push versus pull</h2><p class="muted">Open loop at fixed offered rates; ' +
    'each record\'s latency runs from its <em>intended</em> send time to its delivery, which ' +
    'corrects for coordinated omission. HDR histogram, 3 significant digits. Push is ' +
    '<code>consumer.run</code>, pull is <code>consumer.fetch</code>, two groups reading the ' +
    'same records in the same run. Series named <code>kafka/…</code> go over the Kafka ' +
    'protocol to <code>sluice broker</code> (kafkajs producer, kafkajs consumer.run: Fetch long ' +
    'polls on the wire, so pull). <em>Send lag</em> is how late the producer itself sent ' +
    'each record: no sluice code runs in it, so it is the floor this thread and machine allow.' +
    '</p>' +
    latencyChart(series, null) +
    '<table><tr><th>series</th><th>recorded/s</th><th>records</th><th>p50</th><th>p90</th>' +
    `<th>p99</th><th>p99.9</th><th>max</th><th>p99 goal</th></tr>${rows.join('')}</table>`
}

function throughputSection(results: BenchResults): string {
  const appends = results.scenarios.filter((s) => s.kind === 'append')
  const reads = results.scenarios.filter((s) => s.kind === 'read')
  const parts: string[] = []
  if (appends.length > 0) {
    parts.push('<h2>Append throughput</h2><p class="muted">Payload MB/s (record values); the ' +
      'pale dashed bar behind each is the limit it is compared with, measured in this run.</p>',
    barChart(limitBars(appends, 'payload MB/s')), '<h3>Records per second</h3>',
    barChart(countBars(appends, 'records/s')))
  }
  if (reads.length > 0) {
    const hot = reads.filter((s) => s.params['where'] === 'hot')
    const cold = reads.filter((s) => s.params['where'] === 'cold')
    parts.push('<h2>Read throughput</h2><p class="muted">Stored batches as returned by ' +
      'readBatches. Hot reads hand out views of the tail window\'s shared memory, so their ' +
      'MB/s counts bytes made available without copying them, against memcpy; cold reads come ' +
      'from sealed segment files, against page-cache reads. Hot and cold have separate axes.</p>')
    const figureName = 'stored batches MB/s'
    if (hot.length > 0) parts.push('<h3>Hot tail</h3>', barChart(limitBars(hot, figureName)))
    if (cold.length > 0) {
      parts.push('<h3>Cold (sealed segments)</h3>', barChart(limitBars(cold, figureName)))
    }
    parts.push('<h3>Decoded records per second</h3>',
      barChart(countBars(reads, 'decoded records/s')))
  }
  return parts.join('\n')
}

/**
 * The agents (one agent, and the paths through an avro hop, a Kafka log or the hdfs sink):
 * payload MB/s against its limit, and every figure with it. Their ack → write latency is in
 * the latency section, as push series named agent/….
 */
function agentSection(results: BenchResults): string {
  const agents = results.scenarios.filter((s) => s.name.startsWith('agent/'))
  if (agents.length === 0) return ''
  return '<h2>Agents</h2><p class="muted">Closed loop: HTTP (or netcat) clients post batches ' +
    'into the first agent; events/s is what the last sink wrote. The pale dashed bar is the ' +
    'ceiling of the slowest stage (the disk when something on the path fsyncs, else memcpy). ' +
    'Latency is open loop, from the first source\'s acknowledgement to the last sink\'s write.' +
    `</p>${barChart(limitBars(agents, 'payload MB/s'))}${figureTable(agents)}`
}

function microSection(results: BenchResults): string {
  const micro = results.scenarios.filter((s) => s.kind === 'micro')
  const rows = micro.flatMap((s) => s.figures.filter((f) => f.name.endsWith(' ops/s')).map((f) => {
    const task = f.name.slice(0, -' ops/s'.length)
    const cell = (suffix: string) => {
      const found = figureOf(s, `${task} ${suffix}`)
      const text = found === undefined ? '' : esc(formatValue(found.value, found.unit))
      return `<td class="n">${text}</td>`
    }
    return `<tr><td>${esc(task)}</td>${cell('ops/s')}${cell('mean')}${cell('p99')}` +
      `${cell('MB/s')}${cell('records/s')}</tr>`
  }))
  if (rows.length === 0) return ''
  return '<h2>Micro-benchmarks (tinybench)</h2><p class="muted">Rates derive from the mean ' +
    'time per operation; p99 is tinybench\'s per-operation latency.</p><table><tr><th>task</th>' +
    '<th>ops/s</th><th>mean</th><th>p99</th><th>MB/s</th><th>records/s</th></tr>' +
    `${rows.join('')}</table>`
}

export function renderHtml(results: BenchResults): string {
  const m = results.machine
  const limitRows = results.limits.map((l) => `<tr><td>${esc(l.name)}</td><td class="n">` +
    `${esc(formatValue(l.value, l.unit))}</td><td>${esc(l.method)}</td></tr>`)
  const notes = results.scenarios.flatMap((s) => (s.notes ?? [])
    .map((n) => `<li>${esc(s.name)}: ${esc(n)}</li>`))
  const skipped = results.skipped.map((s) => `<li>${esc(s.name)}: ${esc(s.reason)}</li>`)
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>sluice bench ${esc(results.startedAt)}</title><style>${STYLE}</style></head><body>
<h1>sluice bench — ${esc(results.mode)} run, ${esc(results.startedAt)}</h1>
<p class="muted">${m.cpus} × ${esc(m.cpuModel)}, ${(m.totalMemoryBytes / 2 ** 30).toFixed(0)} GiB,
Node ${esc(m.node)} on ${esc(m.platform)}; data in ${esc(m.dataDir)}; took
${(results.durationMs / 1000).toFixed(1)} s${results.scenarioFilter === null ? ''
  : `; scenario filter ${esc(results.scenarioFilter)}`}. MB/s = 10<sup>6</sup> bytes/s.</p>
<h2>Machine limits (measured in this run)</h2>
<table><tr><th>limit</th><th>value</th><th>how</th></tr>${limitRows.join('')}</table>
${throughputSection(results)}
${agentSection(results)}
${latencySection(results)}
${peerSection(results)}
${microSection(results)}
<h2>Throughput figures</h2>${figureTable(results.scenarios.filter((s) =>
  s.kind === 'append' || s.kind === 'read'
  || (s.kind === 'peer' && s.params['workload'] === 'publish')))}
<h2>Parameters</h2>${paramsTable(results.scenarios)}
${notes.length > 0 ? `<h2>Notes</h2><ul>${notes.join('')}</ul>` : ''}
${skipped.length > 0 ? `<h2>Skipped</h2><ul>${skipped.join('')}</ul>` : ''}
</body></html>
`
}
