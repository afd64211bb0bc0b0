// Proves that docs/errors.md lists exactly the error codes of src/errors.ts, with the same Kafka
// codes and retriable flags, and the wire-protocol codes of the broker and of the avro source and
// sink, so the documentation cannot drift from the code.
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { ERROR_CODES } from '../src/errors.js'
import { AvroWireErrorCode } from '../src/flow/avro/wire-errors.js'
import { ProtocolErrorCode } from '../src/kafka/protocol/errors.js'

it('documents every error code with its Kafka code and retriable flag', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  const rows = new Map<string, { kafka: string; retriable: string }>()
  for (const match of doc.matchAll(/^\| `(SLUICE_ERR_[A-Z_]+)` \| ([^|]+) \| (\w+) \|/gm)) {
    rows.set(match[1]!, { kafka: match[2]!.trim(), retriable: match[3]! })
  }
  expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort())
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    const row = rows.get(code)!
    expect(row.kafka).toBe(spec.kafkaCode === null ? '—' : String(spec.kafkaCode))
    expect(row.retriable).toBe(String(spec.retriable))
  }
})

it('documents every wire-protocol error code of the broker', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  const section = doc.slice(doc.indexOf('## Wire-protocol errors'))
  const documented = [...section.matchAll(/^\| `(SLUICE_ERR_KAFKA_[A-Z_]+)` \|/gm)].map((m) => m[1])
  expect(documented.sort()).toEqual(Object.values(ProtocolErrorCode).sort())
})

it('documents every wire-protocol error code of the avro source and sink', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  const section = doc.slice(doc.indexOf('## Wire-protocol errors (the avro'))
  const documented = [...section.matchAll(/^\| `(SLUICE_ERR_AVRO_[A-Z_]+)` \|/gm)].map((m) => m[1])
  expect(documented.sort()).toEqual(Object.values(AvroWireErrorCode).sort())
})
