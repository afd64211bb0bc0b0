/**
 * Value substitution (reference §1.5), applied to values only, never keys:
 *
 *   ${env:NAME}         the environment variable NAME
 *   ${NAME}             the environment variable NAME, else the value of the config key NAME
 *   ${f['KEY']}         config filter f (type env): the environment variable KEY; also ${f["K"]}
 *                       and ${f[K]}
 *
 * Anything unresolvable stays literal, as in Flume. Unlike Flume 1.11's MapResolver (which
 * resolves in hash order and so leaves chains half-resolved), references to other keys are
 * resolved to a fixpoint, bounded by MAX_ROUNDS so a cycle cannot loop.
 */
import type { PropertyEntry } from './properties.js'

const MAX_ROUNDS = 16
const REFERENCE = /\$\{([^}]+)\}/g
const FILTER_CALL = /^([A-Za-z0-9_-]+)\[\s*(?:'([^']*)'|"([^"]*)"|([^\]]*))\s*\]$/

export interface Substitution {
  env: Record<string, string | undefined>
  /** Config filter name → its type, for ${f['key']}. */
  filters: Map<string, string>
}

function resolveOne(expression: string, entries: Map<string, PropertyEntry>,
  substitution: Substitution): string | null {
  const inner = expression.trim()
  if (inner.startsWith('env:')) return substitution.env[inner.slice(4)] ?? null
  const call = FILTER_CALL.exec(inner)
  if (call !== null) {
    const type = substitution.filters.get(call[1]!)
    if (type?.toLowerCase() !== 'env') return null
    return substitution.env[call[2] ?? call[3] ?? call[4]!.trim()] ?? null
  }
  return substitution.env[inner] ?? entries.get(inner)?.value ?? null
}

export function substituteValues(entries: Map<string, PropertyEntry>,
  substitution: Substitution): Map<string, PropertyEntry> {
  let current = entries
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let changed = false
    const next = new Map<string, PropertyEntry>()
    for (const [key, entry] of current) {
      const value = entry.value.replace(REFERENCE, (whole, expression: string) => {
        const resolved = resolveOne(expression, current, substitution)
        if (resolved === null || resolved === whole) return whole
        changed = true
        return resolved
      })
      next.set(key, value === entry.value ? entry : { ...entry, value })
    }
    current = next
    if (!changed) break
  }
  return current
}
