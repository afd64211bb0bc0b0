/**
 * The schema-table vocabulary: a message is a list of fields, each present in a version range,
 * optionally nullable in another range, optionally a tagged field (flexible versions only).
 * This mirrors the shape of Kafka's own JSON message definitions, so adding a version to an
 * API is an edit of its table (a new field with `versions: '9+'`, a wider flexible range),
 * never new parsing code. codec.ts interprets these tables for both directions.
 *
 * Version strings are Kafka's: '3+' (3 and later), '2-5' (2 to 5), '4' (only 4), 'none'.
 */

export type Primitive =
  | 'int8' | 'int16' | 'int32' | 'int64' | 'bool' | 'float64' | 'uuid'
  | 'string' | 'bytes' | 'records'

export interface VersionRange {
  readonly min: number
  readonly max: number
}

export interface FieldSchema {
  readonly name: string
  readonly versions: VersionRange
  /** Versions in which the value may be null (strings, bytes, records, arrays). */
  readonly nullable: VersionRange | null
  /** A primitive, or the item type of an array of primitives. */
  readonly type: Primitive | null
  /** The item fields of an array of structs. */
  readonly fields: readonly FieldSchema[] | null
  readonly isArray: boolean
  /** Value used when the field is absent from a version or unset when encoding. */
  readonly default: unknown
  /** In flexible versions, carried as this tag in the tagged-field buffer. */
  readonly tag: number | null
}

export interface MessageSchema {
  readonly name: string
  readonly apiKey: number
  readonly validVersions: VersionRange
  readonly flexibleVersions: VersionRange | null
  readonly fields: readonly FieldSchema[]
}

const NO_VERSIONS: VersionRange = { min: 1, max: 0 }

export function parseVersions(spec: string): VersionRange {
  if (spec === 'none') return NO_VERSIONS
  const plus = /^(\d+)\+$/.exec(spec)
  if (plus !== null) return { min: Number(plus[1]), max: Number.POSITIVE_INFINITY }
  const range = /^(\d+)-(\d+)$/.exec(spec)
  if (range !== null) return { min: Number(range[1]), max: Number(range[2]) }
  if (/^\d+$/.test(spec)) return { min: Number(spec), max: Number(spec) }
  throw new Error(`bad version range "${spec}"`)
}

export function inRange(version: number, range: VersionRange | null): boolean {
  return range !== null && version >= range.min && version <= range.max
}

interface FieldOptions {
  nullable?: string
  default?: unknown
  tag?: number
}

/** A scalar: `field('acks', 'int16')`, `field('rack', 'string', '1+', { nullable: '1+' })`. */
export function field(name: string, type: Primitive, versions = '0+', options: FieldOptions = {})
  : FieldSchema {
  return build(name, versions, options, { type, fields: null, isArray: false })
}

/** An array of primitives (`[]int32`) or of structs (a list of item fields). */
export function array(
  name: string, items: Primitive | readonly FieldSchema[], versions = '0+',
  options: FieldOptions = {},
): FieldSchema {
  return typeof items === 'string'
    ? build(name, versions, options, { type: items, fields: null, isArray: true })
    : build(name, versions, options, { type: null, fields: items, isArray: true })
}

function build(
  name: string, versions: string, options: FieldOptions,
  shape: Pick<FieldSchema, 'type' | 'fields' | 'isArray'>,
): FieldSchema {
  return {
    name,
    versions: parseVersions(versions),
    nullable: options.nullable === undefined ? null : parseVersions(options.nullable),
    ...shape,
    default: options.default,
    tag: options.tag ?? null,
  }
}

export function message(spec: {
  name: string
  apiKey: number
  validVersions: string
  flexibleVersions: string
  fields: readonly FieldSchema[]
}): MessageSchema {
  const flexible = parseVersions(spec.flexibleVersions)
  return {
    name: spec.name,
    apiKey: spec.apiKey,
    validVersions: parseVersions(spec.validVersions),
    flexibleVersions: flexible === NO_VERSIONS ? null : flexible,
    fields: spec.fields,
  }
}

export function isFlexible(schema: MessageSchema, version: number): boolean {
  return inRange(version, schema.flexibleVersions)
}
