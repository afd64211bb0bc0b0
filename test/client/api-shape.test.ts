// Proves, by running tsc on api-shape.ts, that sluice's producer, consumer and admin are
// assignable to kafkajs's own Producer, Consumer and Admin types for the methods.
import { execFile } from 'node:child_process'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { repoRoot } from '../helpers.js'

it('type-checks sluice against kafkajs\'s types', async () => {
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')
  const project = path.join(repoRoot, 'test', 'client', 'tsconfig.api-shape.json')
  const run = promisify(execFile)
  const result = await run(process.execPath, [tsc, '-p', project], { cwd: repoRoot })
    .then(() => ({ ok: true, output: '' }))
    .catch((error: { stdout?: string }) => ({ ok: false, output: error.stdout ?? String(error) }))
  expect(result.output).toBe('')
  expect(result.ok).toBe(true)
})
