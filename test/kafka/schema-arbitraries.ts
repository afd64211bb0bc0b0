/**
 * fast-check arbitraries derived from the broker's schema tables: any value a table allows at a
 * version, and the value decoding it must give back (absent tagged fields become defaults).
 */
import fc from 'fast-check'
import { defaultValue, type Struct } from '../../src/kafka/protocol/codec.js'
import {
  inRange, isFlexible, type FieldSchema, type MessageSchema, type Primitive,
} from '../../src/kafka/protocol/schema.js'

export function messageArbitrary(schema: MessageSchema, version: number): fc.Arbitrary<Struct> {
  return structArbitrary(schema.fields, version, isFlexible(schema, version))
}

function structArbitrary(fields: readonly FieldSchema[], version: number, flexible: boolean)
  : fc.Arbitrary<Struct> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {}
  for (const field of fields) {
    if (!inRange(version, field.versions)) continue
    const value = fieldArbitrary(field, version, flexible)
    // A tagged field may be left out entirely; decoding then yields its default.
    shape[field.name] = flexible && field.tag !== null
      ? fc.option(value, { nil: undefined }) : value
  }
  return fc.record(shape)
}

function fieldArbitrary(field: FieldSchema, version: number, flexible: boolean)
  : fc.Arbitrary<unknown> {
  const base = field.isArray
    ? fc.array(field.fields === null ? primitiveArbitrary(field.type!)
      : structArbitrary(field.fields, version, flexible), { maxLength: 3 })
    : primitiveArbitrary(field.type!)
  return inRange(version, field.nullable) ? fc.option(base, { nil: null }) : base
}

function primitiveArbitrary(type: Primitive): fc.Arbitrary<unknown> {
  switch (type) {
    case 'int8': return fc.integer({ min: -128, max: 127 })
    case 'int16': return fc.integer({ min: -32768, max: 32767 })
    case 'int32': return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
    case 'int64': return fc.maxSafeInteger()
    case 'float64': return fc.double({ noNaN: true }).filter((v) => !Object.is(v, -0))
    case 'bool': return fc.boolean()
    case 'uuid': return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b))
    case 'string': return fc.string({ maxLength: 12, unit: 'grapheme' })
    case 'bytes': case 'records':
      return fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b))
  }
}

/** What decoding an encoded `value` must return: every field present, defaults filled in. */
export function expectedDecode(schema: MessageSchema, version: number, value: Struct): Struct {
  return expectedStruct(schema.fields, version, value)
}

function expectedStruct(fields: readonly FieldSchema[], version: number, value: Struct): Struct {
  const out: Struct = {}
  for (const field of fields) {
    const given = inRange(version, field.versions) ? value[field.name] : undefined
    if (given === undefined) out[field.name] = defaultValue(field, version)
    else if (field.isArray && field.fields !== null && Array.isArray(given)) {
      out[field.name] = given.map((item) => expectedStruct(field.fields!, version, item as Struct))
    } else out[field.name] = given
  }
  return out
}
