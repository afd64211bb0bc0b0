/**
 * Topic names and topic configuration: Kafka's naming rules, sluice's defaults, and the checks
 * that turn a bad argument into a typed error naming the key, the value and what is allowed.
 */
import { SluiceError } from '../errors.js'
import type { ResolvedTopicConfig, TopicConfig } from './types.js'

const KIB = 1024
const MIB = 1024 * KIB
const GIB = 1024 * MIB
const DAY_MS = 24 * 60 * 60 * 1000

/** Kafka's legal topic characters; the length limit keeps `<topic>-<n>` a valid file name. */
const TOPIC_NAME_PATTERN = /^[a-zA-Z0-9._-]+$/
export const MAX_TOPIC_NAME_CHARS = 249
export const MAX_PARTITIONS_PER_TOPIC = 10_000

export const TOPIC_DEFAULTS: Omit<ResolvedTopicConfig, 'partitions'> = {
  segmentBytes: GIB,
  segmentMs: 7 * DAY_MS,
  retentionMs: 7 * DAY_MS,
  retentionBytes: -1,
  durability: 'fsync',
  compression: 'none',
  // Kafka's message.max.bytes default: 1 MiB plus the 12-byte log overhead.
  maxMessageBytes: MIB + 12,
  indexIntervalBytes: 4 * KIB,
}

/** Bounds on each numeric setting: [smallest, largest], -1 allowed where noted. */
const NUMERIC_BOUNDS = {
  segmentBytes: { min: 1 * KIB, max: 2 * GIB - 1, unbounded: false },
  segmentMs: { min: 1, max: Number.MAX_SAFE_INTEGER, unbounded: false },
  retentionMs: { min: 1, max: Number.MAX_SAFE_INTEGER, unbounded: true },
  retentionBytes: { min: 1, max: Number.MAX_SAFE_INTEGER, unbounded: true },
  maxMessageBytes: { min: 128, max: 256 * MIB, unbounded: false },
  indexIntervalBytes: { min: 1, max: 64 * MIB, unbounded: false },
} as const

export function validateTopicName(name: unknown): string {
  if (typeof name !== 'string') {
    throw invalidTopic(`topic name must be a string, got ${typeof name}`)
  }
  if (name.length === 0) throw invalidTopic('topic name is empty')
  if (name.length > MAX_TOPIC_NAME_CHARS) {
    throw invalidTopic(`topic name has ${name.length} characters, at most ${MAX_TOPIC_NAME_CHARS}`)
  }
  if (name === '.' || name === '..') throw invalidTopic(`topic name cannot be "${name}"`)
  if (!TOPIC_NAME_PATTERN.test(name)) {
    throw invalidTopic(`topic name ${JSON.stringify(name)} may only contain [a-zA-Z0-9._-]`)
  }
  return name
}

export function resolveTopicConfig(input: TopicConfig | undefined): ResolvedTopicConfig {
  if (input === null || typeof input !== 'object') {
    throw invalidConfig('topic config must be an object with at least { partitions }')
  }
  const partitions = input.partitions
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS_PER_TOPIC) {
    throw new SluiceError(
      'SLUICE_ERR_INVALID_PARTITIONS',
      `partitions must be an integer in 1..${MAX_PARTITIONS_PER_TOPIC}, got ${String(partitions)}`,
    )
  }
  const resolved: ResolvedTopicConfig = { ...TOPIC_DEFAULTS, partitions }
  for (const [key, bounds] of Object.entries(NUMERIC_BOUNDS)) {
    const value = (input as unknown as Record<string, unknown>)[key]
    if (value === undefined) continue
    checkNumber(key, value, bounds)
    ;(resolved as unknown as Record<string, number>)[key] = value as number
  }
  if (input.durability !== undefined) resolved.durability = checkDurability(input.durability)
  if (input.compression !== undefined) resolved.compression = checkCompression(input.compression)
  for (const key of Object.keys(input)) {
    if (!(key in resolved)) {
      throw invalidConfig(`unknown topic config key "${key}"; known: ${Object.keys(resolved).join(', ')}`)
    }
  }
  return resolved
}

function checkNumber(
  key: string, value: unknown, bounds: { min: number; max: number; unbounded: boolean },
): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidConfig(`${key} must be an integer, got ${JSON.stringify(value)}`)
  }
  if (bounds.unbounded && value === -1) return
  if (value < bounds.min || value > bounds.max) {
    const minusOne = bounds.unbounded ? ' (or -1 for unbounded)' : ''
    throw invalidConfig(`${key} must be in ${bounds.min}..${bounds.max}${minusOne}, got ${value}`)
  }
}

function checkDurability(value: unknown): ResolvedTopicConfig['durability'] {
  if (value === 'fsync' || value === 'os' || value === 'memory') return value
  throw invalidConfig(`durability must be 'fsync', 'os' or 'memory', got ${JSON.stringify(value)}`)
}

function checkCompression(value: unknown): ResolvedTopicConfig['compression'] {
  if (value === 'none' || value === 'gzip' || value === 'lz4') return value
  throw invalidConfig(`compression must be 'none', 'gzip' or 'lz4', got ${JSON.stringify(value)}`)
}

export function checkPartitionIndex(topic: string, partition: unknown, count: number): number {
  if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0
    || partition >= count) {
    throw new SluiceError(
      'SLUICE_ERR_UNKNOWN_TOPIC_OR_PARTITION',
      `topic "${topic}" has partitions 0..${count - 1}, got ${String(partition)}`,
    )
  }
  return partition
}

function invalidTopic(message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_INVALID_TOPIC', message)
}

export function invalidConfig(message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_INVALID_CONFIG', message)
}
