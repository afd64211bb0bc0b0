/**
 * What `/metrics` serves, in two formats built from the same counters:
 *
 *   JSON        Flume's HTTPMetricsServer shape (reference §5.2): `{"<TYPE>.<name>": {attr:
 *               "value"}}`, every value a string, channels adding ChannelSize, ChannelCapacity
 *               and ChannelFillPercentage (size / capacity × 100, Double.MAX_VALUE at capacity 0).
 *   Prometheus  text format 0.0.4: each counter as `sluice_<type>_<snake_name>_total` and the
 *               channel gauges as `sluice_channel_<snake_name>`, labelled {agent, component}.
 */
import type { Channel } from '../transaction.js'
import type { CounterGroup } from './counters.js'

export interface MetricsView {
  agent: string
  groups: CounterGroup<string>[]
  channels: Channel[]
}

/** Java's Double.toString for the values a fill percentage takes. */
function javaDouble(value: number): string {
  if (!Number.isFinite(value) || value > Number.MAX_VALUE) return '1.7976931348623157E308'
  return Number.isInteger(value) ? `${value}.0` : String(value)
}

function channelGauges(channel: Channel): Record<string, string> {
  const size = channel.size()
  const fill = channel.capacity === 0 ? Number.MAX_VALUE : (size / channel.capacity) * 100
  const gauges: Record<string, string> = {
    ChannelSize: String(size),
    ChannelCapacity: String(channel.capacity),
    ChannelFillPercentage: javaDouble(fill),
  }
  if (channel.type === 'file') {
    Object.assign(gauges, { Open: 'true', Closed: '0', Unhealthy: '0' })
  }
  return gauges
}

export function flumeJson(view: MetricsView): Record<string, Record<string, string>> {
  const channels = new Map(view.channels.map((c) => [c.name, c]))
  const report: Record<string, Record<string, string>> = {}
  for (const group of view.groups) {
    const entry: Record<string, string> = {
      Type: group.type,
      StartTime: String(group.startTimeMs),
      StopTime: String(group.stopTimeMs),
    }
    for (const [name, value] of group.entries()) entry[name] = String(value)
    const channel = group.type === 'CHANNEL' ? channels.get(group.name) : undefined
    if (channel !== undefined) Object.assign(entry, channelGauges(channel))
    report[`${group.type}.${group.name}`] = entry
  }
  return report
}

export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** Flume counters that are levels, not running totals. */
const GAUGES = new Set(['OpenConnectionCount'])

export function prometheusText(view: MetricsView): string {
  const families = new Map<string, { type: string; samples: string[] }>()
  const sample = (metric: string, type: string, component: string, value: number): void => {
    let family = families.get(metric)
    if (family === undefined) families.set(metric, family = { type, samples: [] })
    const labels = `agent="${escapeLabel(view.agent)}",component="${escapeLabel(component)}"`
    family.samples.push(`${metric}{${labels}} ${value}`)
  }
  const channels = new Map(view.channels.map((c) => [c.name, c]))
  for (const group of view.groups) {
    const prefix = `sluice_${group.type.toLowerCase()}`
    for (const [name, value] of group.entries()) {
      // A value that goes down (open connections) is a gauge, with no _total suffix.
      if (GAUGES.has(name)) {
        sample(`${prefix}_${snakeCase(name).replace(/_count$/, '')}`, 'gauge', group.name, value)
        continue
      }
      const counter = `${prefix}_${snakeCase(name).replace(/_count$/, '')}_total`
      sample(counter, 'counter', group.name, value)
    }
    const channel = channels.get(group.name)
    if (group.type === 'CHANNEL' && channel !== undefined) {
      sample('sluice_channel_size', 'gauge', group.name, channel.size())
      sample('sluice_channel_capacity', 'gauge', group.name, channel.capacity)
    }
  }
  let text = ''
  for (const [metric, family] of families) {
    text += `# TYPE ${metric} ${family.type}\n${family.samples.join('\n')}\n`
  }
  return text
}
