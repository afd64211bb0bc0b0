/**
 * The kafkajs-shaped admin client over the Log and the group coordinator: topics (create with
 * Kafka's config names, delete, list, metadata, offsets), partitions, and groups (describe, list,
 * delete, and moving a stopped group's offsets). Return shapes are kafkajs 2.2.4's.
 *
 * Differences, on purpose: a one-node log has one replica, so replicationFactor must be −1 or 1;
 * `resetOffsets` commits the concrete earliest/latest offset of each partition at call time
 * (kafkajs commits the sentinels −2/−1, resolved later by the next consumer).
 */
import { invalidConfig, resolveTopicConfig, validateTopicName } from '../engine/topic-config.js'
import type { TopicConfig } from '../engine/types.js'
import { OFFSETS_TOPIC } from '../groups/offset-store.js'
import {
  KafkaJSDeleteGroupsError, KafkaJSError, KafkaJSNonRetriableError, KafkaJSProtocolError,
  kafkaErrors, toKafkaJSError,
} from './errors.js'
import { ADMIN_EVENTS, Instrumentation, type InstrumentationEvent } from './instrumentation.js'
import type { Logger } from './logger.js'
import type { Runtime } from './runtime.js'

export interface ITopicConfig {
  topic: string
  numPartitions?: number
  replicationFactor?: number
  replicaAssignment?: object[]
  configEntries?: { name: string; value: string }[]
}

export interface PartitionMetadata {
  partitionErrorCode: number
  partitionId: number
  leader: number
  replicas: number[]
  isr: number[]
  offlineReplicas?: number[]
}

/** Kafka topic config names sluice understands, and the TopicConfig field each sets. */
const CONFIG_NAMES: Record<string, keyof TopicConfig> = {
  'retention.ms': 'retentionMs',
  'retention.bytes': 'retentionBytes',
  'segment.bytes': 'segmentBytes',
  'segment.ms': 'segmentMs',
  'max.message.bytes': 'maxMessageBytes',
  'index.interval.bytes': 'indexIntervalBytes',
  'compression.type': 'compression',
  'sluice.durability': 'durability',
}
const INVALID_REPLICATION_FACTOR = 38
const UNKNOWN_TOPIC_OR_PARTITION = 3
const TOPIC_ALREADY_EXISTS = 36

export class SluiceAdmin {
  readonly events = ADMIN_EVENTS
  private readonly instrumentation: Instrumentation<typeof ADMIN_EVENTS>
  private runtime: Runtime | null = null

  constructor(private readonly openRuntime: () => Promise<Runtime>, private readonly log: Logger) {
    this.instrumentation = new Instrumentation(ADMIN_EVENTS, log)
  }

  async connect(): Promise<void> {
    this.runtime = await kafkaErrors(() => this.openRuntime())
    this.instrumentation.emit(ADMIN_EVENTS.CONNECT, null)
  }

  async disconnect(): Promise<void> {
    if (this.runtime === null) return
    this.runtime = null
    this.instrumentation.emit(ADMIN_EVENTS.DISCONNECT, null)
  }

  on(eventName: string, listener: (event: InstrumentationEvent<any>) => unknown): () => void {
    return this.instrumentation.on(eventName, listener)
  }

  logger(): Logger {
    return this.log
  }

  // ---- topics ----------------------------------------------------------------------------

  async listTopics(): Promise<string[]> {
    return kafkaErrors(() => this.rt().log.listTopics())
  }

  async createTopics(options: { validateOnly?: boolean; waitForLeaders?: boolean;
    timeout?: number; topics: ITopicConfig[] }): Promise<boolean> {
    const topics = options?.topics
    if (!Array.isArray(topics)) {
      throw new KafkaJSNonRetriableError(`Invalid topics array ${String(topics)}`)
    }
    if (topics.some((t) => typeof t?.topic !== 'string')) {
      throw new KafkaJSNonRetriableError(
        'Invalid topics array, the topic names have to be a valid string')
    }
    if (new Set(topics.map((t) => t.topic)).size < topics.length) {
      throw new KafkaJSNonRetriableError(
        'Invalid topics array, it cannot have multiple entries for the same topic')
    }
    const runtime = this.rt()
    const configs = topics.map((t) => [t.topic, toTopicConfig(t)] as const)
    if (options.validateOnly) return true
    let created = true
    for (const [name, config] of configs) {
      try {
        await runtime.log.createTopic(name, config)
        runtime.forgetTopic(name)
      } catch (error) {
        const kafkaError = toKafkaJSError(error)
        const exists = kafkaError instanceof KafkaJSProtocolError
          && kafkaError.code === TOPIC_ALREADY_EXISTS
        if (exists) {
          created = false
          continue
        }
        throw kafkaError
      }
    }
    return created
  }

  async deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void> {
    const topics = options?.topics
    if (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string')) {
      throw new KafkaJSNonRetriableError('Invalid topics array, the names must be a valid string')
    }
    const runtime = this.rt()
    for (const topic of topics) {
      await kafkaErrors(() => runtime.log.deleteTopic(topic))
      runtime.forgetTopic(topic)
    }
  }

  async createPartitions(options: { validateOnly?: boolean; timeout?: number;
    topicPartitions: { topic: string; count: number }[] }): Promise<boolean> {
    const entries = options?.topicPartitions
    if (!Array.isArray(entries)) {
      throw new KafkaJSNonRetriableError(`Invalid topic partitions array ${String(entries)}`)
    }
    if (entries.length === 0) throw new KafkaJSNonRetriableError('Empty topic partitions array')
    if (entries.some((e) => typeof e?.topic !== 'string')) {
      throw new KafkaJSNonRetriableError(
        'Invalid topic partitions array, the topic names have to be a valid string')
    }
    const runtime = this.rt()
    for (const { topic, count } of entries) {
      if (options.validateOnly) await kafkaErrors(() => runtime.log.describeTopic(topic))
      else await kafkaErrors(() => runtime.log.createPartitions(topic, count))
      runtime.forgetTopic(topic)
    }
    return true
  }

  async fetchTopicMetadata(options: { topics: string[] } = { topics: [] })
    : Promise<{ topics: { name: string; partitions: PartitionMetadata[] }[] }> {
    const runtime = this.rt()
    const wanted = options?.topics ?? []
    for (const topic of wanted) {
      if (!topic || typeof topic !== 'string') {
        throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`)
      }
    }
    const names = wanted.length > 0 ? wanted : await runtime.log.listTopics()
    const topics = []
    for (const name of names) {
      const description = await kafkaErrors(() => runtime.log.describeTopic(name))
      topics.push({ name, partitions: description.partitions.map((p) => ({
        partitionErrorCode: 0, partitionId: p.partition, leader: 0, replicas: [0], isr: [0],
        offlineReplicas: [],
      })) })
    }
    return { topics }
  }

  async fetchTopicOffsets(topic: string)
    : Promise<{ partition: number; offset: string; high: string; low: string }[]> {
    if (!topic || typeof topic !== 'string') {
      throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`)
    }
    const description = await kafkaErrors(() => this.rt().log.describeTopic(topic))
    return description.partitions.map((p) => ({
      partition: p.partition, offset: String(p.highWatermark),
      high: String(p.highWatermark), low: String(p.logStartOffset),
    }))
  }

  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number)
    : Promise<{ partition: number; offset: string }[]> {
    const offsets = await this.fetchTopicOffsets(topic)
    const log = this.rt().log
    return Promise.all(offsets.map(async ({ partition, high }) => {
      const found = timestamp === undefined ? null
        : await kafkaErrors(() => log.timeLookup(topic, partition, timestamp))
      return { partition, offset: found === null ? high : String(found) }
    }))
  }

  // ---- groups ----------------------------------------------------------------------------

  async fetchOffsets(options: { groupId: string; topics?: string[]; resolveOffsets?: boolean })
    : Promise<{ topic: string; partitions: { partition: number; offset: string;
      metadata: string | null }[] }[]> {
    const { groupId, topics = [], resolveOffsets = false } = options ?? {}
    if (!groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${String(groupId)}`)
    if (!Array.isArray(topics)) {
      throw new KafkaJSNonRetriableError('Expected topics array to be set')
    }
    const runtime = this.rt()
    const request = topics.length === 0 ? null : await Promise.all(topics.map(async (topic) => {
      const { partitions } = await kafkaErrors(() => runtime.log.describeTopic(topic))
      return { topic, partitions: partitions.map((p) => p.partition) }
    }))
    const fetched = runtime.coordinator.fetchOffsets({ groupId, topics: request })
    type Entry = { partition: number; offset: string; metadata: string | null }
    const byTopic = new Map<string, Entry[]>()
    for (const o of fetched) {
      const list = byTopic.get(o.topic) ?? []
      list.push({ partition: o.partition, offset: String(o.offset), metadata: o.metadata || null })
      byTopic.set(o.topic, list)
    }
    const result = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }))
    if (!resolveOffsets) return result
    for (const entry of result) {
      const bounds = await this.fetchTopicOffsets(entry.topic)
      for (const p of entry.partitions) {
        const bound = bounds.find((b) => b.partition === p.partition)!
        if (p.offset === '-1') p.offset = bound.high
        if (p.offset === '-2') p.offset = bound.low
      }
      await this.setOffsets({ groupId, topic: entry.topic, partitions: entry.partitions })
    }
    return result
  }

  async setOffsets(options: { groupId: string; topic: string;
    partitions: { partition: number; offset: string }[] }): Promise<void> {
    const { groupId, topic, partitions } = options ?? {}
    if (!groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${String(groupId)}`)
    if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`)
    if (!Array.isArray(partitions) || partitions.length === 0) {
      throw new KafkaJSNonRetriableError('Invalid partitions')
    }
    const runtime = this.rt()
    const metadata = await runtime.topic(topic, false)
    const [group] = runtime.coordinator.describeGroups([groupId])
    if (group!.members.length > 0) {
      throw new KafkaJSNonRetriableError('The consumer group must have no running instances, ' +
        `current state: ${group!.state}`)
    }
    const offsets = partitions.map(({ partition, offset }) => {
      if (!Number.isInteger(partition) || partition < 0 || partition >= metadata.partitions) {
        throw new KafkaJSProtocolError(UNKNOWN_TOPIC_OR_PARTITION,
          `topic "${topic}" has no partition ${String(partition)}`)
      }
      const value = Number(offset)
      if (!Number.isSafeInteger(value)) {
        throw new KafkaJSNonRetriableError(`Invalid offset ${String(offset)}`)
      }
      return { topic, partition, offset: value, metadata: null }
    })
    const outcomes = await kafkaErrors(() => runtime.coordinator.commitOffsets({
      groupId, memberId: '', generationId: -1, offsets }))
    const failed = outcomes.find((o) => o.errorCode !== 0)
    if (failed !== undefined) throw new KafkaJSProtocolError(failed.errorCode)
  }

  async resetOffsets(options: { groupId: string; topic: string; earliest: boolean })
    : Promise<void> {
    const { groupId, topic, earliest = false } = options ?? {}
    if (!groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${String(groupId)}`)
    if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`)
    const bounds = await this.fetchTopicOffsets(topic)
    await this.setOffsets({ groupId, topic, partitions: bounds.map((b) => ({
      partition: b.partition, offset: earliest ? b.low : b.high })) })
  }

  async describeGroups(groupIds: string[]) {
    if (!Array.isArray(groupIds)) {
      throw new KafkaJSNonRetriableError(`Invalid groupIds array ${String(groupIds)}`)
    }
    const groups = this.rt().coordinator.describeGroups(groupIds).map((g) => ({
      errorCode: 0, groupId: g.groupId, protocol: g.protocol, protocolType: g.protocolType,
      state: g.state,
      members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId,
        clientHost: m.clientHost, memberMetadata: m.metadata, memberAssignment: m.assignment })),
    }))
    return { groups }
  }

  async listGroups(): Promise<{ groups: { groupId: string; protocolType: string }[] }> {
    const groups = this.rt().coordinator.listGroups()
    return { groups: groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })) }
  }

  async deleteGroups(groupIds: string[])
    : Promise<{ groupId: string; errorCode: number; error?: KafkaJSProtocolError }[]> {
    if (!Array.isArray(groupIds)) {
      throw new KafkaJSNonRetriableError(`Invalid groupIds array ${String(groupIds)}`)
    }
    if (groupIds.some((g) => typeof g !== 'string')) {
      throw new KafkaJSNonRetriableError(`Invalid groupId name: ${JSON.stringify(groupIds)}`)
    }
    const outcomes = await kafkaErrors(() => this.rt().coordinator.deleteGroups(groupIds))
    const errors = outcomes.filter((o) => o.errorCode !== 0).map((o) => ({
      groupId: o.groupId, errorCode: o.errorCode as number,
      error: new KafkaJSProtocolError(o.errorCode),
    }))
    if (errors.length > 0) throw new KafkaJSDeleteGroupsError('Error in DeleteGroups', errors)
    return outcomes.map((o) => ({ groupId: o.groupId, errorCode: 0 }))
  }

  private rt(): Runtime {
    if (this.runtime === null) {
      throw new KafkaJSError('The admin client is not connected; call connect() first',
        { retriable: false })
    }
    return this.runtime
  }
}

/** kafkajs's ITopicConfig → the Log's TopicConfig, refusing what a one-node log cannot honour. */
function toTopicConfig(topic: ITopicConfig): TopicConfig {
  const replication = topic.replicationFactor ?? -1
  if (replication !== -1 && replication !== 1) {
    throw new KafkaJSProtocolError(INVALID_REPLICATION_FACTOR,
      `replicationFactor ${replication}: a sluice log keeps one replica (use -1 or 1)`)
  }
  if (topic.topic === OFFSETS_TOPIC) {
    throw new KafkaJSProtocolError(17, `${OFFSETS_TOPIC} is internal`)
  }
  const config: Record<string, unknown> = { partitions: topic.numPartitions ?? -1 }
  if (config.partitions === -1) config.partitions = 1
  for (const entry of topic.configEntries ?? []) {
    if (typeof entry?.name !== 'string' || typeof entry.value !== 'string') {
      throw new KafkaJSNonRetriableError(`Invalid configEntries for topic "${topic.topic}"`)
    }
    const field = CONFIG_NAMES[entry.name]
    if (field === undefined) {
      throw toKafkaJSError(invalidConfig(`unknown topic config "${entry.name}"; sluice knows ` +
        Object.keys(CONFIG_NAMES).join(', ')))
    }
    config[field] = field === 'compression' || field === 'durability'
      ? compressionAlias(entry.value) : Number(entry.value)
  }
  try {
    validateTopicName(topic.topic)
    resolveTopicConfig(config as unknown as TopicConfig)
  } catch (error) {
    throw toKafkaJSError(error)
  }
  return config as unknown as TopicConfig
}

function compressionAlias(value: string): string {
  return value === 'producer' || value === 'uncompressed' ? 'none' : value
}
