/**
 * Channel selectors (reference §2.5): for each event, the required channels (a failure fails the
 * source's batch) and the optional ones (failures logged and ignored).
 *
 *   replicating   every event to every channel; `selector.optional` lists the optional ones.
 *   multiplexing  `selector.header` (flume.selector.header); `selector.mapping.<value>` and
 *                 `selector.default` give required channels, `selector.optional.<value>` optional
 *                 ones. Header absent, blank or unmapped ⇒ default; no default ⇒ no required
 *                 channel (the event is dropped, as Flume does). A channel both required and
 *                 optional counts as required.
 */
import type { FlowEvent } from './event.js'
import type { Props } from './config/props.js'
import { splitNames } from './config/grammar.js'
import type { Channel } from './transaction.js'

export interface ChannelSelector {
  readonly type: string
  required(event: FlowEvent): Channel[]
  optional(event: FlowEvent): Channel[]
  readonly channels: Channel[]
}

function pick(props: Props, key: string, byName: Map<string, Channel>): Channel[] {
  const picked: Channel[] = []
  for (const name of splitNames(props.string(key, ''))) {
    const channel = byName.get(name)
    if (channel === undefined) {
      throw props.fail(key, `names channel ${name}, which is not among the source's channels`)
    }
    picked.push(channel)
  }
  return picked
}

function replicating(props: Props, channels: Channel[]): ChannelSelector {
  const byName = new Map(channels.map((c) => [c.name, c]))
  const optional = pick(props, 'selector.optional', byName)
  const required = channels.filter((c) => !optional.includes(c))
  return { type: 'replicating', channels, required: () => required, optional: () => optional }
}

function multiplexing(props: Props, channels: Channel[]): ChannelSelector {
  const byName = new Map(channels.map((c) => [c.name, c]))
  const header = props.string('selector.header', 'flume.selector.header')
  const mapping = new Map<string, Channel[]>()
  for (const value of props.under('selector.mapping')) {
    const mapped = pick(props, `selector.mapping.${value}`, byName)
    if (mapped.length === 0) throw props.fail(`selector.mapping.${value}`, 'maps to no channel')
    mapping.set(value, mapped)
  }
  const optionalMapping = new Map<string, Channel[]>()
  for (const value of props.under('selector.optional')) {
    optionalMapping.set(value, pick(props, `selector.optional.${value}`, byName))
  }
  const fallback = pick(props, 'selector.default', byName)
  const requiredFor = (event: FlowEvent): Channel[] => {
    const value = event.headers[header]
    if (value === undefined || value.trim() === '') return fallback
    return mapping.get(value) ?? fallback
  }
  return {
    type: 'multiplexing',
    channels,
    required: requiredFor,
    optional: (event) => {
      const value = event.headers[header] ?? ''
      const required = requiredFor(event)
      return (optionalMapping.get(value) ?? []).filter((c) => !required.includes(c))
    },
  }
}

export function buildSelector(props: Props, channels: Channel[]): ChannelSelector {
  const type = props.string('selector.type', 'replicating').toLowerCase()
  if (type === 'replicating' || type === 'org.apache.flume.channel.replicatingchannelselector') {
    return replicating(props, channels)
  }
  if (type === 'multiplexing' || type === 'org.apache.flume.channel.multiplexingchannelselector') {
    return multiplexing(props, channels)
  }
  throw props.fail('selector.type', `selector type ${JSON.stringify(type)} is not supported ` +
    '(replicating, multiplexing)')
}
