/**
 * Messages between the engine (main thread) and a shard worker. Appends are coalesced: every
 * append issued in one turn of the main thread's event loop travels in one message, and every
 * acknowledgement of one group commit travels back in one message, so the ~17 µs postMessage
 * round trip is paid per group, never per record (shared/reference/performance.md §B4).
 */
import type { WireError } from '../errors.js'
import type { ResolvedTopicConfig } from './types.js'
import type { TailWindowBuffers } from './tail-window.js'

/** `<topic>-<partition>`, which is also the partition's directory name. */
export type PartitionKey = string

export interface PartitionOpenSpec {
  key: PartitionKey
  dir: string
  config: ResolvedTopicConfig
  indexBuffer: SharedArrayBuffer
  window: TailWindowBuffers
  /** The recovery already done by the background pool, so the shard does not scan twice. */
  recovery: unknown
}

export interface AppendRequest {
  id: number
  key: PartitionKey
  batches: Uint8Array[]
}

export type ToShard =
  | { type: 'open'; id: number; partitions: PartitionOpenSpec[] }
  | { type: 'append'; requests: AppendRequest[] }
  | { type: 'closePartition'; id: number; key: PartitionKey }
  | { type: 'recoverPartition'; id: number; key: PartitionKey }
  | { type: 'timeLookup'; id: number; key: PartitionKey; timestampMs: number }
  | { type: 'enforceRetention'; id: number }
  | { type: 'close'; id: number }
  | { type: 'crashForTesting' }

export interface AppendAck {
  id: number
  baseOffset?: number
  lastOffset?: number
  logStartOffset?: number
  error?: WireError
}

export type FromShard =
  | { type: 'acks'; acks: AppendAck[] }
  | { type: 'reply'; id: number; result?: unknown; error?: WireError }
  /** Files the shard has unlinked from its log and wants removed off the hot path. */
  | { type: 'backgroundDelete'; paths: string[] }
