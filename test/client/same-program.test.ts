// Proves a program written against kafkajs's types runs unchanged on sluice: keyed messages keep
// their key's partition, the group commits, and after an engine restart it resumes where it
// committed (no message lost, none repeated).
import { afterEach, expect, it } from 'vitest'
import { sluiceScratch, type SluiceScratch } from './client-helpers.js'
import { expectProgramResult, runKeyedProgram } from './same-program.js'

let scratch: SluiceScratch | null = null

afterEach(async () => {
  await scratch?.cleanup()
})

it('runs the keyed produce / consume / commit / restart / resume program', async () => {
  const local = sluiceScratch()
  scratch = local
  const result = await runKeyedProgram(async () => local.sluice, () => local.restart())
  expectProgramResult(result)
})
