/**
 * A bounds check of Avro binary data against its writer's schema, run before avsc decodes bytes
 * from the network. avsc trusts the counts it reads: an array or map block announcing 2^62
 * items over a few bytes makes it loop (reading past the end yields zeros) instead of failing.
 * This walk follows the same grammar (Avro spec "Binary Encoding") and refuses, naming the
 * place, any varint longer than 10 bytes, any length past the end of the message, any block
 * count larger than the bytes left (every item of a non-empty type takes at least one byte),
 * any union branch that does not exist. After it passes, avsc's decode cannot overrun.
 *
 * Recursion depth follows the schema, not the data, except for recursive record types, which
 * the Flume protocol does not have: a depth limit keeps a hostile schema text from using them
 * to blow the stack.
 */
import type avro from 'avsc'
import { AvroWireError, AvroWireErrorCode } from './wire-errors.js'

const MAX_VARINT_BYTES = 10
const MAX_SCHEMA_DEPTH = 64
/** Items of types that encode to zero bytes (null, empty records) allowed in one block. */
const MAX_EMPTY_ITEMS_PER_BLOCK = 1_000_000

/** The parts of avsc's runtime types this walk reads (its typings omit them). */
interface WalkedType {
  typeName: string
  getFields?(): { getType(): WalkedType }[]
  getItemsType?(): WalkedType
  getValuesType?(): WalkedType
  getTypes?(): WalkedType[]
  getSize?(): number
  getSymbols?(): string[]
  underlyingType?: WalkedType
}

class Cursor {
  constructor(readonly bytes: Buffer, public offset: number, readonly what: string) {}

  fail(reason: string): never {
    throw new AvroWireError(AvroWireErrorCode.MESSAGE,
      `${this.what}: ${reason} at byte ${this.offset} of ${this.bytes.byteLength}`)
  }

  skip(count: number): void {
    if (count > this.bytes.byteLength - this.offset) {
      this.fail(`${count} bytes announced, ${this.bytes.byteLength - this.offset} left`)
    }
    this.offset += count
  }

  /** A zig-zag varint long, as a number (exact for |n| < 2^53, the only sizes that fit). */
  long(): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.offset >= this.bytes.byteLength) this.fail('varint runs past the end')
      const byte = this.bytes[this.offset++]!
      value += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2
      scale *= 128
    }
    return this.fail('varint longer than 10 bytes')
  }
}

/** Checks one datum of `type` at `offset`; returns the offset just past it. */
export function checkDatum(type: avro.Type, bytes: Buffer, offset: number, what: string)
  : number {
  const cursor = new Cursor(bytes, offset, what)
  walk(type as unknown as WalkedType, cursor, 0)
  return cursor.offset
}

function walk(type: WalkedType, cursor: Cursor, depth: number): void {
  if (depth > MAX_SCHEMA_DEPTH) cursor.fail(`schema nested deeper than ${MAX_SCHEMA_DEPTH}`)
  const name = type.typeName
  if (name.startsWith('logical:')) return walk(type.underlyingType!, cursor, depth + 1)
  switch (name) {
    case 'null': return
    case 'boolean': return cursor.skip(1)
    case 'int': case 'long': case 'abstract:long': cursor.long(); return
    case 'float': return cursor.skip(4)
    case 'double': return cursor.skip(8)
    case 'bytes': case 'string': return skipLength(cursor)
    case 'fixed': return cursor.skip(type.getSize!())
    case 'enum': checkIndex(cursor, type.getSymbols!().length, 'enum symbol'); return
    case 'record': case 'error':
      for (const field of type.getFields!()) walk(field.getType(), cursor, depth + 1)
      return
    case 'array': return walkBlocks(cursor, [type.getItemsType!()], depth)
    case 'map': return walkBlocks(cursor, [{ typeName: 'string' }, type.getValuesType!()], depth)
    case 'union:unwrapped': case 'union:wrapped': {
      const branches = type.getTypes!()
      const index = checkIndex(cursor, branches.length, 'union branch')
      return walk(branches[index]!, cursor, depth + 1)
    }
    default: cursor.fail(`unsupported Avro type ${name}`)
  }
}

function skipLength(cursor: Cursor): void {
  const length = cursor.long()
  if (length < 0) cursor.fail(`negative length ${length}`)
  cursor.skip(length)
}

function checkIndex(cursor: Cursor, count: number, what: string): number {
  const index = cursor.long()
  if (index < 0 || index >= count) cursor.fail(`${what} ${index} does not exist (${count})`)
  return index
}

/** Array or map blocks: count (negative: followed by a byte size), items, until count 0. */
function walkBlocks(cursor: Cursor, itemTypes: WalkedType[], depth: number): void {
  for (;;) {
    let count = cursor.long()
    if (count === 0) return
    if (count < 0) {
      count = -count
      const blockBytes = cursor.long()
      if (blockBytes < 0) cursor.fail(`negative block size ${blockBytes}`)
    }
    const left = cursor.bytes.byteLength - cursor.offset
    if (count > Math.max(left, MAX_EMPTY_ITEMS_PER_BLOCK) || !Number.isSafeInteger(count)) {
      cursor.fail(`a block of ${count} items over ${left} bytes`)
    }
    const start = cursor.offset
    for (let i = 0; i < count; i++) {
      for (const itemType of itemTypes) walk(itemType, cursor, depth + 1)
      // Items that take no bytes are bounded by MAX_EMPTY_ITEMS_PER_BLOCK, others by `left`.
      if (cursor.offset === start && i >= MAX_EMPTY_ITEMS_PER_BLOCK) cursor.fail('empty items')
    }
  }
}
