// Proves that random byte changes and truncations of valid batches, for every codec, either
// decode to a consistent result or throw a SluiceError: never another error type, never a hang.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import { ATTRIBUTE_CONTROL, Field, computeBatchCrc } from '../../src/format/batch-header.js'
import {
  decodeBatch, decodeBatches, encodeBatch, recompressBatch, type DecodedBatch,
} from '../../src/format/record-batch.js'
import { recordList } from './arbitraries.js'

const mutations = fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  { minLength: 1, maxLength: 4 })

function mutate(batch: Buffer, changes: { at: number, byte: number }[], from = 0): Buffer {
  const copy = Buffer.from(batch)
  for (const { at, byte } of changes) copy[from + (at % (copy.length - from))] = byte
  return copy
}

/** Runs `decode`; a SluiceError is an accepted outcome, any other throw fails the test. */
function decodeOrSluiceError(decode: () => DecodedBatch | unknown[]): void {
  let result: DecodedBatch | unknown[]
  try {
    result = decode()
  } catch (error) {
    expect(isSluiceError(error), `not a SluiceError: ${String(error)}`).toBe(true)
    return
  }
  if (!Array.isArray(result) && (result.header.attributes & ATTRIBUTE_CONTROL) === 0) {
    expect(result.records.length).toBe(result.header.recordsCount)
  }
}

const codec = fc.constantFrom('none', 'gzip', 'lz4' as const)
const RUNS = { numRuns: 400 }

describe('mutated batches', () => {
  it('byte changes anywhere: SluiceError or a consistent decode, with and without CRC', () => {
    fc.assert(fc.property(recordList, codec, mutations, (records, compression, changes) => {
      const batch = mutate(encodeBatch(records, { compression }), changes)
      decodeOrSluiceError(() => decodeBatch(batch))
      decodeOrSluiceError(() => decodeBatch(batch, { verifyCrc: false }))
      decodeOrSluiceError(() => decodeBatches(batch, 0, { verifyCrc: false }))
    }), RUNS)
  })

  it('truncations: SluiceError from decodeBatch, silence from decodeBatches', () => {
    fc.assert(fc.property(recordList, codec, fc.nat(), (records, compression, cut) => {
      const batch = encodeBatch(records, { compression })
      const truncated = batch.subarray(0, cut % batch.length)
      decodeOrSluiceError(() => decodeBatch(truncated, { verifyCrc: false }))
      expect(decodeBatches(truncated)).toEqual([])
    }), RUNS)
  })

  it('damaged records under a valid CRC, then compressed: garbage after decompression', () => {
    fc.assert(fc.property(recordList, fc.constantFrom('gzip', 'lz4' as const), mutations,
      (records, compression, changes) => {
        // Damage only the records section (from byte 61) so the header stays readable.
        const damaged = mutate(encodeBatch(records), changes, 61)
        damaged.writeUInt32BE(computeBatchCrc(damaged), Field.crc)
        decodeOrSluiceError(() => decodeBatch(damaged))
        decodeOrSluiceError(() => decodeBatch(recompressBatch(damaged, compression)))
      }), RUNS)
  })

  it('damaged compressed bytes under a valid CRC', () => {
    fc.assert(fc.property(recordList, fc.constantFrom('gzip', 'lz4' as const), mutations,
      (records, compression, changes) => {
        const damaged = mutate(encodeBatch(records, { compression }), changes, 61)
        damaged.writeUInt32BE(computeBatchCrc(damaged), Field.crc)
        decodeOrSluiceError(() => decodeBatch(damaged))
      }), RUNS)
  })
})
