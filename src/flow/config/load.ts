/**
 * From a properties file to a validated, built (not started) agent graph: read, substitute,
 * group by agent, pick the agent named by `--name`, prune and build. Also renders a graph for
 * `sluice agent --validate`.
 */
import { readFileSync } from 'node:fs'
import type { FlowLogger } from '../event.js'
import { FlowConfigError } from './errors.js'
import { groupByAgent, type AgentConf } from './grammar.js'
import { parseProperties } from './properties.js'
import { substituteValues } from './substitute.js'
import { validateAgent, type AgentGraph } from './validate.js'

export interface LoadOptions {
  agentName: string
  strict?: boolean
  env?: Record<string, string | undefined>
  logger: FlowLogger
}

/** Filters declared as `<agent>.configfilters.<f>.type = <type>`, for ${f['key']}. */
function configFilters(keys: Iterable<string>, values: Map<string, { value: string }>)
  : Map<string, string> {
  const filters = new Map<string, string>()
  for (const key of keys) {
    const match = /^[^.]+\.configfilters\.([^.]+)\.type$/.exec(key.trim())
    if (match !== null) filters.set(match[1]!, values.get(key)!.value.trim())
  }
  return filters
}

/** The named agent's configuration as written (read, substituted, grouped), not yet validated;
 *  live reload diffs it. Throws FlowConfigError when the file has no such agent. */
export function readAgentConf(text: string, file: string,
  options: Pick<LoadOptions, 'agentName' | 'env'>): AgentConf {
  const raw = parseProperties(text, file)
  const entries = substituteValues(raw, {
    env: options.env ?? process.env, filters: configFilters(raw.keys(), raw),
  })
  const { agents, problems } = groupByAgent(entries, file)
  const conf = agents.get(options.agentName)
  if (conf === undefined) {
    const known = [...agents.keys()].join(', ') || 'none'
    throw new FlowConfigError(file, 1, `${options.agentName}.*`,
      `no agent named ${options.agentName} in this file (agents found: ${known})`)
  }
  conf.problems.unshift(...problems)
  return conf
}

export function loadAgentText(text: string, file: string, options: LoadOptions): AgentGraph {
  return validateAgent(readAgentConf(text, file, options), { strict: options.strict ?? false },
    { logger: options.logger })
}

/** A configuration file's text; an unreadable file is a FlowConfigError naming it and why. */
export function readConfFile(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file'
      : `cannot read it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`
    throw new FlowConfigError(file, 0, '--conf-file', why)
  }
}

/** A human-readable listing of what would run; `--validate` prints it. */
export function describeGraph(graph: AgentGraph): string {
  const lines = [`agent ${graph.agent} (${graph.file})`]
  for (const channel of graph.channels.values()) {
    lines.push(`  channel ${channel.name}: ${channel.type} capacity=${channel.capacity} ` +
      `transactionCapacity=${channel.transactionCapacity}`)
  }
  for (const source of graph.sources.values()) {
    const { selector, interceptors } = source.processor
    const chain = interceptors.length === 0 ? ''
      : ` interceptors=[${interceptors.map((i) => i.type).join(', ')}]`
    lines.push(`  source ${source.name}: ${source.type} → ` +
      `${selector.channels.map((c) => c.name).join(' ')} selector=${selector.type}${chain}`)
  }
  for (const sink of graph.sinks.values()) {
    lines.push(`  sink ${sink.name}: ${sink.type} ← ${sink.channel.name} ` +
      `batchSize=${sink.batchSize}`)
  }
  for (const group of graph.groups) {
    lines.push(`  runner ${group.name}: ${group.processor.type} ` +
      `[${group.processor.sinks.map((s) => s.name).join(', ')}]`)
  }
  lines.push(`  ${graph.problems.length} warning(s)`)
  return `${lines.join('\n')}\n`
}
