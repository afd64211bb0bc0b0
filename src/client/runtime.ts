/**
 * What every client of one `Sluice` shares: the Log, the group coordinator and a cache of topic
 * metadata (partition count, largest batch). Opened lazily on the first `connect()` because
 * kafkajs's constructors are synchronous while `Log.open` is not.
 *
 * One coordinator per Log, whichever Sluice opened it: two Sluice objects over one Log must see
 * the same groups and offsets, so coordinators are kept in a WeakMap keyed by the Log.
 *
 * The metadata cache is refreshed when an admin call on this Sluice changes a topic and when an
 * append reports an unknown topic or partition.
 */
import { Log } from '../engine/log.js'
import { GroupCoordinator } from '../groups/coordinator.js'
import { LogOffsetStore } from '../groups/offset-store.js'
import { KafkaJSNonRetriableError, KafkaJSProtocolError, toKafkaJSError } from './errors.js'
import type { SluiceConfig } from './types.js'

export interface TopicMetadata {
  partitions: number
  maxMessageBytes: number
}

const coordinators = new WeakMap<Log, Promise<GroupCoordinator>>()
const UNKNOWN_TOPIC_OR_PARTITION = 3

export class Runtime {
  private readonly topics = new Map<string, TopicMetadata>()

  private constructor(
    readonly log: Log,
    readonly coordinator: GroupCoordinator,
    private readonly ownsLog: boolean,
    readonly allowAutoTopicCreation: boolean,
  ) {}

  static async open(config: SluiceConfig): Promise<Runtime> {
    let log = config.log
    const ownsLog = log === undefined
    if (log === undefined) {
      if (typeof config.dataDir !== 'string' || config.dataDir.length === 0) {
        throw new KafkaJSNonRetriableError('new Sluice() needs { dataDir } or { log }')
      }
      log = await Log.open({ dataDir: config.dataDir, shards: config.shards })
    }
    let coordinator = coordinators.get(log)
    if (coordinator === undefined) {
      const opened = log
      coordinator = LogOffsetStore.open(opened).then((store) =>
        GroupCoordinator.open({ store, ...config.groups }))
      coordinators.set(log, coordinator)
    }
    return new Runtime(log, await coordinator, ownsLog, config.allowAutoTopicCreation ?? true)
  }

  /** The cached metadata of a topic, if any; lets the produce path stay synchronous. */
  cachedTopic(name: string): TopicMetadata | undefined {
    return this.topics.get(name)
  }

  /**
   * Partition count and batch limit of a topic. An unknown topic is created (one partition) when
   * the client asks for it and this Sluice allows it, as Kafka needs both the client's
   * allowAutoTopicCreation and the broker's auto.create.topics.enable; both default to true.
   */
  async topic(name: string, allowAutoCreate: boolean): Promise<TopicMetadata> {
    const cached = this.topics.get(name)
    if (cached !== undefined) return cached
    try {
      return await this.describe(name)
    } catch (error) {
      const kafkaError = toKafkaJSError(error)
      const unknown = kafkaError instanceof KafkaJSProtocolError
        && kafkaError.code === UNKNOWN_TOPIC_OR_PARTITION
      if (!unknown || !(allowAutoCreate && this.allowAutoTopicCreation)) throw kafkaError
      await this.log.createTopic(name, { partitions: 1 }).catch(() => undefined)
      return this.describe(name).catch((again: unknown) => { throw toKafkaJSError(again) })
    }
  }

  forgetTopic(name: string): void {
    this.topics.delete(name)
  }

  async close(): Promise<void> {
    if (!this.ownsLog) return
    this.coordinator.close()
    coordinators.delete(this.log)
    await this.log.close()
  }

  private async describe(name: string): Promise<TopicMetadata> {
    const description = await this.log.describeTopic(name)
    const metadata = {
      partitions: description.partitions.length,
      maxMessageBytes: description.config.maxMessageBytes,
    }
    this.topics.set(name, metadata)
    return metadata
  }
}
