/**
 * Record payloads for the bench: access-log-like text lines, generated from a seed so every run
 * writes the same bytes. Zeros or repeated bytes would flatter LZ4 (ratios of 100x+); lines with
 * timestamps, ids, paths and hex trace ids compress about 2x, as real logs do, so compressed
 * throughput figures stay honest.
 *
 * A value of N bytes is one or more lines joined by '\n', cut or padded (with more log text) to
 * exactly N bytes. The pool holds a few thousand distinct values; appenders cycle through it.
 */
import type { AppendRecord } from '../../src/engine/types.js'
import { seededRandom } from '../../src/seeded-random.js'

const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE']
const LEVELS = ['INFO', 'INFO', 'INFO', 'WARN', 'DEBUG', 'ERROR']
const PATHS = ['/api/v1/orders', '/api/v1/users', '/api/v2/search', '/static/app.js',
  '/api/v1/cart/items', '/healthz', '/api/v1/payments/authorize', '/login']
const STATUSES = [200, 200, 200, 201, 204, 304, 404, 500]
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64)', 'curl/8.5.0', 'okhttp/4.12.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)']

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!
}

function hex(random: () => number, digits: number): string {
  let text = ''
  while (text.length < digits) text += Math.floor(random() * 0x100000000).toString(16)
  return text.slice(0, digits)
}

/** One line such as `2024-05-01T12:00:03.120Z INFO 10.4.7.19 GET /api/v1/orders/4821 200 …`. */
export function logLine(random: () => number, sequence: number): string {
  const at = new Date(Date.UTC(2024, 4, 1) + sequence * 997 + Math.floor(random() * 1000))
  const ip = `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.` +
    `${Math.floor(random() * 256)}`
  return `${at.toISOString()} ${pick(random, LEVELS)} ${ip} ${pick(random, METHODS)} ` +
    `${pick(random, PATHS)}/${Math.floor(random() * 1_000_000)} ${pick(random, STATUSES)} ` +
    `trace=${hex(random, 16)} bytes=${Math.floor(random() * 20_000)} ` +
    `ms=${(random() * 250).toFixed(2)} user=u${Math.floor(random() * 50_000)} ` +
    `worker=${Math.floor(random() * 8)} ua="${pick(random, AGENTS)}"`
}

/** `count` distinct values of exactly `sizeBytes` bytes each. */
export function logLineValues(sizeBytes: number, count: number, seed = 0x51c0): Buffer[] {
  const random = seededRandom(seed ^ sizeBytes)
  const values: Buffer[] = []
  let sequence = 0
  for (let i = 0; i < count; i++) {
    let text = ''
    while (text.length < sizeBytes) {
      text += (text.length > 0 ? '\n' : '') + logLine(random, sequence++)
    }
    values.push(Buffer.from(text.slice(0, sizeBytes), 'latin1'))
  }
  return values
}

/** Groups of `recordsPerGroup` records cycling through `values`; each group is one append call. */
export function recordGroups(
  values: readonly Buffer[], recordsPerGroup: number, groupCount: number,
): AppendRecord[][] {
  const groups: AppendRecord[][] = []
  let next = 0
  for (let g = 0; g < groupCount; g++) {
    const group: AppendRecord[] = []
    for (let r = 0; r < recordsPerGroup; r++) {
      group.push({ value: values[next % values.length]! })
      next++
    }
    groups.push(group)
  }
  return groups
}

/** The concatenated values of one group: what LZ4 sees, give or take record framing. */
export function concatValues(group: readonly AppendRecord[]): Buffer {
  return Buffer.concat(group.map((record) => record.value as Buffer))
}
