/**
 * Threads load compiled JavaScript. From the build (dist/src/engine/) the workers sit at
 * dist/workers/; from the TypeScript sources (tests run them directly) we point at the same
 * compiled files, which `npm test` builds first.
 *
 * This is the one node:fs call outside src/io/: it looks up code, not data, so the FileSystem
 * rule (every data file through src/io/, so tests can inject faults) does not apply.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export function workerScriptPath(name: 'shard' | 'background'): string {
  const besideBuild = fileURLToPath(new URL(`../../workers/${name}.js`, import.meta.url))
  if (existsSync(besideBuild)) return besideBuild
  const fromSources = fileURLToPath(new URL(`../../dist/workers/${name}.js`, import.meta.url))
  if (existsSync(fromSources)) return fromSources
  throw new Error(`worker ${name}.js not found at ${besideBuild} or ${fromSources}: run npm run build`)
}
