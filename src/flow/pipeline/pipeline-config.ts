/**
 * A pipeline file: one Flume properties file holding several agents, plus `pipeline.*` keys
 * for the log they share and the broker that serves it:
 *
 *   pipeline.dataDir = /var/lib/sluice           the log's directory (embedded:${pipeline.dataDir})
 *   pipeline.broker.listen = 127.0.0.1:9092      serve that log over the Kafka protocol (optional)
 *   pipeline.broker.advertisedListener = h:p     the address Metadata tells clients (optional)
 *   pipeline.broker.defaultPartitions = 1        partitions of topics the broker creates
 *   pipeline.broker.defaultDurability = fsync    fsync | os | memory, for topics it creates
 *   pipeline.broker.autoCreateTopics = true
 *   pipeline.agents = tail store                 which agents run, in start order (default: all,
 *                                                in the order the file first names them)
 *
 * With `pipeline.dataDir` set, the pipeline's data stays in that one directory: a file channel
 * that names no `checkpointDir` / `dataDirs` and a TAILDIR source that names no `positionFile`
 * get theirs under `<dataDir>/agents/<agent>/<component>/` instead of Flume's ~/.flume defaults
 * (written keys always win).
 *
 * `pipeline` is therefore a reserved agent name. Every other key is the agents' own, read by the
 * agent loader exactly as `sluice agent` reads it, so an agent's section can be cut out into its
 * own file unchanged. Values are substituted first, so an agent can name the shared log as
 * `kafka.bootstrap.servers = embedded:${pipeline.dataDir}`.
 */
import * as path from 'node:path'
import type { Durability } from '../../engine/types.js'
import { parseHostPort } from '../../host-port.js'
import { FlowConfigError } from '../config/errors.js'
import { groupByAgent, splitNames, type AgentConf } from '../config/grammar.js'
import { parseProperties, type PropertyEntry } from '../config/properties.js'
import { substituteValues } from '../config/substitute.js'

export const PIPELINE_PREFIX = 'pipeline'

export interface PipelineBrokerConfig {
  host: string
  port: number
  advertisedHost?: string
  advertisedPort?: number
  defaultPartitions: number
  defaultDurability?: Durability
  autoCreateTopics: boolean
}

export interface PipelineConfig {
  file: string
  /** Absolute; null when the file names no shared log. */
  dataDir: string | null
  broker: PipelineBrokerConfig | null
  /** Agents to run, in start order (stopped in reverse). */
  agents: string[]
  /** Properties added for components that leave their storage unset (see above). */
  defaults: string[]
}

const KEYS = ['dataDir', 'agents', 'broker.listen', 'broker.advertisedListener',
  'broker.defaultPartitions', 'broker.defaultDurability', 'broker.autoCreateTopics'] as const
type PipelineKey = (typeof KEYS)[number]

export function readPipelineConfig(text: string, file: string,
  env: Record<string, string | undefined> = process.env): PipelineConfig {
  const raw = parseProperties(text, file)
  const entries = substituteValues(raw, { env, filters: new Map() })
  const own = new Map<PipelineKey, PropertyEntry>()
  for (const entry of entries.values()) {
    const key = entry.key.trim()
    if (!key.startsWith(`${PIPELINE_PREFIX}.`)) continue
    const name = key.slice(PIPELINE_PREFIX.length + 1)
    if (!(KEYS as readonly string[]).includes(name)) {
      throw new FlowConfigError(file, entry.line, key,
        `unknown pipeline key; known: ${KEYS.map((k) => `${PIPELINE_PREFIX}.${k}`).join(', ')}`)
    }
    own.set(name as PipelineKey, { ...entry, value: entry.value.trim() })
  }
  const fail = (key: PipelineKey, message: string): never => {
    const entry = own.get(key)
    throw new FlowConfigError(file, entry?.line ?? 1, `${PIPELINE_PREFIX}.${key}`, message)
  }

  const grouped = groupByAgent(entries, file).agents
  const inFile = [...grouped.keys()].filter((name) => name !== PIPELINE_PREFIX)
  const listed = own.get('agents')
  const agents = listed === undefined ? inFile : splitNames(listed.value)
  for (const name of agents) {
    if (!inFile.includes(name)) {
      fail('agents', `no agent named ${name} in this file (agents found: ${
        inFile.join(', ') || 'none'})`)
    }
  }
  if (new Set(agents).size !== agents.length) fail('agents', 'an agent is listed twice')
  if (agents.length === 0) {
    fail('agents', 'the file names no agent (an agent is a key prefix, as in a1.sources = r1)')
  }

  const dataDirEntry = own.get('dataDir')
  const dataDir = dataDirEntry === undefined ? null : path.resolve(dataDirEntry.value)
  let broker: PipelineBrokerConfig | null = null
  const listen = own.get('broker.listen')
  if (listen !== undefined) {
    if (dataDir === null) {
      fail('broker.listen', `a broker serves the pipeline's log: set ${PIPELINE_PREFIX}.dataDir`)
    }
    const { host, port } = parseHostPort(listen.value) ?? fail('broker.listen',
      `must be host:port with a port in 0..65535, got ${listen.value}`)
    broker = { host, port, autoCreateTopics: true, defaultPartitions: 1 }
    const advertised = own.get('broker.advertisedListener')
    if (advertised !== undefined) {
      const at = parseHostPort(advertised.value) ?? fail('broker.advertisedListener',
        `must be host:port, got ${advertised.value}`)
      broker.advertisedHost = at.host
      broker.advertisedPort = at.port
    }
    const partitions = own.get('broker.defaultPartitions')
    if (partitions !== undefined) {
      const count = Number(partitions.value)
      if (!Number.isInteger(count) || count < 1 || count > 10_000) {
        fail('broker.defaultPartitions', `must be an integer in 1..10000, got ${partitions.value}`)
      }
      broker.defaultPartitions = count
    }
    const durability = own.get('broker.defaultDurability')
    if (durability !== undefined) {
      if (!['fsync', 'os', 'memory'].includes(durability.value)) {
        fail('broker.defaultDurability', `must be fsync, os or memory, got ${durability.value}`)
      }
      broker.defaultDurability = durability.value as Durability
    }
    const autoCreate = own.get('broker.autoCreateTopics')
    if (autoCreate !== undefined) {
      if (!/^(true|false)$/i.test(autoCreate.value)) {
        fail('broker.autoCreateTopics', `must be true or false, got ${autoCreate.value}`)
      }
      broker.autoCreateTopics = autoCreate.value.toLowerCase() === 'true'
    }
  } else {
    for (const key of KEYS) {
      if (key.startsWith('broker.') && own.has(key)) {
        fail(key, `has no effect without ${PIPELINE_PREFIX}.broker.listen`)
      }
    }
  }
  const defaults = dataDir === null ? [] : agents.flatMap((name) =>
    storageDefaults(grouped.get(name)!, dataDir))
  return { file, dataDir, broker, agents, defaults }
}

const FILE_CHANNEL = /^(file|org\.apache\.flume\.channel\.file\.filechannel)$/i
const TAILDIR = /^(taildir|org\.apache\.flume\.source\.taildir\.taildirsource)$/i

function storageDefaults(agent: AgentConf, dataDir: string): string[] {
  const lines: string[] = []
  const home = (kind: string, name: string, ...rest: string[]) =>
    path.join(dataDir, 'agents', agent.name, `${kind}-${name}`, ...rest)
  for (const channel of agent.components.channels.values()) {
    if (!FILE_CHANNEL.test(channel.props.get('type')?.value ?? '')) continue
    const key = `${agent.name}.channels.${channel.name}`
    if (!channel.props.has('checkpointDir')) {
      lines.push(`${key}.checkpointDir = ${home('channel', channel.name, 'checkpoint')}`)
    }
    if (!channel.props.has('dataDirs')) {
      lines.push(`${key}.dataDirs = ${home('channel', channel.name, 'data')}`)
    }
  }
  for (const source of agent.components.sources.values()) {
    if (!TAILDIR.test(source.props.get('type')?.value ?? '')) continue
    if (!source.props.has('positionFile')) {
      lines.push(`${agent.name}.sources.${source.name}.positionFile = ` +
        home('source', source.name, 'taildir_position.json'))
    }
  }
  return lines
}
