// Counts what a crash test delivered against what it must deliver: lost (expected, never
// delivered), duplicates (deliveries past the first of the same value) and unexpected (delivered
// values nobody sent). At-least-once tests assert no loss and report the duplicates. Also the
// writer of the numbered lines the tailing tests count.
import { appendFileSync, existsSync, readdirSync, readFileSync, renameSync } from 'node:fs'
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

/**
 * Appends numbered lines (`line-0`, `line-1`, …) to `dir`/app.log, `linesPerAppend` a write,
 * and rotates it by rename to app.log.<n> every `linesPerFile` lines, as a logger does.
 */
export class RotatingLineWriter {
  written = 0
  private rotations = 0

  constructor(private readonly dir: string, private readonly linesPerFile: number,
    private readonly linesPerAppend: number) {}

  append(count: number): void {
    const log = path.join(this.dir, 'app.log')
    for (let done = 0; done < count; done += this.linesPerAppend) {
      const lines = Array.from({ length: Math.min(this.linesPerAppend, count - done) },
        () => `line-${this.written++}\n`)
      appendFileSync(log, lines.join(''))
      if (this.written >= (this.rotations + 1) * this.linesPerFile) {
        renameSync(log, path.join(this.dir, `app.log.${++this.rotations}`))
      }
    }
  }

  /** Appends a write's worth of lines every `pauseMs` while `keepGoing()` holds. */
  async appendWhile(keepGoing: () => boolean, pauseMs: number): Promise<void> {
    while (keepGoing()) {
      this.append(this.linesPerAppend)
      await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
  }
}
