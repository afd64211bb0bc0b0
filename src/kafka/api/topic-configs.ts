/**
 * Kafka topic config names ↔ sluice's TopicConfig, for CreateTopics and DescribeConfigs.
 * Only settings sluice really applies are accepted; anything else is refused with
 * INVALID_CONFIG rather than silently ignored. `sluice.durability` (fsync | os | memory) is
 * sluice's own: Kafka has no per-topic durability setting, sluice has nothing else.
 */
import { TOPIC_DEFAULTS } from '../../engine/topic-config.js'
import type { ResolvedTopicConfig, TopicConfig } from '../../engine/types.js'
import { SluiceError } from '../../errors.js'

type ConfigKey = Exclude<keyof ResolvedTopicConfig, 'partitions'>

const NAMES: Record<string, ConfigKey> = {
  'segment.bytes': 'segmentBytes',
  'segment.ms': 'segmentMs',
  'retention.ms': 'retentionMs',
  'retention.bytes': 'retentionBytes',
  'max.message.bytes': 'maxMessageBytes',
  'index.interval.bytes': 'indexIntervalBytes',
  'compression.type': 'compression',
  'sluice.durability': 'durability',
}

/** Kafka's compression.type values; 'producer' keeps what the producer sent, as sluice's none. */
const COMPRESSION: Record<string, TopicConfig['compression']> = {
  producer: 'none', uncompressed: 'none', none: 'none', gzip: 'gzip', lz4: 'lz4',
}

export function topicConfigFrom(entries: { name: string; value: string | null }[])
  : Omit<TopicConfig, 'partitions'> {
  const config: Record<string, unknown> = {}
  for (const { name, value } of entries) {
    // Deletion is the only cleanup policy a log without compaction has.
    if (name === 'cleanup.policy' && value === 'delete') continue
    const key = NAMES[name]
    if (key === undefined || value === null) throw invalid(`unsupported topic config ${name}`)
    config[key] = parseValue(key, name, value)
  }
  return config as Omit<TopicConfig, 'partitions'>
}

function parseValue(key: ConfigKey, name: string, value: string): unknown {
  if (key === 'durability') return value
  if (key === 'compression') {
    const codec = COMPRESSION[value]
    if (codec === undefined) throw invalid(`${name}=${value}: sluice stores none, gzip or lz4`)
    return codec
  }
  const number = Number(value)
  if (!Number.isInteger(number)) throw invalid(`${name}=${value} is not an integer`)
  return number
}

export interface ConfigEntry {
  name: string
  value: string
  isDefault: boolean
}

export function describeTopicConfig(config: ResolvedTopicConfig): ConfigEntry[] {
  return [
    ...Object.entries(NAMES).map(([name, key]) => ({
      name,
      value: key === 'compression' && config.compression === 'none' ? 'producer'
        : String(config[key]),
      isDefault: config[key] === TOPIC_DEFAULTS[key],
    })),
    { name: 'cleanup.policy', value: 'delete', isDefault: true },
  ]
}

function invalid(message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_INVALID_CONFIG', message)
}
