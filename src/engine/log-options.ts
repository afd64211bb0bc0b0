/**
 * The arguments of the `Log` API checked at the door: `Log.open`'s options with their defaults and
 * bounds, read offsets and read options, and the `<topic>-<n>` key naming a partition (also its
 * directory name). Each bad value is a typed error naming the key, the value and what is allowed.
 */
import * as os from 'node:os'
import * as path from 'node:path'
import { SluiceError } from '../errors.js'
import type { PartitionKey } from './shard-protocol.js'
import { DEFAULT_WINDOW_SLOT_BYTES, DEFAULT_WINDOW_SLOT_COUNT } from './tail-window.js'
import { invalidConfig } from './topic-config.js'
import type { ReadOptions } from './types.js'

export interface LogOptions {
  dataDir: string
  /** Shard threads at most; default os.availableParallelism(). Fixed once recorded on disk. */
  shards?: number
  /** Size of one tail-window slot per partition. Default 1 MiB. */
  windowSlotBytes?: number
  /** Slots in each partition's tail window ring. Default 4. */
  windowSlotCount?: number
  /** How often shards check retention. Default 5 minutes; 0 disables the timer. */
  retentionCheckIntervalMs?: number
}

export const MAX_SHARDS = 256
const DEFAULT_RETENTION_CHECK_MS = 5 * 60 * 1000

export function partitionKey(topic: string, partition: number): PartitionKey {
  return `${topic}-${partition}`
}

export function resolveLogOptions(options: LogOptions): Required<LogOptions> {
  if (options === null || typeof options !== 'object' || typeof options.dataDir !== 'string'
    || options.dataDir.length === 0) {
    throw invalidConfig('Log.open needs { dataDir: string }')
  }
  const shards = options.shards ?? Math.min(os.availableParallelism(), MAX_SHARDS)
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw invalidConfig(`shards must be an integer in 1..${MAX_SHARDS}, got ${String(shards)}`)
  }
  const windowSlotBytes = options.windowSlotBytes ?? DEFAULT_WINDOW_SLOT_BYTES
  const windowSlotCount = options.windowSlotCount ?? DEFAULT_WINDOW_SLOT_COUNT
  if (!Number.isInteger(windowSlotBytes) || windowSlotBytes < 4096) {
    throw invalidConfig(`windowSlotBytes must be an integer ≥ 4096, got ${windowSlotBytes}`)
  }
  if (!Number.isInteger(windowSlotCount) || windowSlotCount < 2 || windowSlotCount > 64) {
    throw invalidConfig(`windowSlotCount must be an integer in 2..64, got ${windowSlotCount}`)
  }
  return {
    dataDir: path.resolve(options.dataDir),
    shards,
    windowSlotBytes,
    windowSlotCount,
    retentionCheckIntervalMs: options.retentionCheckIntervalMs ?? DEFAULT_RETENTION_CHECK_MS,
  }
}

export function checkOffset(offset: unknown): number {
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new SluiceError('SLUICE_ERR_OFFSET_OUT_OF_RANGE',
      `offset must be a non-negative safe integer, got ${String(offset)}`)
  }
  return offset
}

export function checkRead(options: ReadOptions | undefined): ReadOptions {
  if (options === undefined) return {}
  for (const key of ['maxBytes', 'maxWaitMs', 'minBytes'] as const) {
    const value = options[key]
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      throw invalidConfig(`${key} must be a non-negative integer, got ${String(value)}`)
    }
  }
  return options
}
