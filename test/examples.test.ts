// Proves every configuration in examples/ works as its header says: it passes `sluice pipeline
// --validate --strict` (no warning at all), starts, and stops cleanly on SIGTERM with exit code
// 0. The tail → log → rolling files example is also fed a line and must deliver it. Each runs
// in a scratch directory standing in for the examples' /tmp/sluice-examples, after the
// `mkdir -p` lines of its header.
import { spawnSync } from 'node:child_process'
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI_MAIN, killLeftoverProcesses, runCli } from './flow/cli-process.js'
import { repoRoot, tempDir, until } from './helpers.js'

const EXAMPLES_ROOT = '/tmp/sluice-examples'
const examplesDir = path.join(repoRoot, 'examples')
const examples = readdirSync(examplesDir).filter((name) => name.endsWith('.conf')).sort()
const scratch = tempDir('sluice-examples-')
afterAll(async () => {
  await killLeftoverProcesses()
  scratch.remove()
})

function prepare(name: string): { file: string; root: string } {
  const root = path.join(scratch.dir, path.basename(name, '.conf'))
  mkdirSync(root, { recursive: true })
  const text = readFileSync(path.join(examplesDir, name), 'utf8').replaceAll(EXAMPLES_ROOT, root)
  for (const match of text.matchAll(/^#\s+mkdir -p (.+)$/gm)) {
    for (const dir of match[1]!.trim().split(/\s+/)) mkdirSync(dir, { recursive: true })
  }
  const file = path.join(root, name)
  writeFileSync(file, text)
  return { file, root }
}

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name))
  } catch {
    return []
  }
}

it('has examples, one of them tail → log → rolling files', () => {
  expect(examples).toContain('tail-to-log-to-files.conf')
})

describe.each(examples)('examples/%s', (name) => {
  it('passes --validate --strict', () => {
    const { file } = prepare(name)
    const result = spawnSync(process.execPath, [CLI_MAIN, 'pipeline', '-f', file, '--validate',
      '--strict'], { encoding: 'utf8' })
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/^agent \w+ /m)
    expect(result.stdout).toMatch(/ 0 warning\(s\)/)
  })

  it('starts, and stops cleanly on SIGTERM', async () => {
    const { file, root } = prepare(name)
    const pipeline = runCli(['pipeline', '-f', file])
    try {
      await pipeline.waitFor(/pipeline: agents started/, `${name} to start`, 30_000)
      if (name === 'tail-to-log-to-files.conf') {
        appendFileSync(path.join(root, 'tail/input/app.log'), 'hello from the example\n')
        await until('the line to reach the rolled files', () => filesUnder(
          path.join(root, 'tail/output')).some((f) =>
          readFileSync(f, 'utf8').includes('hello from the example')), 30_000)
      }
    } finally {
      pipeline.child.kill('SIGTERM')
    }
    expect(await pipeline.exited).toBe(0)
    expect(pipeline.output()).not.toMatch(/ERROR/)
  }, 60_000)
})
