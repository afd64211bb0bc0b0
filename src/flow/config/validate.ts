/**
 * Flume's validation by pruning (reference §1.4), then instantiation: a bad component is dropped
 * with a warning naming it and why, its dependants are re-checked, and the agent refuses to
 * start only when nothing usable is left. In strict mode the first problem is an error instead.
 *
 *   1. `<agent>.channels` must list something; each channel needs properties and a `type`, and
 *      must build; no channel left ⇒ the agent is invalid.
 *   2. each source needs a type and `channels`; its list is cut to the valid channels (sluice
 *      warns where Flume is silent); none left ⇒ removed. Its selector and interceptors must
 *      build, and its batch size must fit each channel's transactionCapacity.
 *   3. each sink needs a type and a valid `channel`, must build, and its batch must fit.
 *   4. each sink group needs ≥ 1 valid sink; a sink belongs to one group only.
 *   5. channels no source or sink uses are removed.
 *   6. no source and no sink left ⇒ the agent is invalid.
 */
import { splitNames, type AgentConf, type ComponentConf, type ListName } from './grammar.js'
import {
  FlowConfigError, ProblemError, describeProblem, problemError, type ComponentKind,
  type ConfigProblem, type FlumeErrorCode,
} from './errors.js'
import { Props } from './props.js'
import { buildChannel, buildSink, buildSource, type BuildContext } from './components.js'
import { buildGroups, type GroupPlan } from './groups.js'
import { FileChannel } from '../channels/file-channel.js'
import type { Sink } from '../sinks/sink.js'
import type { AnySource } from '../sources/source.js'
import type { Channel } from '../transaction.js'

export interface AgentGraph {
  agent: string
  file: string
  channels: Map<string, Channel>
  sources: Map<string, AnySource>
  sinks: Map<string, Sink>
  groups: GroupPlan[]
  problems: ConfigProblem[]
}

/** Flume file-channel keys about its checkpoints and fsync policy: moot for sluice's design. */
const FLUME_MOOT_KEYS = new Set(['useDualCheckpoints', 'backupCheckpointDir',
  'compressBackupCheckpoint', 'checkpointInterval', 'checkpointOnClose', 'use-fast-replay',
  'use-log-replay-v1', 'fsyncPerTransaction', 'fsyncInterval'])

export class Pruner {
  readonly problems: ConfigProblem[] = []

  constructor(readonly conf: AgentConf, readonly strict: boolean,
    private readonly context: BuildContext) {}

  report(problem: ConfigProblem): void {
    this.problems.push(problem)
    if (this.strict) throw problemError(problem)
    this.context.logger.warn(describeProblem(problem))
  }

  /** Drops a component: one warning with Flume's code, the key at fault and why. */
  drop(kind: ComponentKind, name: string, code: FlumeErrorCode, at: { line: number; key: string },
    why: string): void {
    const what = `${kind[0]!.toUpperCase()}${kind.slice(1)} ${name}`
    this.report({ code, kind, component: name, file: this.conf.file, line: at.line, key: at.key,
      message: `${what} has been removed: ${why}` })
  }

  dropFailed(kind: ComponentKind, name: string, error: unknown): void {
    // A strict-mode finding from inside a builder is already the answer: pass it through.
    if (error instanceof ProblemError || !(error instanceof FlowConfigError)) throw error
    this.drop(kind, name, 'CONFIG_ERROR', { line: error.line, key: error.key },
      `error during configuration: ${error.detail}`)
  }

  refuse(why: string, at: { line: number; key: string }): never {
    const problem: ConfigProblem = { code: 'AGENT_CONFIGURATION_INVALID', kind: 'agent',
      component: this.conf.name, file: this.conf.file, line: at.line, key: at.key,
      message: `agent ${this.conf.name} cannot start: ${why}` }
    this.problems.push(problem)
    throw problemError(problem)
  }

  props(component: ComponentConf): Props {
    return new Props(component, this.conf.file, this.conf.name)
  }

  /**
   * Warns about each property the built component never read (a typo such as `capcity` would
   * otherwise pass silently). Flume file-channel tuning keys that sluice's design makes moot
   * are only noted, so Flume's own configurations stay clean under --strict.
   */
  reportUnused(props: Props, kind: ComponentKind): void {
    for (const prop of props.unused()) {
      const key = prop.key.slice(props.fullKey('').length)
      if (FLUME_MOOT_KEYS.has(key)) {
        this.context.logger.info(`${prop.key}: not used by sluice's ${kind} (${
          'its log and takes log replace Flume\'s checkpoints'}); ignored`)
        continue
      }
      this.report({ code: 'INVALID_PROPERTY', kind, component: props.name, file: this.conf.file,
        line: prop.line, key: prop.key, message: `unknown property of ${kind} ${props.name}; ` +
          'ignored' })
    }
  }

  listKey(list: ListName): { line: number; key: string } {
    const prop = this.conf.lists.get(list)
    return { line: prop?.line ?? 1, key: prop?.key ?? `${this.conf.name}.${list}` }
  }

  /** The listed names that have a definition; listed-but-undefined ones are dropped. */
  listed(list: ListName, kind: ComponentKind): ComponentConf[] {
    const names = splitNames(this.conf.lists.get(list)?.value ?? '')
    const found: ComponentConf[] = []
    for (const name of new Set(names)) {
      const component = this.conf.components[list].get(name)
      if (component === undefined) {
        this.drop(kind, name, 'CONFIG_ERROR', this.listKey(list),
          `it is listed in ${this.listKey(list).key} but has no properties`)
      } else if (!component.props.has('type') && list !== 'sinkgroups') {
        this.drop(kind, name, 'CONFIG_ERROR', { line: component.line,
          key: `${this.conf.name}.${list}.${name}.type` }, 'Component has no type')
      } else {
        found.push(component)
      }
    }
    for (const [name, component] of this.conf.components[list]) {
      if (names.includes(name)) continue
      this.report({ code: 'INVALID_PROPERTY', kind, component: name, file: this.conf.file,
        line: component.line, key: `${this.conf.name}.${list}.${name}`,
        message: `${kind} ${name} is configured but not listed in ${this.listKey(list).key}; ` +
          'ignored' })
    }
    return found
  }
}

function loadChannels(pruner: Pruner, context: BuildContext): Map<string, Channel> {
  const channels = new Map<string, Channel>()
  const owners = new Map<string, string>()
  for (const component of pruner.listed('channels', 'channel')) {
    let channel: Channel
    try {
      const props = pruner.props(component)
      channel = buildChannel(props, context)
      pruner.reportUnused(props, 'channel')
    } catch (error) {
      pruner.dropFailed('channel', component.name, error)
      continue
    }
    // Flume locks its directories; two file channels on one directory would corrupt both.
    const dirs = channel instanceof FileChannel ? channel.directories : []
    const shared = dirs.find((dir) => owners.has(dir))
    if (shared !== undefined) {
      pruner.drop('channel', component.name, 'CONFIG_ERROR', { line: component.line,
        key: `${pruner.conf.name}.channels.${component.name}` },
      `directory ${shared} is already used by channel ${owners.get(shared)}`)
      continue
    }
    for (const dir of dirs) owners.set(dir, component.name)
    channels.set(component.name, channel)
  }
  return channels
}

/** Where a component's batch size is set (file_roll spells it sink.batchSize). */
/** Each type's own spelling of its batch size, so a misfit names the key that was written. */
const BATCH_KEYS = ['batchSize', 'sink.batchSize', 'flumeBatchSize', 'hdfs.batchSize',
  'batch-size'] as const

function batchKey(props: Props): { line: number; key: string } {
  const prop = BATCH_KEYS.map((key) => props.raw(key)).find((raw) => raw !== undefined)
  return { line: prop?.line ?? props.conf.line, key: prop?.key ?? props.fullKey('batchSize') }
}

function checkBatch(kind: 'source' | 'sink', name: string, batchSize: number, channel: Channel)
  : string | null {
  if (batchSize <= channel.transactionCapacity) return null
  return `Incompatible ${kind} and channel settings defined. ${kind}'s batch size is greater ` +
    `than the channels transaction capacity. ${kind === 'source' ? 'Source' : 'Sink'}: ` +
    `${name}, batch size = ${batchSize}, channel ${channel.name}, transaction capacity = ` +
    `${channel.transactionCapacity}`
}

function loadSources(pruner: Pruner, channels: Map<string, Channel>, context: BuildContext)
  : Map<string, AnySource> {
  const sources = new Map<string, AnySource>()
  for (const component of pruner.listed('sources', 'source')) {
    const props = pruner.props(component)
    const at = { line: props.raw('channels')?.line ?? component.line,
      key: props.raw('channels')?.key ?? props.fullKey('channels') }
    const wanted = splitNames(props.string('channels', ''))
    const kept = wanted.filter((name) => channels.has(name))
    for (const name of wanted.filter((n) => !channels.has(n))) {
      pruner.report({ code: 'CONFIG_ERROR', kind: 'source', component: component.name,
        file: pruner.conf.file, ...at, message: `channel ${name} is not a valid channel; ` +
          `source ${component.name} keeps ${kept.join(' ') || 'none'}` })
    }
    if (kept.length === 0) {
      pruner.drop('source', component.name, 'CONFIG_ERROR', at, wanted.length === 0
        ? 'it has no channels' : 'none of its channels is valid')
      continue
    }
    try {
      const source = buildSource(props, kept.map((name) => channels.get(name)!), context)
      pruner.reportUnused(props, 'source')
      const misfit = kept.map((name) => checkBatch('source', component.name, source.batchSize,
        channels.get(name)!)).find((why) => why !== null)
      if (misfit != null) {
        pruner.drop('source', component.name, 'CONFIG_ERROR', batchKey(props), misfit)
        continue
      }
      sources.set(component.name, source)
    } catch (error) {
      pruner.dropFailed('source', component.name, error)
    }
  }
  return sources
}

function loadSinks(pruner: Pruner, channels: Map<string, Channel>, context: BuildContext)
  : Map<string, Sink> {
  const sinks = new Map<string, Sink>()
  for (const component of pruner.listed('sinks', 'sink')) {
    const props = pruner.props(component)
    const name = props.string('channel', '')
    const channel = channels.get(name)
    const at = { line: props.raw('channel')?.line ?? component.line,
      key: props.raw('channel')?.key ?? props.fullKey('channel') }
    if (channel === undefined) {
      pruner.drop('sink', component.name, 'CONFIG_ERROR', at, name === ''
        ? 'it has no channel' : `its channel ${name} is not a valid channel`)
      continue
    }
    try {
      const sink = buildSink(props, channel, context)
      pruner.reportUnused(props, 'sink')
      const misfit = checkBatch('sink', component.name, sink.batchSize, channel)
      if (misfit !== null) {
        pruner.drop('sink', component.name, 'CONFIG_ERROR', batchKey(props), misfit)
        continue
      }
      sinks.set(component.name, sink)
    } catch (error) {
      pruner.dropFailed('sink', component.name, error)
    }
  }
  return sinks
}

function dropUnconnected(pruner: Pruner, graph: AgentGraph): void {
  const used = new Set<Channel>()
  for (const source of graph.sources.values()) source.processor.channels.forEach((c) => used.add(c))
  for (const sink of graph.sinks.values()) used.add(sink.channel)
  for (const [name, channel] of graph.channels) {
    if (used.has(channel)) continue
    const component = pruner.conf.components.channels.get(name)!
    pruner.drop('channel', name, 'CONFIG_ERROR', { line: component.line,
      key: `${pruner.conf.name}.channels.${name}` }, 'it has no components connected')
    graph.channels.delete(name)
  }
}

export function validateAgent(conf: AgentConf, options: { strict: boolean },
  context: BuildContext): AgentGraph {
  const pruner = new Pruner(conf, options.strict, context)
  for (const problem of conf.problems) pruner.report(problem)
  if (splitNames(conf.lists.get('channels')?.value ?? '').length === 0) {
    pruner.refuse(`${conf.name}.channels lists no channel`, pruner.listKey('channels'))
  }
  const channels = loadChannels(pruner, context)
  if (channels.size === 0) pruner.refuse('no valid channel is left', pruner.listKey('channels'))
  const sources = loadSources(pruner, channels, context)
  const sinks = loadSinks(pruner, channels, context)
  const groups = buildGroups(pruner, sinks)
  const graph: AgentGraph = { agent: conf.name, file: conf.file, channels, sources, sinks,
    groups, problems: pruner.problems }
  dropUnconnected(pruner, graph)
  if (sources.size === 0 && sinks.size === 0) {
    pruner.refuse('no valid source and no valid sink is left', pruner.listKey('sources'))
  }
  return graph
}
