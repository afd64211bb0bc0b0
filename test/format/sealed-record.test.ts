// Proves the sealed-record codec (our checkpoints): any fields round-trip, and any single-byte
// change, a wrong length, another magic or version, or a negative field is refused with a reason.
import fc from 'fast-check'
import { expect, it } from 'vitest'
import {
  decodeSealedRecord, encodeSealedRecord, sealedRecordBytes,
} from '../../src/format/sealed-record.js'

const KIND = { name: 'test record', magic: 0x54455354, version: 3, fieldCount: 3 }
const field = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })

it('round-trips any non-negative fields', () => {
  fc.assert(fc.property(fc.tuple(field, field, field), (fields) => {
    const bytes = encodeSealedRecord(KIND, fields)
    expect(bytes.byteLength).toBe(sealedRecordBytes(KIND))
    expect(decodeSealedRecord(KIND, bytes)).toEqual(fields)
  }))
})

it('refuses every single-byte change, with a reason', () => {
  fc.assert(fc.property(fc.tuple(field, field, field), fc.nat(), fc.integer({ min: 1, max: 255 }),
    (fields, at, flip) => {
      const bytes = encodeSealedRecord(KIND, fields)
      bytes[at % bytes.byteLength]! ^= flip
      expect(decodeSealedRecord(KIND, bytes)).toMatch(/^test record /)
    }))
})

it('refuses a wrong length, another kind, and negative fields', () => {
  const bytes = encodeSealedRecord(KIND, [1, 2, 3])
  expect(decodeSealedRecord(KIND, bytes.subarray(1))).toMatch(/is 37 bytes, expected 38/)
  expect(decodeSealedRecord({ ...KIND, version: 4 }, bytes)).toMatch(/magic or version/)
  expect(decodeSealedRecord(KIND, encodeSealedRecord(KIND, [1, -5, 3])))
    .toMatch(/negative field/)
  expect(() => encodeSealedRecord(KIND, [1, 2])).toThrow(/3 fields, got 2/)
})
