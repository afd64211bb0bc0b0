/**
 * A reload's candidate: the new file read, substituted and grouped exactly as the loader does
 * (config/load.ts), kept as its AgentConf (the per-component properties the diff compares) and
 * validated into a built, never-started AgentGraph. Builders have no side effects, so a refused
 * candidate is simply dropped.
 */
import { describeProblem } from '../config/errors.js'
import { splitNames, type AgentConf, type ListName } from '../config/grammar.js'
import { readAgentConf } from '../config/load.js'
import { validateAgent, type AgentGraph } from '../config/validate.js'
import type { FlowLogger } from '../event.js'

export interface CandidateOptions {
  agentName: string
  strict: boolean
  env: Record<string, string | undefined>
  logger: FlowLogger
}

/** A configuration and the graph it validated to (running or not). */
export interface Configured {
  conf: AgentConf
  graph: AgentGraph
}

/** Reads and validates; throws FlowConfigError when the agent would not start at all. */
export function loadCandidate(text: string, file: string, options: CandidateOptions)
  : Configured {
  const conf = readAgentConf(text, file, options)
  const graph = validateAgent(conf, { strict: options.strict }, { logger: options.logger })
  return { conf, graph }
}

const PRUNABLE: [ListName, string][] =
  [['sources', 'source'], ['channels', 'channel'], ['sinks', 'sink'], ['sinkgroups', 'sinkgroup']]

/** Components the file lists that validation pruned away, as `kind name`. */
export function prunedComponents({ conf, graph }: Configured): Set<string> {
  const present: Record<string, Set<string>> = {
    sources: new Set(graph.sources.keys()), channels: new Set(graph.channels.keys()),
    sinks: new Set(graph.sinks.keys()),
    sinkgroups: new Set(graph.groups.filter((g) => !g.implicit).map((g) => g.name)),
  }
  const pruned = new Set<string>()
  for (const [list, kind] of PRUNABLE) {
    for (const name of splitNames(conf.lists.get(list)?.value ?? '')) {
      if (!present[list]!.has(name)) pruned.add(`${kind} ${name}`)
    }
  }
  return pruned
}

/**
 * Why a candidate that validated must still be refused, or [] to apply it. Flume prunes bad
 * components and starts the rest; at start-up that is all it can do, but on a reload it would
 * silently stop a running sink because of a typo. So a reload is refused when its file prunes
 * a component the running configuration did not prune: an edit that breaks a running
 * component, or adds one that cannot be built. Components already pruned when the agent
 * started (and still pruned) do not block later edits; they keep their warnings.
 */
export function refusalsOf(candidate: Configured, running: Configured): string[] {
  const before = prunedComponents(running)
  const newlyPruned = [...prunedComponents(candidate)].filter((id) => !before.has(id))
  if (newlyPruned.length === 0) return []
  const reasons = candidate.graph.problems
    .filter((p) => newlyPruned.some((id) => id === `${p.kind} ${p.component}`))
    .map(describeProblem)
  return reasons.length > 0 ? reasons
    : newlyPruned.map((id) => `${candidate.graph.file}: ${id} would be removed by validation`)
}
