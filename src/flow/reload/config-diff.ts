/**
 * What a reload must restart: the running configuration and a candidate compared component by
 * component. A component is *changed* when its fingerprint differs:
 *
 *   channel   its own properties (type, capacity, dataDirs, …).
 *   source    its own properties (type-specific keys, `channels`, `selector.*`,
 *             `interceptors.*`) and the channels it puts to after pruning.
 *   sink      its own properties and the channel it takes from.
 *   runner    one per sink group (its `sinks` and `processor.*` properties and its members
 *             after pruning), or the implicit default runner of a sink in no group.
 *
 * Properties are compared after ${…} substitution and without line numbers, so moving lines,
 * comments or whitespace changes nothing. Restarts then spread along the wiring:
 *
 *   a rebuilt channel  restarts every source that puts to it and every sink that takes from it;
 *   a restarted sink   restarts its runner, and a restarted runner restarts all its sinks
 *                      (a sink runs only inside its runner; a group is stopped and started as
 *                      one, as Flume's SinkRunner does).
 *
 * Everything else keeps running on the same objects, counters included.
 */
import type { ComponentConf, ListName } from '../config/grammar.js'
import type { GroupPlan } from '../config/groups.js'
import type { Configured } from './candidate.js'

export interface ComponentChanges {
  /** In both and unchanged: the running object stays. */
  kept: string[]
  /** In both but changed, or wired to something that changed: stopped, rebuilt, started. */
  restarted: string[]
  added: string[]
  removed: string[]
}

export interface ReloadPlan {
  channels: ComponentChanges
  sources: ComponentChanges
  sinks: ComponentChanges
  /** Sink runners by runnerId: `sinkgroup <g>`, or `sink <k>` for a sink in no group. */
  runners: ComponentChanges
}

function propsFingerprint(component: ComponentConf | undefined): string {
  if (component === undefined) return ''
  return [...component.props].map(([key, prop]) => `${key}=${prop.value}`).sort().join('\n')
}

function componentOf(side: Configured, list: ListName, name: string): ComponentConf | undefined {
  return side.conf.components[list].get(name)
}

function channelPrint(side: Configured, name: string): string {
  return propsFingerprint(componentOf(side, 'channels', name))
}

function sourcePrint(side: Configured, name: string): string {
  const wired = side.graph.sources.get(name)!.processor.channels.map((c) => c.name)
  return `${propsFingerprint(componentOf(side, 'sources', name))}\n→ ${wired.join(' ')}`
}

function sinkPrint(side: Configured, name: string): string {
  const channel = side.graph.sinks.get(name)!.channel.name
  return `${propsFingerprint(componentOf(side, 'sinks', name))}\n← ${channel}`
}

function runnerPrint(side: Configured, plan: GroupPlan): string {
  const members = plan.processor.sinks.map((sink) => sink.name).join(' ')
  if (plan.implicit) return `implicit [${members}]`
  return `${propsFingerprint(componentOf(side, 'sinkgroups', plan.name))}\n[${members}]`
}

/** Sorts names into kept / restarted / added / removed; `mustRestart` sees names in both. */
function compare(before: Iterable<string>, after: Iterable<string>,
  mustRestart: (name: string) => boolean): ComponentChanges {
  const old = new Set(before)
  const changes: ComponentChanges = { kept: [], restarted: [], added: [], removed: [] }
  for (const name of after) {
    if (!old.has(name)) changes.added.push(name)
    else if (mustRestart(name)) changes.restarted.push(name)
    else changes.kept.push(name)
    old.delete(name)
  }
  changes.removed.push(...old)
  return changes
}

/** Group and sink names are separate namespaces in Flume, so a runner is keyed by both. */
export function runnerId(plan: GroupPlan): string {
  return `${plan.implicit ? 'sink' : 'sinkgroup'} ${plan.name}`
}

function runnersById(groups: GroupPlan[]): Map<string, GroupPlan> {
  return new Map(groups.map((plan) => [runnerId(plan), plan]))
}

export function planReload(running: Configured, candidate: Configured): ReloadPlan {
  const channels = compare(running.graph.channels.keys(), candidate.graph.channels.keys(),
    (name) => channelPrint(running, name) !== channelPrint(candidate, name))
  const rebuilt = new Set(channels.restarted)
  const sources = compare(running.graph.sources.keys(), candidate.graph.sources.keys(),
    (name) => sourcePrint(running, name) !== sourcePrint(candidate, name)
      || candidate.graph.sources.get(name)!.processor.channels.some((c) => rebuilt.has(c.name)))
  const sinkChanged = (name: string): boolean => !running.graph.sinks.has(name)
    || sinkPrint(running, name) !== sinkPrint(candidate, name)
    || rebuilt.has(candidate.graph.sinks.get(name)!.channel.name)
  const before = runnersById(running.graph.groups)
  const after = runnersById(candidate.graph.groups)
  const runners = compare(before.keys(), after.keys(), (name) =>
    runnerPrint(running, before.get(name)!) !== runnerPrint(candidate, after.get(name)!)
    || after.get(name)!.processor.sinks.some((sink) => sinkChanged(sink.name)))
  const runnerKept = new Set(runners.kept)
  // A failover sink left out of its group for a repeated priority has no runner at all.
  const runnerOf = new Map(candidate.graph.groups.flatMap((plan) =>
    plan.processor.sinks.map((sink) => [sink.name, runnerId(plan)] as const)))
  const sinks = compare(running.graph.sinks.keys(), candidate.graph.sinks.keys(), (name) => {
    const runner = runnerOf.get(name)
    return sinkChanged(name) || (runner !== undefined && !runnerKept.has(runner))
  })
  return { channels, sources, sinks, runners }
}

/** True when nothing is restarted, added or removed. */
export function planIsEmpty(plan: ReloadPlan): boolean {
  return [plan.channels, plan.sources, plan.sinks, plan.runners].every((changes) =>
    changes.restarted.length + changes.added.length + changes.removed.length === 0)
}
