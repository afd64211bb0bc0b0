/**
 * Sink groups → sink processors, and one runner plan per group (reference §1.4 rules 5 and 8):
 * a group needs at least one valid sink; a sink belongs to one group only
 * (PROPERTY_PART_OF_ANOTHER_GROUP); every sink left outside a group gets its own default
 * processor. A failover sink whose priority repeats another's is left out with a warning, as
 * Flume's FailoverSinkProcessor does.
 */
import { splitNames } from './grammar.js'
import type { Props } from './props.js'
import type { Pruner } from './validate.js'
import {
  DefaultSinkProcessor, FailoverSinkProcessor, LoadBalancingSinkProcessor, type SinkProcessor,
} from '../sink-processors.js'
import type { Sink } from '../sinks/sink.js'

export interface GroupPlan {
  name: string
  /** true for the default group Flume gives a sink that is in no group. */
  implicit: boolean
  processor: SinkProcessor
}

function failover(props: Props, members: Sink[], pruner: Pruner): SinkProcessor {
  const priorities = new Map<Sink, number>()
  const taken = new Map<number, string>()
  let unspecified = -1
  const kept: Sink[] = []
  for (const sink of members) {
    const key = `processor.priority.${sink.name}`
    const priority = props.has(key) ? props.int(key, 0, -(2 ** 31), 2 ** 31 - 1) : unspecified--
    const holder = taken.get(priority)
    if (holder !== undefined) {
      const raw = props.raw(key)
      pruner.report({ code: 'CONFIG_ERROR', kind: 'sink', component: sink.name,
        file: props.file, line: raw?.line ?? props.conf.line, key: raw?.key ?? props.fullKey(key),
        message: `Sink ${sink.name} not added to failover group ${props.name}: priority ` +
          `${priority} is already held by ${holder}` })
      continue
    }
    taken.set(priority, sink.name)
    priorities.set(sink, priority)
    kept.push(sink)
  }
  return new FailoverSinkProcessor(kept, priorities, props.int('processor.maxpenalty', 30_000, 1))
}

function loadBalance(props: Props, members: Sink[]): SinkProcessor {
  const selector = props.string('processor.selector', 'round_robin').toLowerCase()
  if (selector !== 'round_robin' && selector !== 'random') {
    throw props.fail('processor.selector', `must be round_robin or random, got ${selector}`)
  }
  return new LoadBalancingSinkProcessor(members, selector, props.bool('processor.backoff', false),
    props.int('processor.selector.maxTimeOut', 30_000, 1))
}

/** Flume accepts its processors' class names for `processor.type` too (case-insensitive). */
const PROCESSOR_CLASS_ALIASES: Record<string, string> = {
  'org.apache.flume.sink.defaultsinkprocessor': 'default',
  'org.apache.flume.sink.failoversinkprocessor': 'failover',
  'org.apache.flume.sink.loadbalancingsinkprocessor': 'load_balance',
}

function buildProcessor(props: Props, members: Sink[], pruner: Pruner): SinkProcessor {
  const named = props.string('processor.type', 'default').toLowerCase()
  const type = PROCESSOR_CLASS_ALIASES[named] ?? named
  if (type === 'failover') return failover(props, members, pruner)
  if (type === 'load_balance') return loadBalance(props, members)
  if (type !== 'default') {
    throw props.fail('processor.type', `must be default, failover or load_balance, got ${type}`)
  }
  if (members.length !== 1) {
    throw props.fail('sinks', `a default processor drives exactly one sink, got ${members.length}`)
  }
  return new DefaultSinkProcessor(members[0]!)
}

export function buildGroups(pruner: Pruner, sinks: Map<string, Sink>): GroupPlan[] {
  const plans: GroupPlan[] = []
  const grouped = new Map<string, string>()
  for (const component of pruner.listed('sinkgroups', 'sinkgroup')) {
    const props = pruner.props(component)
    const at = { line: props.raw('sinks')?.line ?? component.line,
      key: props.raw('sinks')?.key ?? props.fullKey('sinks') }
    const members: Sink[] = []
    for (const name of splitNames(props.string('sinks', ''))) {
      const sink = sinks.get(name)
      const owner = grouped.get(name)
      if (sink === undefined) {
        pruner.report({ code: 'CONFIG_ERROR', kind: 'sinkgroup', component: component.name,
          file: props.file, ...at, message: `sink ${name} of group ${component.name} is not a ` +
            'valid sink; left out' })
      } else if (owner !== undefined) {
        pruner.report({ code: 'PROPERTY_PART_OF_ANOTHER_GROUP', kind: 'sinkgroup',
          component: component.name, file: props.file, ...at, message: `sink ${name} is ` +
            `already in group ${owner}; a sink belongs to one group only, left out of ` +
            component.name })
      } else {
        members.push(sink)
      }
    }
    if (members.length === 0) {
      pruner.drop('sinkgroup', component.name, 'CONFIG_ERROR', at, 'it has no valid sink')
      continue
    }
    try {
      const processor = buildProcessor(props, members, pruner)
      pruner.reportUnused(props, 'sinkgroup')
      for (const sink of members) grouped.set(sink.name, component.name)
      plans.push({ name: component.name, implicit: false, processor })
    } catch (error) {
      pruner.dropFailed('sinkgroup', component.name, error)
    }
  }
  for (const sink of sinks.values()) {
    if (grouped.has(sink.name)) continue
    plans.push({ name: sink.name, implicit: true, processor: new DefaultSinkProcessor(sink) })
  }
  return plans
}
