/**
 * Interprets schema tables (schema.ts): `decodeMessage` turns a request body into a plain
 * object keyed by field name, `encodeMessage` writes an object as a response body. The version
 * decides which fields exist and whether the flexible encodings apply (compact lengths, tagged
 * fields after every struct). Field values:
 *
 *   int8/16/32/64, float64 → number       bool → boolean        uuid → 16-byte Buffer
 *   string → string | null                 bytes → Buffer | null
 *   records → Buffer | null on decode; Buffer | Buffer[] | null on encode (stored batch views,
 *             written without copying)
 *   array → unknown[] | null               absent field → its default
 *
 * Decoding checks every length and count against the bytes left (Reader) before allocating.
 */
import { assert } from '../../errors.js'
import { malformed } from './errors.js'
import type { Reader } from './reader.js'
import {
  inRange, isFlexible, type FieldSchema, type MessageSchema, type Primitive,
} from './schema.js'
import { Writer } from './writer.js'

export type Struct = Record<string, unknown>

const FIXED_BYTES: Partial<Record<Primitive, number>> = {
  int8: 1, bool: 1, int16: 2, int32: 4, int64: 8, float64: 8, uuid: 16,
}

export function decodeMessage(schema: MessageSchema, version: number, reader: Reader): Struct {
  const value = decodeStruct(reader, schema.fields, version, isFlexible(schema, version))
  reader.expectEnd(`${schema.name} v${version}`)
  return value
}

export function encodeMessage(
  schema: MessageSchema, version: number, value: Struct, writer: Writer,
): void {
  encodeStruct(writer, schema.fields, version, isFlexible(schema, version), value, schema.name)
}

/** The value a field takes when a version lacks it or an encoder was not given it. */
export function defaultValue(field: FieldSchema, version: number): unknown {
  if (field.default !== undefined) return field.default
  if (field.isArray) return inRange(version, field.nullable) ? null : []
  switch (field.type) {
    case 'bool': return false
    case 'string': return inRange(version, field.nullable) ? null : ''
    case 'bytes': case 'records': return inRange(version, field.nullable) ? null : Buffer.alloc(0)
    case 'uuid': return Buffer.alloc(16)
    default: return 0
  }
}

// ---- decoding ------------------------------------------------------------------------------

function decodeStruct(
  reader: Reader, fields: readonly FieldSchema[], version: number, flexible: boolean,
): Struct {
  const out: Struct = {}
  for (const field of fields) {
    const present = inRange(version, field.versions) && !(flexible && field.tag !== null)
    out[field.name] = present ? decodeField(reader, field, version, flexible)
      : defaultValue(field, version)
  }
  if (flexible) decodeTaggedFields(reader, fields, version, out)
  return out
}

function decodeField(reader: Reader, field: FieldSchema, version: number, flexible: boolean)
  : unknown {
  const nullable = inRange(version, field.nullable)
  if (!field.isArray) return decodePrimitive(reader, field.type!, nullable, flexible, field.name)
  const count = flexible ? reader.unsignedVarint(field.name) - 1 : reader.int32(field.name)
  if (count < 0) {
    if (count === -1 && nullable) return null
    throw malformed(`array ${field.name} has count ${count}`)
  }
  reader.checkCount(count, minItemBytes(field, version, flexible), field.name)
  const items = new Array<unknown>(count)
  for (let i = 0; i < count; i++) {
    items[i] = field.fields === null
      ? decodePrimitive(reader, field.type!, false, flexible, field.name)
      : decodeStruct(reader, field.fields, version, flexible)
  }
  return items
}

function decodePrimitive(
  reader: Reader, type: Primitive, nullable: boolean, flexible: boolean, name: string,
): unknown {
  switch (type) {
    case 'int8': return reader.int8(name)
    case 'bool': return reader.int8(name) !== 0
    case 'int16': return reader.int16(name)
    case 'int32': return reader.int32(name)
    case 'int64': return reader.int64(name)
    case 'float64': return reader.float64(name)
    case 'uuid': return Buffer.from(reader.view(16, name))
    case 'string': {
      const length = flexible ? reader.unsignedVarint(name) - 1 : reader.int16(name)
      if (length < 0) return nullOrThrow(length, nullable, name)
      return reader.utf8(length, name)
    }
    case 'bytes': case 'records': {
      const length = flexible ? reader.unsignedVarint(name) - 1 : reader.int32(name)
      if (length < 0) return nullOrThrow(length, nullable, name)
      return reader.view(length, name)
    }
  }
}

function nullOrThrow(length: number, nullable: boolean, name: string): null {
  if (length === -1 && nullable) return null
  throw malformed(`${name} has length ${length}${nullable ? '' : ' but is not nullable'}`)
}

function decodeTaggedFields(
  reader: Reader, fields: readonly FieldSchema[], version: number, out: Struct,
): void {
  const count = reader.checkCount(reader.unsignedVarint('tag count'), 2, 'tagged fields')
  for (let i = 0; i < count; i++) {
    const tag = reader.unsignedVarint('tag')
    const size = reader.unsignedVarint('tag size')
    const known = fields.find((f) => f.tag === tag && inRange(version, f.versions))
    if (known === undefined) {
      reader.skip(size, `unknown tag ${tag}`)
      continue
    }
    const start = reader.offset
    out[known.name] = decodeField(reader, known, version, true)
    if (reader.offset - start !== size) throw malformed(`tag ${tag} size ${size} does not match`)
  }
}

/** The fewest bytes one item can take, so a claimed count can be checked before allocating. */
function minItemBytes(field: FieldSchema, version: number, flexible: boolean): number {
  if (field.fields === null) return minPrimitiveBytes(field.type!, flexible)
  let total = flexible ? 1 : 0
  for (const item of field.fields) {
    if (!inRange(version, item.versions) || (flexible && item.tag !== null)) continue
    total += item.isArray ? (flexible ? 1 : 4) : minPrimitiveBytes(item.type!, flexible)
  }
  return total
}

function minPrimitiveBytes(type: Primitive, flexible: boolean): number {
  const fixed = FIXED_BYTES[type]
  if (fixed !== undefined) return fixed
  if (flexible) return 1
  return type === 'string' ? 2 : 4
}

// ---- encoding ------------------------------------------------------------------------------

function encodeStruct(
  writer: Writer, fields: readonly FieldSchema[], version: number, flexible: boolean,
  value: Struct, where: string,
): void {
  for (const field of fields) {
    if (!inRange(version, field.versions) || (flexible && field.tag !== null)) continue
    const given = value[field.name]
    encodeField(writer, field, version, flexible,
      given === undefined ? defaultValue(field, version) : given, where)
  }
  if (flexible) encodeTaggedFields(writer, fields, version, value, where)
}

function encodeField(
  writer: Writer, field: FieldSchema, version: number, flexible: boolean, value: unknown,
  where: string,
): void {
  const name = `${where}.${field.name}`
  if (!field.isArray) {
    encodePrimitive(writer, field.type!, value, inRange(version, field.nullable), flexible, name)
    return
  }
  if (value === null) {
    assert(inRange(version, field.nullable), `${name} is null but not nullable in v${version}`)
    if (flexible) writer.unsignedVarint(0)
    else writer.int32(-1)
    return
  }
  assert(Array.isArray(value), `${name} must be an array`)
  if (flexible) writer.unsignedVarint(value.length + 1)
  else writer.int32(value.length)
  for (const item of value) {
    if (field.fields === null) encodePrimitive(writer, field.type!, item, false, flexible, name)
    else encodeStruct(writer, field.fields, version, flexible, item as Struct, name)
  }
}

function encodePrimitive(
  writer: Writer, type: Primitive, value: unknown, nullable: boolean, flexible: boolean,
  name: string,
): void {
  switch (type) {
    case 'int8': return writer.int8(value as number)
    case 'bool': return writer.int8(value === true ? 1 : 0)
    case 'int16': return writer.int16(value as number)
    case 'int32': return writer.int32(value as number)
    case 'int64': return writer.int64(value as number)
    case 'float64': return writer.float64(value as number)
    case 'uuid': {
      assert(value instanceof Uint8Array && value.byteLength === 16, `${name} must be 16 bytes`)
      return writer.bytes(value)
    }
    case 'string': return encodeString(writer, value, nullable, flexible, name)
    case 'bytes': case 'records': return encodeBytes(writer, value, nullable, flexible, name)
  }
}

function encodeString(
  writer: Writer, value: unknown, nullable: boolean, flexible: boolean, name: string,
): void {
  if (value === null) {
    assert(nullable, `${name} is null but not nullable`)
    if (flexible) writer.unsignedVarint(0)
    else writer.int16(-1)
    return
  }
  assert(typeof value === 'string', `${name} must be a string`)
  const byteLength = Buffer.byteLength(value)
  if (flexible) writer.unsignedVarint(byteLength + 1)
  else {
    assert(byteLength <= 0x7fff, `${name} is ${byteLength} bytes, above int16`)
    writer.int16(byteLength)
  }
  writer.utf8(value, byteLength)
}

function encodeBytes(
  writer: Writer, value: unknown, nullable: boolean, flexible: boolean, name: string,
): void {
  if (value === null) {
    assert(nullable, `${name} is null but not nullable`)
    if (flexible) writer.unsignedVarint(0)
    else writer.int32(-1)
    return
  }
  const parts = Array.isArray(value) ? value as Uint8Array[] : [value as Uint8Array]
  let byteLength = 0
  for (const part of parts) {
    assert(part instanceof Uint8Array, `${name} must be bytes`)
    byteLength += part.byteLength
  }
  if (flexible) writer.unsignedVarint(byteLength + 1)
  else writer.int32(byteLength)
  for (const part of parts) writer.bytes(part)
}

function encodeTaggedFields(
  writer: Writer, fields: readonly FieldSchema[], version: number, value: Struct, where: string,
): void {
  const tagged = fields
    .filter((f) => f.tag !== null && inRange(version, f.versions) && value[f.name] !== undefined)
    .sort((a, b) => a.tag! - b.tag!)
  writer.unsignedVarint(tagged.length)
  for (const field of tagged) {
    const inner = new Writer(64)
    encodeField(inner, field, version, true, value[field.name], where)
    const bytes = inner.toBuffer()
    writer.unsignedVarint(field.tag!)
    writer.unsignedVarint(bytes.length)
    writer.bytes(bytes)
  }
}
