/**
 * One consumer's membership in its group, over the protocol-neutral coordinator: the JoinGroup /
 * SyncGroup dance kafkajs does (MEMBER_ID_REQUIRED, rejoin on REBALANCE_IN_PROGRESS, reset on
 * UNKNOWN_MEMBER_ID), the leader's assignment with ConsumerProtocol bytes, heartbeats and
 * offset commits stamped with this member's generation.
 *
 * Embedded members also hear rebalances pushed by the coordinator (`onRebalance`), so they rejoin
 * at once rather than at their next heartbeat; `rebalanceNeeded` is the flag both paths set.
 */
import { ASSIGNORS, type Assignor } from '../groups/assignors.js'
import {
  CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscription, encodeAssignment,
  encodeSubscription,
} from '../groups/consumer-protocol.js'
import type { GroupCoordinator } from '../groups/coordinator.js'
import { GroupErrorCode, type CommitOffset, type JoinGroupResponse } from '../groups/types.js'
import { KafkaJSNonRetriableError, KafkaJSProtocolError } from './errors.js'
import { CONSUMER_EVENTS, type Instrumentation } from './instrumentation.js'
import type { Runtime } from './runtime.js'
import { createLogger, logLevel } from './logger.js'
import type { AssignorName, PartitionAssignerFactory } from './types.js'

/** Join attempts before giving up: each retry follows a coordinator answer, never a timer. */
const MAX_JOIN_ATTEMPTS = 50

export interface SessionConfig {
  groupId: string
  clientId: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  assignors: (AssignorName | PartitionAssignerFactory)[]
}

export class GroupSession {
  memberId = ''
  generationId = -1
  leaderId = ''
  protocolName = ''
  rebalanceNeeded = true
  private readonly assignors: Assignor[]
  private readonly stopListening: () => void

  constructor(
    private readonly runtime: Runtime,
    private readonly config: SessionConfig,
    private readonly instrumentation: Instrumentation<typeof CONSUMER_EVENTS>,
    onRebalance: () => void,
  ) {
    this.assignors = config.assignors.map((named) => {
      const name = assignorName(named, config.groupId, SILENT_LOGGER)
      const assignor = ASSIGNORS[name]
      if (assignor === undefined) {
        throw new KafkaJSNonRetriableError(`Unknown partition assigner "${name}"; sluice has ` +
          `${Object.keys(ASSIGNORS).join(', ')}`)
      }
      return assignor
    })
    this.stopListening = runtime.coordinator.onRebalance(config.groupId, () => {
      this.rebalanceNeeded = true
      onRebalance()
    })
  }

  private get coordinator(): GroupCoordinator {
    return this.runtime.coordinator
  }

  /** Joins (or rejoins) and returns this member's partitions of the subscribed topics. */
  async joinAndSync(topics: string[]): Promise<Map<string, number[]>> {
    const startedMs = Date.now()
    for (let attempt = 0; attempt < MAX_JOIN_ATTEMPTS; attempt++) {
      const joined = await this.join(topics)
      if (joined === null) continue
      const assignments = joined.leaderId === joined.memberId ? await this.assign(joined) : []
      this.rebalanceNeeded = false
      const synced = await this.coordinator.sync({
        groupId: this.config.groupId, memberId: this.memberId,
        generationId: this.generationId, assignments,
      })
      if (this.retryable(synced.errorCode)) continue
      if (synced.errorCode !== 0) throw new KafkaJSProtocolError(synced.errorCode)
      const assigned = this.ownPartitions(synced.assignment, topics)
      this.instrumentation.emit(CONSUMER_EVENTS.GROUP_JOIN, {
        duration: Date.now() - startedMs, groupId: this.config.groupId,
        isLeader: this.leaderId === this.memberId, leaderId: this.leaderId,
        groupProtocol: this.protocolName, memberId: this.memberId,
        memberAssignment: Object.fromEntries(assigned),
        // Not in kafkajs's payload; lets callers tie deliveries to a generation.
        generationId: this.generationId,
      })
      return assigned
    }
    throw new KafkaJSNonRetriableError(`could not join group "${this.config.groupId}" after ` +
      `${MAX_JOIN_ATTEMPTS} attempts: it keeps rebalancing`)
  }

  async heartbeat(): Promise<void> {
    const errorCode = this.coordinator.heartbeat({
      groupId: this.config.groupId, memberId: this.memberId, generationId: this.generationId,
    })
    if (errorCode === 0) {
      this.instrumentation.emit(CONSUMER_EVENTS.HEARTBEAT, {
        groupId: this.config.groupId, memberId: this.memberId,
        groupGenerationId: this.generationId,
      })
      return
    }
    if (!this.retryable(errorCode)) throw new KafkaJSProtocolError(errorCode)
  }

  /** Commits with this member's generation; rebalancing errors throw, as in kafkajs. */
  async commit(offsets: CommitOffset[]): Promise<void> {
    if (offsets.length === 0) return
    const outcomes = await this.coordinator.commitOffsets({
      groupId: this.config.groupId, memberId: this.memberId, generationId: this.generationId,
      offsets,
    })
    const failed = outcomes.find((o) => o.errorCode !== 0)
    if (failed !== undefined) {
      this.retryable(failed.errorCode)
      throw new KafkaJSProtocolError(failed.errorCode,
        `commit to ${failed.topic}-${failed.partition} refused`)
    }
    const byTopic = new Map<string, { partition: number; offset: string }[]>()
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? []
      list.push({ partition: o.partition, offset: String(o.offset) })
      byTopic.set(o.topic, list)
    }
    this.instrumentation.emit(CONSUMER_EVENTS.COMMIT_OFFSETS, {
      groupId: this.config.groupId, memberId: this.memberId, groupGenerationId: this.generationId,
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    })
  }

  committed(topic: string, partitions: number[]): Map<number, number> {
    const fetched = this.coordinator.fetchOffsets({
      groupId: this.config.groupId, topics: [{ topic, partitions }],
    })
    return new Map(fetched.map((o) => [o.partition, o.offset]))
  }

  leave(): void {
    if (this.memberId !== '') {
      this.coordinator.leave({ groupId: this.config.groupId, memberIds: [this.memberId] })
    }
    this.memberId = ''
    this.generationId = -1
    this.rebalanceNeeded = true
  }

  close(): void {
    this.leave()
    this.stopListening()
  }

  /** One JoinGroup; null means "ask again" (new member id, or the group moved on). */
  private async join(topics: string[]): Promise<JoinGroupResponse | null> {
    const metadata = encodeSubscription({ version: 0, topics, userData: Buffer.alloc(0) })
    const joined = await this.coordinator.join({
      groupId: this.config.groupId, memberId: this.memberId, clientId: this.config.clientId,
      clientHost: '/127.0.0.1', sessionTimeoutMs: this.config.sessionTimeoutMs,
      rebalanceTimeoutMs: this.config.rebalanceTimeoutMs, protocolType: CONSUMER_PROTOCOL_TYPE,
      protocols: this.assignors.map((a) => ({ name: a.name, metadata })),
      requireKnownMemberId: true,
    })
    if (joined.errorCode === GroupErrorCode.MEMBER_ID_REQUIRED) {
      this.memberId = joined.memberId
      return null
    }
    if (this.retryable(joined.errorCode)) return null
    if (joined.errorCode !== 0) throw new KafkaJSProtocolError(joined.errorCode)
    this.memberId = joined.memberId
    this.generationId = joined.generationId
    this.leaderId = joined.leaderId
    this.protocolName = joined.protocolName
    return joined
  }

  /** The leader's job: decode every member's subscription, run the chosen assignor. */
  private async assign(joined: JoinGroupResponse)
    : Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.assignors.find((a) => a.name === joined.protocolName)
    if (assignor === undefined) {
      throw new KafkaJSNonRetriableError(`Unsupported partition assigner ` +
        `"${joined.protocolName}", the assigner wasn't found in the assigners list`)
    }
    const members = joined.members.map((m) => ({
      memberId: m.memberId, topics: decodeSubscription(m.metadata).topics,
    }))
    const counts = new Map<string, number>()
    for (const topic of new Set(members.flatMap((m) => m.topics))) {
      const metadata = await this.runtime.topic(topic, false).catch(() => null)
      if (metadata !== null) counts.set(topic, metadata.partitions)
    }
    const result = assignor.assign(members, counts)
    return [...result].map(([memberId, topics]) => ({
      memberId,
      assignment: encodeAssignment({
        version: assignor.version, assignment: Object.fromEntries(topics),
        userData: Buffer.alloc(0),
      }),
    }))
  }

  private ownPartitions(bytes: Buffer, subscribed: string[]): Map<string, number[]> {
    const decoded = decodeAssignment(bytes)?.assignment ?? {}
    const assigned = new Map<string, number[]>()
    const unsubscribed: string[] = []
    for (const [topic, partitions] of Object.entries(decoded)) {
      if (subscribed.includes(topic)) assigned.set(topic, [...partitions].sort((a, b) => a - b))
      else unsubscribed.push(topic)
    }
    if (unsubscribed.length > 0) {
      this.instrumentation.emit(CONSUMER_EVENTS.RECEIVED_UNSUBSCRIBED_TOPICS, {
        groupId: this.config.groupId, generationId: this.generationId, memberId: this.memberId,
        assignedTopics: Object.keys(decoded), topicsSubscribed: subscribed,
        topicsNotSubscribed: unsubscribed,
      })
    }
    return assigned
  }

  /** Rebalance-class answers: mark the session for a rejoin and say so. */
  private retryable(errorCode: number): boolean {
    if (errorCode === GroupErrorCode.UNKNOWN_MEMBER_ID) {
      this.memberId = ''
      this.rebalanceNeeded = true
      return true
    }
    if (errorCode === GroupErrorCode.REBALANCE_IN_PROGRESS
      || errorCode === GroupErrorCode.ILLEGAL_GENERATION) {
      this.rebalanceNeeded = true
      return true
    }
    return false
  }
}

/** What a kafkajs assigner factory is built with; sluice never calls the assigner it returns. */
const SILENT_LOGGER = createLogger({ level: logLevel.NOTHING })

/** The protocol name of a configured assigner: a name, or a kafkajs factory's `name`. */
function assignorName(assigner: AssignorName | PartitionAssignerFactory, groupId: string,
  logger: unknown): string {
  if (typeof assigner === 'string') return assigner
  if (typeof assigner !== 'function') {
    throw new KafkaJSNonRetriableError('partitionAssigners entries must be assigner names or ' +
      `kafkajs assigner factories, got ${typeof assigner}`)
  }
  // kafkajs's factories only keep the cluster for assign(); sluice assigns with its own code.
  const built = assigner({ cluster: null, groupId, logger })
  if (typeof built?.name !== 'string') {
    throw new KafkaJSNonRetriableError('a partition assigner factory must return { name }')
  }
  return built.name
}
