/**
 * Planning an append call before any byte is written: every batch is validated first (so a bad
 * batch fails the call with nothing written), then the batches are cut into groups, one per
 * segment they land in, each with its offsets and positions decided.
 *
 * Roll rule, checked before each group: a non-empty active segment is rolled when the next batch
 * would take it past segmentBytes, when it is segmentMs old, or when the batch's last offset would
 * not fit the int32 relative offsets of the indexes. A batch larger than segmentBytes still goes
 * in, alone, into an empty segment.
 */
import { SluiceError } from '../errors.js'
import { verifyBatch, type BatchHeader } from '../format/batch-header.js'
import type { IndexedBatch } from './offset-index.js'
import type { PartitionLogConfig } from './types.js'

const INT32_MAX = 0x7fffffff

export interface PlannedBatch extends IndexedBatch {
  baseOffset: number
}

export interface AppendGroup {
  /** Seal the active segment and start a new one at `segmentBaseOffset` first. */
  rollBefore: boolean
  segmentBaseOffset: number
  /** Index range [first, end) of the call's batches. */
  first: number
  end: number
  batches: PlannedBatch[]
}

export interface ActiveState {
  baseOffset: number
  sizeBytes: number
  nextOffset: number
  createdMs: number
}

/** verifyBatch (header, length, CRC) plus maxMessageBytes, for every batch of a call. */
export function validateBatches(
  batches: readonly Uint8Array[], maxMessageBytes: number, where: string,
): BatchHeader[] {
  return batches.map((batch) => {
    const header = verifyBatch(batch)
    if (header.sizeBytes > maxMessageBytes) {
      throw new SluiceError('SLUICE_ERR_RECORD_TOO_LARGE', `batch of ${header.sizeBytes} bytes ` +
        `exceeds maxMessageBytes ${maxMessageBytes} of ${where}`)
    }
    return header
  })
}

export function planAppend(
  headers: readonly BatchHeader[], active: ActiveState, config: PartitionLogConfig, nowMs: number,
): AppendGroup[] {
  const groups: AppendGroup[] = []
  let segment = { ...active }
  for (let first = 0; first < headers.length;) {
    const rollBefore = mustRoll(segment, headers[first]!, config, nowMs)
    if (rollBefore) {
      segment = { baseOffset: segment.nextOffset, sizeBytes: 0, nextOffset: segment.nextOffset,
        createdMs: nowMs }
    }
    const group: AppendGroup = { rollBefore, segmentBaseOffset: segment.baseOffset, first,
      end: first, batches: [] }
    for (let i = first; i < headers.length; i++) {
      const header = headers[i]!
      if (i > first && !fits(segment, header, config)) break
      const lastOffset = segment.nextOffset + header.lastOffsetDelta
      group.batches.push({ baseOffset: segment.nextOffset, lastOffset, position: segment.sizeBytes,
        sizeBytes: header.sizeBytes, maxTimestamp: header.maxTimestamp })
      segment.sizeBytes += header.sizeBytes
      segment.nextOffset = lastOffset + 1
      group.end = i + 1
    }
    groups.push(group)
    first = group.end
  }
  return groups
}

function mustRoll(
  segment: ActiveState, header: BatchHeader, config: PartitionLogConfig, nowMs: number,
): boolean {
  if (segment.sizeBytes === 0) return false
  return !fits(segment, header, config) || nowMs - segment.createdMs >= config.segmentMs
}

function fits(segment: ActiveState, header: BatchHeader, config: PartitionLogConfig): boolean {
  return segment.sizeBytes + header.sizeBytes <= config.segmentBytes
    && segment.nextOffset + header.lastOffsetDelta - segment.baseOffset <= INT32_MAX
}
