// Counts what a crash test delivered against what it must deliver: lost (expected, never
// delivered), duplicates (deliveries past the first of the same value) and unexpected (delivered
// values nobody sent). At-least-once tests assert no loss and report the duplicates.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'

export interface DeliveryTally<T> {
  /** Each delivered value and how many times it was delivered. */
  seen: Map<T, number>
  lost: T[]
  duplicates: number
  /** Distinct delivered values that are not among the expected ones. */
  unexpected: T[]
  /** "N distinct, D duplicates, L lost", for the test's log line. */
  summary: string
}

export function tallyDelivery<T>(expected: Iterable<T>, delivered: Iterable<T>)
  : DeliveryTally<T> {
  const seen = new Map<T, number>()
  for (const value of delivered) seen.set(value, (seen.get(value) ?? 0) + 1)
  const wanted = new Set(expected)
  const lost = [...wanted].filter((value) => !seen.has(value))
  const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0)
  const unexpected = [...seen.keys()].filter((value) => !wanted.has(value))
  return { seen, lost, duplicates, unexpected,
    summary: `${seen.size} distinct, ${duplicates} duplicates, ${lost.length} lost` }
}

/** The non-empty lines of every file directly in `dir` (none while it does not exist yet). */
export function linesOfFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((file) =>
    readFileSync(path.join(dir, file), 'utf8').split('\n').filter((line) => line !== ''))
}
