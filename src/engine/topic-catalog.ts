/**
 * The engine's table of topics: each topic's resolved configuration and the shard that owns
 * each of its partitions. It decides where a new partition goes (the least-loaded shard) and
 * saves every change through the MetadataStore (metadata-store.ts has the file layout) before
 * the Log acts on it, so a restart finds the same topics on the same shards.
 *
 * Invariants: a partition's shard never changes once recorded; the shard count is the one the
 * data directory was created with; `partitionShards.length` equals `config.partitions`.
 */
import { SluiceError } from '../errors.js'
import type { FileSystem } from '../io/file-system.js'
import { MetadataStore, type EngineMetadata, type TopicRecord } from './metadata-store.js'
import { invalidConfig, resolveTopicConfig, validateTopicName } from './topic-config.js'
import type { TopicConfig } from './types.js'

export interface OpenTopicCatalogArgs {
  fs: FileSystem
  dataDir: string
  /** The shard count the caller asked for, or null when it left the choice to the directory. */
  requestedShards: number | null
  /** The shard count a new data directory is created with. */
  defaultShards: number
}

export class TopicCatalog {
  private constructor(
    private readonly store: MetadataStore,
    private readonly metadata: EngineMetadata,
  ) {}

  /** Loads the stored catalog, or creates and saves an empty one in a new data directory. */
  static async open(args: OpenTopicCatalogArgs): Promise<TopicCatalog> {
    const store = await MetadataStore.open(args.fs, args.dataDir)
    const stored = store.load()
    const requested = args.requestedShards
    if (stored !== null && requested !== null && requested !== stored.shardCount) {
      throw invalidConfig(`${args.dataDir} was created with shards=${stored.shardCount}; ` +
        `partitions stay on their shard for life, so shards=${requested} cannot apply`)
    }
    const metadata = stored ?? { version: 1, shardCount: args.defaultShards, topics: {} }
    if (stored === null) store.save(metadata)
    return new TopicCatalog(store, metadata)
  }

  get shardCount(): number {
    return this.metadata.shardCount
  }

  /** Topic names, sorted. */
  names(): string[] {
    return Object.keys(this.metadata.topics).sort()
  }

  entries(): [string, TopicRecord][] {
    return Object.entries(this.metadata.topics)
  }

  /** The topic's record; SLUICE_ERR_UNKNOWN_TOPIC_OR_PARTITION when there is none. */
  get(name: string): TopicRecord {
    const record = typeof name === 'string' ? this.metadata.topics[name] : undefined
    if (record === undefined) {
      throw new SluiceError('SLUICE_ERR_UNKNOWN_TOPIC_OR_PARTITION',
        `unknown topic ${JSON.stringify(name)}`)
    }
    return record
  }

  /** Records a new topic with every partition placed on a shard, durably. */
  add(name: string, config: TopicConfig): TopicRecord {
    validateTopicName(name)
    const resolved = resolveTopicConfig(config)
    if (this.metadata.topics[name] !== undefined) {
      throw new SluiceError('SLUICE_ERR_TOPIC_ALREADY_EXISTS', `topic "${name}" already exists`)
    }
    const record: TopicRecord = { config: resolved, partitionShards: [] }
    for (let p = 0; p < resolved.partitions; p++) {
      record.partitionShards.push(this.leastLoadedShard(record))
    }
    this.metadata.topics[name] = record
    this.store.save(this.metadata)
    return record
  }

  /** Grows a topic to `totalCount` partitions, durably; returns the first new partition. */
  addPartitions(name: string, totalCount: number): number {
    const record = this.get(name)
    const current = record.partitionShards.length
    if (!Number.isInteger(totalCount) || totalCount <= current) {
      throw new SluiceError('SLUICE_ERR_INVALID_PARTITIONS',
        `topic "${name}" has ${current} partitions; the new count must be a larger integer, ` +
        `got ${String(totalCount)}`)
    }
    resolveTopicConfig({ ...record.config, partitions: totalCount })
    for (let p = current; p < totalCount; p++) {
      record.partitionShards.push(this.leastLoadedShard(record))
    }
    record.config.partitions = totalCount
    this.store.save(this.metadata)
    return current
  }

  /** Forgets a topic, durably; returns what it was so its partitions can be closed. */
  remove(name: string): TopicRecord {
    const record = this.get(name)
    delete this.metadata.topics[name]
    this.store.save(this.metadata)
    return record
  }

  /**
   * Spreads partitions over shards: the shard with the fewest partitions gets the next one.
   * `pending` is the topic being built, which may not be in the metadata yet.
   */
  private leastLoadedShard(pending: TopicRecord): number {
    const load = new Array<number>(this.metadata.shardCount).fill(0)
    const records = new Set([...Object.values(this.metadata.topics), pending])
    for (const record of records) {
      for (const shard of record.partitionShards) load[shard] = (load[shard] ?? 0) + 1
    }
    return load.indexOf(Math.min(...load))
  }
}
