/**
 * What every request handler shares: the Log, the group coordinator, this node's identity as
 * Metadata advertises it, and the topic auto-creation policy (Kafka's auto.create.topics.enable
 * and num.partitions). Auto-creation of one name is deduplicated, so a burst of Metadata and
 * Produce requests for a new topic creates it once.
 */
import { SluiceError, isSluiceError } from '../errors.js'
import type { Log } from '../engine/log.js'
import type { TopicConfig, TopicDescription } from '../engine/types.js'
import type { GroupCoordinator } from '../groups/coordinator.js'
import { OFFSETS_TOPIC } from '../groups/offset-store.js'
import type { BrokerLogger } from './logger.js'

export interface BrokerIdentity {
  nodeId: number
  /** Host and port clients are told to connect to. */
  host: string
  port: number
  clusterId: string
}

export interface TopicPolicy {
  autoCreateTopics: boolean
  defaultPartitions: number
  /** Settings for topics the broker creates (auto-created, or CreateTopics without configs). */
  topicDefaults: Omit<TopicConfig, 'partitions'>
}

export class BrokerState {
  private readonly creating = new Map<string, Promise<void>>()

  constructor(
    readonly log: Log,
    readonly coordinator: GroupCoordinator,
    readonly identity: BrokerIdentity,
    readonly policy: TopicPolicy,
    readonly logger: BrokerLogger,
  ) {}

  /** Topics a client may see: everything but the coordinator's internal offsets topic. */
  async visibleTopics(): Promise<string[]> {
    return (await this.log.listTopics()).filter((name) => !isInternalTopic(name))
  }

  async describe(name: string): Promise<TopicDescription | null> {
    if (isInternalTopic(name)) return null
    try {
      return await this.log.describeTopic(name)
    } catch (error) {
      if (isSluiceError(error, 'SLUICE_ERR_UNKNOWN_TOPIC_OR_PARTITION')) return null
      throw error
    }
  }

  /**
   * Creates `name` with the default partition count if auto-creation is on and it is missing.
   * Resolves once the topic is readable; another request's creation of the same name counts.
   */
  async autoCreate(name: string): Promise<boolean> {
    if (!this.policy.autoCreateTopics || isInternalTopic(name)) return false
    let pending = this.creating.get(name)
    if (pending === undefined) {
      pending = this.createOnce(name)
      this.creating.set(name, pending)
      void pending.finally(() => this.creating.delete(name)).catch(() => undefined)
    }
    await pending
    return true
  }

  private async createOnce(name: string): Promise<void> {
    if (await this.describe(name) !== null) return
    try {
      await this.log.createTopic(name,
        { ...this.policy.topicDefaults, partitions: this.policy.defaultPartitions })
      this.logger.info('auto-created topic', { topic: name,
        partitions: this.policy.defaultPartitions })
    } catch (error) {
      if (!isSluiceError(error, 'SLUICE_ERR_TOPIC_ALREADY_EXISTS')) throw error
    }
  }
}

export function isInternalTopic(name: string): boolean {
  return name === OFFSETS_TOPIC
}

/** The Kafka error code for an operating error; unknown errors are logged and reported −1. */
export function kafkaCodeOf(error: unknown, logger: BrokerLogger, where: string): number {
  if (error instanceof SluiceError && error.kafkaCode !== null) return error.kafkaCode
  logger.error('request failed', { where, error: String(error) })
  return -1
}
