/** Shared test helpers: temp directories that clean up, and bounded waiting on conditions. */
import { mkdtempSync, rmSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = fileURLToPath(new URL('..', import.meta.url))
export const distIndexUrl = new URL('../dist/src/index.js', import.meta.url).href

export function tempDir(prefix = 'sluice-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Polls `check` until it returns true; throws after `timeoutMs` naming what was awaited. */
export async function until(what: string, check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A seeded PRNG so randomized tests replay from the seed they print. */
export { seededRandom } from '../src/seeded-random.js'

export function seedFromEnv(name: string): number {
  const fromEnv = process.env[name]
  const seed = fromEnv !== undefined ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31)
  console.log(`${name}=${seed} (set it to replay this run)`)
  return seed
}
