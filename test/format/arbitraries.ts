/**
 * Shared fast-check arbitraries and helpers for the format tests: records as callers append
 * them, and what decoding them must give back.
 */
import fc from 'fast-check'
import { expect } from 'vitest'
import { isSluiceError, type ErrorCode } from '../../src/errors.js'
import { Field, computeBatchCrc } from '../../src/format/batch-header.js'
import type { EncodableRecord } from '../../src/format/records.js'
import type { RecordHeader, StoredRecord } from '../../src/engine/types.js'

type FieldInput = Buffer | string | null

/** Null, bytes (including empty) or a unicode string (including empty). */
export const fieldValue: fc.Arbitrary<FieldInput> = fc.oneof(
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'binary', maxLength: 20 }),
)

const headerKey = fc.string({ unit: 'binary', maxLength: 12 })

/** Both header shapes: a list of { key, value } or an object. */
export const headers = fc.oneof(
  fc.array(fc.record({ key: headerKey, value: fieldValue }), { maxLength: 4 }),
  fc.dictionary(headerKey, fieldValue, { maxKeys: 4 }),
)

export const timestamp = fc.integer({ min: -(2 ** 40), max: 2 ** 45 })

export const encodableRecord: fc.Arbitrary<EncodableRecord> = fc.record({
  key: fieldValue,
  value: fieldValue,
  headers,
  timestamp,
}, { requiredKeys: ['value'] })

export const recordList = fc.array(encodableRecord, { minLength: 1, maxLength: 25 })

function asBytes(value: FieldInput | undefined): Buffer | null {
  if (value === null || value === undefined) return null
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value
}

function expectedHeaders(record: EncodableRecord): RecordHeader[] {
  const source = record.headers
  if (source === undefined || source === null) return []
  const pairs = Array.isArray(source)
    ? source.map((header) => [header.key, header.value] as const)
    : Object.keys(source).map((key) => [key, source[key]] as const)
  return pairs.map(([key, value]) => ({ key, value: asBytes(value) }))
}

/** What decoding `records`, encoded at `baseOffset` with clock `now`, must return. */
export function expectedRecords(
  records: readonly EncodableRecord[], baseOffset: number, now: number,
): StoredRecord[] {
  return records.map((record, index) => ({
    offset: baseOffset + index,
    timestamp: record.timestamp ?? now,
    key: asBytes(record.key),
    value: asBytes(record.value),
    headers: expectedHeaders(record),
  }))
}

/** Compares decoded records by content (Buffers by bytes). */
export function expectSameRecords(actual: StoredRecord[], expected: StoredRecord[]): void {
  const plain = (records: StoredRecord[]): unknown[] => records.map((record) => ({
    ...record,
    key: record.key === null ? null : Buffer.from(record.key).toString('hex'),
    value: record.value === null ? null : Buffer.from(record.value).toString('hex'),
    headers: record.headers.map((header) => ({
      key: header.key,
      value: header.value === null ? null : Buffer.from(header.value).toString('hex'),
    })),
  }))
  expect(plain(actual)).toEqual(plain(expected))
}

export function errorOf(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected the action to throw')
}

export function expectSluice(action: () => unknown, code: ErrorCode, pattern?: RegExp): void {
  const error = errorOf(action)
  expect(isSluiceError(error, code), String(error)).toBe(true)
  if (pattern) expect((error as Error).message).toMatch(pattern)
}

/** Applies `edit` to a copy of `batch`'s header and stores a fresh, correct CRC. */
export function editBatch(batch: Buffer, edit: (view: DataView) => void): Buffer {
  const copy = Buffer.from(batch)
  edit(new DataView(copy.buffer, copy.byteOffset, copy.byteLength))
  copy.writeUInt32BE(computeBatchCrc(copy), Field.crc)
  return copy
}
