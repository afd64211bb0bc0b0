/**
 * Flume's key grammar (reference §1.2), turning flat properties into one AgentConf per agent:
 *
 *   <agent>.sources|channels|sinks|sinkgroups|configfilters = <names…>
 *   <agent>.<kind>.<component>.<property…> = value
 *
 * The component name runs to the next `.` (so names cannot hold dots); the property keeps the
 * rest (`selector.mapping.CA`, `sink.directory`). Keys and values are trimmed; an empty value is
 * Flume's PROPERTY_VALUE_NULL and a key without an agent prefix AGENT_NAME_MISSING: the property
 * is ignored with a warning, as FlumeConfiguration.addRawProperty does.
 */
import type { ConfigProblem } from './errors.js'
import type { PropertyEntry } from './properties.js'

export interface Prop {
  value: string
  line: number
  /** The full key as written, for messages. */
  key: string
}

export const COMPONENT_LISTS =
  ['sources', 'channels', 'sinks', 'sinkgroups', 'configfilters'] as const
export type ListName = (typeof COMPONENT_LISTS)[number]

export interface ComponentConf {
  list: ListName
  name: string
  props: Map<string, Prop>
  /** First line that mentions the component. */
  line: number
}

export interface AgentConf {
  name: string
  file: string
  lists: Map<ListName, Prop>
  components: Record<ListName, Map<string, ComponentConf>>
  problems: ConfigProblem[]
}

export function splitNames(value: string): string[] {
  return value.split(/\s+/).filter((name) => name.length > 0)
}

function newAgent(name: string, file: string): AgentConf {
  return {
    name, file, lists: new Map(), problems: [],
    components: { sources: new Map(), channels: new Map(), sinks: new Map(),
      sinkgroups: new Map(), configfilters: new Map() },
  }
}

export function groupByAgent(entries: Map<string, PropertyEntry>, file: string)
  : { agents: Map<string, AgentConf>; problems: ConfigProblem[] } {
  const agents = new Map<string, AgentConf>()
  const problems: ConfigProblem[] = []
  for (const entry of entries.values()) {
    const key = entry.key.trim()
    const value = entry.value.trim()
    const dot = key.indexOf('.')
    const base = { file, line: entry.line, key, component: '' }
    if (dot <= 0) {
      problems.push({ ...base, code: 'AGENT_NAME_MISSING', kind: 'property',
        message: 'the key has no agent name before its first dot; ignored' })
      continue
    }
    if (value === '') {
      problems.push({ ...base, code: 'PROPERTY_VALUE_NULL', kind: 'property',
        message: 'the value is empty; ignored' })
      continue
    }
    const agentName = key.slice(0, dot)
    let agent = agents.get(agentName)
    if (agent === undefined) agents.set(agentName, agent = newAgent(agentName, file))
    addProperty(agent, key.slice(dot + 1), { value, line: entry.line, key })
  }
  return { agents, problems }
}

function addProperty(agent: AgentConf, rest: string, prop: Prop): void {
  const list = COMPONENT_LISTS.find((name) => rest === name || rest.startsWith(`${name}.`))
  if (list === undefined) {
    agent.problems.push({ code: 'INVALID_PROPERTY', kind: 'property', component: '',
      file: agent.file, line: prop.line, key: prop.key,
      message: `unknown key: after the agent name a key starts with ${COMPONENT_LISTS.join('|')}` })
    return
  }
  if (rest === list) {
    agent.lists.set(list, prop)
    return
  }
  const inner = rest.slice(list.length + 1)
  const dot = inner.indexOf('.')
  if (dot <= 0 || dot === inner.length - 1) {
    agent.problems.push({ code: 'INVALID_PROPERTY', kind: 'property', component: '',
      file: agent.file, line: prop.line, key: prop.key,
      message: `expected ${list}.<name>.<property>` })
    return
  }
  const name = inner.slice(0, dot)
  const components = agent.components[list]
  let component = components.get(name)
  if (component === undefined) {
    components.set(name, component = { list, name, props: new Map(), line: prop.line })
  }
  component.line = Math.min(component.line, prop.line)
  component.props.set(inner.slice(dot + 1), prop)
}
