/**
 * The peers beside sluice, in the terminal table and in report.html: for every peer scenario
 * (kind `peer`) the sluice scenario it names (`params.sluiceScenario`) is looked up in the same
 * results, so each row and chart sets the two side by side from one run.
 *
 *   table     one row per publish case (records/s) and per latency series (p50 and p99), with
 *             the peer's durability setting, the sluice mode it matches, and sluice / peer
 *   html      the stated durability comparison, publish bars (sluice and peer on one axis), and
 *             per latency case one chart with the peer's curves and sluice's push and pull curves
 *             at the same rate on the same axes, then every peer figure
 */
import type { BenchResults, LatencySeries, ScenarioResult } from '../results.js'
import { barChart, escapeXml as esc, latencyChart, type LatencyChartSeries } from './charts.js'
import { formatCount, formatMicros, formatPercent, formatValue, textTable } from './format.js'

function peersOf(results: BenchResults): ScenarioResult[] {
  return results.scenarios.filter((s) => s.kind === 'peer')
}

function sluiceOf(results: BenchResults, peer: ScenarioResult): ScenarioResult | undefined {
  return results.scenarios.find((s) => s.name === peer.params['sluiceScenario'])
}

function value(s: ScenarioResult | undefined, name: string): number | undefined {
  return s?.figures.find((f) => f.name === name)?.value
}

function ratioText(sluice: number | undefined, peer: number | undefined): string {
  return sluice === undefined || peer === undefined || peer === 0 ? ''
    : `${(sluice / peer).toFixed(2)}x`
}

function matching(sluice: ScenarioResult | undefined, series: LatencySeries)
  : LatencySeries | undefined {
  return sluice?.latency?.find((l) => l.mode === series.mode
    && l.offeredRatePerSec === series.offeredRatePerSec)
}

function durabilityCell(s: ScenarioResult): string {
  const sluice = String(s.params['comparedWithSluiceDurability'])
  return `${String(s.params['peerDurabilityLabel'])} ≈ ${sluice}`
}

function peerRows(results: BenchResults): string[][] {
  return peersOf(results).flatMap((peer) => {
    const sluice = sluiceOf(results, peer)
    const label = peer.name.replace('peers/', '')
    if (peer.params['workload'] === 'publish') {
      const mine = value(peer, 'records/s')
      const theirs = value(sluice, 'records/s')
      const payload = peer.figures.find((f) => f.name === 'payload MB/s')
      const ofLimit = payload?.limit === undefined ? '' : `${payload.value.toFixed(1)} MB/s, ` +
        `${formatPercent(payload.ratio ?? 0)} of ${payload.limit.name}`
      return [[label, durabilityCell(peer), 'records/s', formatCount(mine ?? 0),
        theirs === undefined ? 'n/a' : formatCount(theirs), ratioText(theirs, mine), ofLimit]]
    }
    const rows = (peer.latency ?? []).map((series) => {
      const other = matching(sluice, series)
      const pair = (l: LatencySeries | undefined) => l === undefined ? 'n/a'
        : `${formatMicros(l.percentilesUs.p50)} / ${formatMicros(l.percentilesUs.p99)}`
      return [label, durabilityCell(peer),
        `${series.mode} p50 / p99 @ ${formatCount(series.offeredRatePerSec)}/s`, pair(series),
        pair(other), ratioText(other?.percentilesUs.p99, series.percentilesUs.p99), '']
    })
    return [...rows, ...sendLagRows(peer, sluice, label)]
  })
}

/** The producer's send lag per rate, peer run beside sluice's run: each latency's floor. */
function sendLagRows(peer: ScenarioResult, sluice: ScenarioResult | undefined, label: string)
  : string[][] {
  const rates = [...new Set((peer.latency ?? []).map((l) => l.offeredRatePerSec))]
  return rates.flatMap((rate) => {
    const pair = (s: ScenarioResult | undefined) => {
      const p50 = value(s, `send lag p50 @ ${rate}/s`)
      const p99 = value(s, `send lag p99 @ ${rate}/s`)
      return p50 === undefined || p99 === undefined ? undefined
        : `${formatMicros(p50)} / ${formatMicros(p99)}`
    }
    const mine = pair(peer)
    if (mine === undefined) return []
    return [[label, durabilityCell(peer), `send lag p50 / p99 @ ${formatCount(rate)}/s`, mine,
      pair(sluice) ?? 'n/a', '', '']]
  })
}

/** The terminal table's peer section, or '' when no peer ran. */
export function peerTable(results: BenchResults): string {
  const rows = peerRows(results)
  if (rows.length === 0) return ''
  return `${textTable(['peer', 'durability (peer ≈ sluice)', 'figure', 'peer', 'sluice',
    'sluice/peer', 'peer payload (of limit)'], rows)}\n(same workload, same run: publish = ` +
    'sluice\'s append case, one ' +
    'partition/stream, as many records in flight; latency = the same open-loop harness and ' +
    'rates; send lag is how late the producer itself sent, the floor under that run\'s ' +
    'latency. sluice/peer above 1: sluice is higher, better for records/s, worse for latency)'
}

function durabilityTable(peers: ScenarioResult[]): string {
  const seen = new Map<string, ScenarioResult>()
  for (const p of peers) {
    seen.set(`${String(p.params['peer'])}/${String(p.params['comparedWithSluiceDurability'])}`, p)
  }
  const rows = [...seen.values()].map((p) => `<tr><td>${esc(String(p.params['server']))}` +
    ` via ${esc(String(p.params['client']))}</td><td>${esc(String(p.params['peerDurability']))}` +
    `</td><td>${esc(String(p.params['comparedWithSluiceDurability']))}</td>` +
    `<td>${esc(String(p.params['durabilityComparison']))}</td></tr>`)
  return '<table><tr><th>peer</th><th>its durability setting</th><th>beside sluice</th>' +
    `<th>how they compare</th></tr>${rows.join('')}</table>`
}

/** sluice keeps one colour on every peer chart; each peer has its own. */
const COLOURS: Record<string, string> = { sluice: '#1f77b4', 'redis-streams': '#d62728',
  'nats-jetstream': '#2ca02c' }

function publishBars(results: BenchResults, peers: ScenarioResult[]): string {
  const bars = peers.filter((p) => p.params['workload'] === 'publish').flatMap((peer) => {
    const sluice = sluiceOf(results, peer)
    const mine = value(peer, 'records/s') ?? 0
    const theirs = value(sluice, 'records/s')
    const peerBar = { label: peer.name.replace('peers/', ''), value: mine,
      colour: COLOURS[String(peer.params['peer'])] ?? '#ff7f0e',
      valueText: `${formatCount(mine)} records/s (${String(peer.params['peerDurabilityLabel'])})` }
    if (sluice === undefined || theirs === undefined) return [peerBar]
    return [{ label: `sluice ${sluice.name}`, value: theirs, valueText: `${formatCount(theirs)} ` +
      `records/s · ${ratioText(theirs, mine)} the peer below` }, peerBar]
  })
  return bars.length === 0 ? '' : '<h3>Publish: records per second, sluice above each peer</h3>' +
    barChart(bars)
}

function latencyCharts(results: BenchResults, peers: ScenarioResult[]): string {
  return peers.filter((p) => p.params['workload'] === 'latency').map((peer) => {
    const sluice = sluiceOf(results, peer)
    const peerName = String(peer.params['peer'])
    const series: LatencyChartSeries[] = []
    for (const mine of peer.latency ?? []) {
      const rate = `${formatCount(mine.offeredRatePerSec)}/s`
      series.push({ ...mine, label: `${peerName} ${mine.mode} @ ${rate}`,
        colour: COLOURS[peerName] ?? '#ff7f0e' })
      const other = matching(sluice, mine)
      if (other !== undefined) {
        series.push({ ...other, label: `sluice ${other.mode} @ ${rate}`,
          colour: COLOURS['sluice'] })
      }
    }
    return `<h3>Latency: ${esc(peer.name)} beside sluice ${esc(sluice?.name ?? '(none)')}</h3>` +
      `<p class="muted">${esc(String(peer.params['delivery']))}; sluice: consumer.run (push) ` +
      `and consumer.fetch (pull). Durability: ${esc(durabilityCell(peer))}. Push dashed, ` +
      'pull solid; sluice in blue.</p>' +
      latencyChart(series, null)
  }).join('\n')
}

function figureRows(results: BenchResults, peers: ScenarioResult[]): string {
  const rows = peerRows(results).map((cells) => `<tr>${cells.map((c, i) =>
    `<td${i >= 3 && i <= 5 ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`)
  const other = peers.flatMap((p) => p.figures.filter((f) => f.unit === 'cores'
    || f.name.startsWith('ack')).map((f) => `<tr><td>${esc(p.name.replace('peers/', ''))}</td>` +
    `<td></td><td>${esc(f.name)}</td><td class="n">${esc(formatValue(f.value, f.unit))}</td>` +
    '<td></td><td></td><td></td></tr>'))
  return '<table><tr><th>peer</th><th>durability (peer ≈ sluice)</th><th>figure</th>' +
    '<th>peer</th><th>sluice</th><th>sluice/peer</th><th>peer payload (of limit)</th></tr>' +
    `${[...rows, ...other].join('')}</table>`
}

/** report.html's peer section, or '' when no peer ran. */
export function peerSection(results: BenchResults): string {
  const peers = peersOf(results)
  if (peers.length === 0) return ''
  return '<h2>Peers: sluice beside Redis Streams and NATS JetStream</h2><p class="muted">Each ' +
    'peer\'s server was started by the bench on loopback in a temporary directory and driven ' +
    'through its maintainers\' Node client, on the same workload as the sluice case beside it, ' +
    'in this run: publish is sluice\'s append phase (one partition or stream, as many records ' +
    'in flight, one record per peer command); latency is the same open-loop harness, rates and ' +
    'record values. The client runs in the bench process, on the same cores as the server. ' +
    'sluice/peer above 1: sluice is higher (better for records/s, worse for latency).</p>' +
    `<h3>Durability, as configured and read back from each server</h3>${durabilityTable(peers)}` +
    publishBars(results, peers) + latencyCharts(results, peers) +
    `<h3>Peer figures</h3>${figureRows(results, peers)}`
}
