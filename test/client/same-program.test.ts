// Proves a program written against kafkajs's types runs unchanged on sluice: keyed messages keep
// their key's partition, the group commits, and after an engine restart it resumes where it
// committed (no message lost, none repeated).
import { Partitioners } from 'kafkajs'
import { afterEach, expect, it } from 'vitest'
import { sluiceScratch, type SluiceScratch } from './client-helpers.js'
import { runKeyedProgram } from './same-program.js'

let scratch: SluiceScratch | null = null

afterEach(async () => {
  await scratch?.cleanup()
})

it('runs the keyed produce / consume / commit / restart / resume program', async () => {
  const local = sluiceScratch()
  scratch = local
  const result = await runKeyedProgram(async () => local.sluice, () => local.restart())
  expect(result.firstRun.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `event-${i}`).sort())
  expect(result.committedAfterFirstRun).toBe(30)
  expect(result.secondRun.sort())
    .toEqual(Array.from({ length: 20 }, (_, i) => `event-${30 + i}`).sort())
  const partitioner = Partitioners.DefaultPartitioner()
  const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0,
    partitionErrorCode: 0, replicas: [0], isr: [0] }))
  for (const [key, partitions] of result.partitionsByKey) {
    expect([...partitions]).toEqual([
      partitioner({ topic: 'program-events', partitionMetadata, message: { key, value: null } }),
    ])
  }
})
